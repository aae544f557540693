import { countSmsSegments } from '../../vendors/twilio/segments.js';
import type { FormObject } from '../../wire/form.js';
import { randomHex } from './ids.js';
import { twilioFail } from './twilio-errors.js';

/** The Message resource: https://www.twilio.com/docs/messaging/api/message-resource */
export interface MessageResource {
  sid: string;
  account_sid: string;
  messaging_service_sid: string | null;
  to: string;
  from: string | null;
  body: string;
  status: 'queued' | 'accepted' | 'sent';
  num_segments: string;
  num_media: string;
  direction: 'outbound-api';
  api_version: '2010-04-01';
  price: string | null;
  price_unit: 'USD';
  error_code: number | null;
  error_message: string | null;
  date_created: string;
  date_updated: string;
  date_sent: string | null;
  uri: string;
  subresource_uris: { media: string };
}

export interface StoredMessage {
  readonly resource: MessageResource;
  /** What Twilio will bill once the message is sent. */
  readonly priceMicros: number;
  readonly segments: number;
}

export interface MessagePrices {
  readonly perSegmentMicros: number;
  readonly perMmsMicros: number;
}

/** Twilio test credentials' magic `To` numbers (https://www.twilio.com/docs/iam/test-credentials). */
const MAGIC_TO: Readonly<Record<string, readonly [number, (to: string) => string]>> = {
  '+15005550001': [21211, (to) => `The 'To' number ${to} is not a valid phone number.`],
  '+15005550002': [21612, (to) => `The 'To' phone number: ${to}, is not currently reachable via SMS.`],
  '+15005550003': [
    21408,
    (to) =>
      `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${to}.`,
  ],
  '+15005550004': [21610, () => 'Attempt to send to unsubscribed recipient'],
  '+15005550009': [21614, (to) => `'To' number ${to} is not a valid mobile number`],
};

const E164 = /^\+[1-9]\d{1,14}$/;
/** The sender the fake assigns to messages sent through a Messaging Service. */
const SERVICE_SENDER = '+15005550006';

/**
 * Validates a create the way Twilio does (required fields first, then the number) and builds the stored
 * message. Throws a `TwilioFailure` for the first problem found.
 */
export function createMessage(accountSid: string, params: FormObject, prices: MessagePrices): StoredMessage {
  const to = single(params, 'To');
  const from = single(params, 'From');
  const service = single(params, 'MessagingServiceSid');
  const body = single(params, 'Body') ?? '';
  const media = params.MediaUrl === undefined ? [] : ([] as unknown[]).concat(params.MediaUrl);
  if (to === undefined || to === '') twilioFail(400, 21604, "A 'To' phone number is required.");
  if (!from && !service) twilioFail(400, 21603, "A 'From' phone number is required.");
  if (body === '' && media.length === 0) twilioFail(400, 21602, 'Message body is required.');
  if (body.length > 1600) {
    twilioFail(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
  }
  const magic = MAGIC_TO[to];
  if (magic) twilioFail(400, magic[0], magic[1](to));
  if (!E164.test(to)) twilioFail(400, 21211, `The 'To' number ${to} is not a valid phone number.`);

  const mms = media.length > 0;
  const sid = `${mms ? 'MM' : 'SM'}${randomHex(32)}`;
  const segments = mms ? 1 : countSmsSegments(body).segments;
  const now = rfc2822(new Date());
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`;
  const viaService = !from;
  return {
    segments,
    priceMicros: mms ? prices.perMmsMicros : segments * prices.perSegmentMicros,
    resource: {
      sid,
      account_sid: accountSid,
      messaging_service_sid: service ?? null,
      to,
      from: from ?? null,
      body,
      // Through a Messaging Service no sender is chosen yet: `accepted`, and no segments counted (vendors.md §2.2).
      status: viaService ? 'accepted' : 'queued',
      num_segments: viaService ? '0' : String(segments),
      num_media: String(media.length),
      direction: 'outbound-api',
      api_version: '2010-04-01',
      price: null,
      price_unit: 'USD',
      error_code: null,
      error_message: null,
      date_created: now,
      date_updated: now,
      date_sent: null,
      uri,
      subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
    },
  };
}

/** Marks a stored message sent and priced, as a later fetch from Twilio shows it. */
export function deliver(message: StoredMessage): MessageResource {
  const resource = message.resource;
  if (resource.status !== 'sent') {
    const now = rfc2822(new Date());
    resource.status = 'sent';
    resource.from = resource.from ?? SERVICE_SENDER;
    resource.num_segments = String(message.segments);
    resource.date_sent = now;
    resource.date_updated = now;
    resource.price = formatTwilioPrice(message.priceMicros);
  }
  return resource;
}

/**
 * Twilio's price string: negative (money out), at least five decimals (`8300` → `"-0.00830"`), exact.
 */
export function formatTwilioPrice(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  const fraction = String(micros % 1_000_000)
    .padStart(6, '0')
    .replace(/0$/, '');
  return `-${whole}.${fraction}`;
}

/** `Thu, 24 Aug 2023 05:01:45 +0000`. */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function single(params: FormObject, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') twilioFail(400, 21000, `Parameter '${name}' must be given once.`);
  return value;
}
