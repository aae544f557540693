import { z } from 'zod';
import { checkParams, form, params } from '../shared/param-schema.js';
import type { VendorRequest } from '../types.js';

/**
 * The parameters of Twilio's Messages API as twilio-node sends them
 * (https://www.twilio.com/docs/messaging/api/message-resource). `ContentSid` is accepted here so that pricing
 * can refuse it with a reason: a content template cannot be priced from `Body`.
 */
const { text } = form;
const oneOrMany = z.union([text, form.list]);
/** An empty MediaUrl could leave Twilio sending a long SMS where one MMS was priced. */
const mediaUrls = z.union([z.string().min(1), z.array(z.string().min(1))]);

const messageCreate = params({
  To: text,
  From: text,
  MessagingServiceSid: text,
  FallbackFrom: text,
  // Twilio refuses a body over 1,600 characters (error 21617); refusing it here also bounds the work of
  // counting its segments.
  Body: z.string().max(1600, 'must be at most 1,600 characters (Twilio’s limit)'),
  MediaUrl: mediaUrls,
  SendAsMms: text,
  ContentSid: text,
  ContentVariables: text,
  StatusCallback: text,
  ApplicationSid: text,
  MaxPrice: text,
  ProvideFeedback: text,
  Attempt: text,
  ValidityPeriod: text,
  ForceDelivery: text,
  ContentRetention: text,
  AddressRetention: text,
  SmartEncoded: text,
  PersistentAction: oneOrMany,
  TrafficType: text,
  // ShortenUrls is left out: Twilio swaps each link for its own, which can be longer than a short original,
  // so the body Twilio bills could have more segments than the one priced here.
  ScheduleType: text,
  SendAt: text,
  MessageIntent: text,
  RiskCheck: text,
});

/** Updating a message can only redact its body (to `''`) or cancel a scheduled send: it never sends one. */
const messageUpdate = params({ Body: z.literal(''), Status: z.literal('canceled') });

const MESSAGES = /^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/;
const MESSAGE = /^\/2010-04-01\/Accounts\/[^/]+\/Messages\/[^/]+\.json$/;

export function checkTwilioParams(request: VendorRequest): void {
  if (request.method !== 'POST') return;
  if (MESSAGES.test(request.path)) {
    checkParams(messageCreate, request.params, { endpoint: 'POST …/Messages.json', style: 'form' });
  } else if (MESSAGE.test(request.path)) {
    checkParams(messageUpdate, request.params, { endpoint: 'POST …/Messages/{Sid}.json', style: 'form' });
  }
}
