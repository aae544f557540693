import { z } from 'zod';
import { isRecord } from '../client/response-error.js';
import { defineSpendTool } from './define-tool.js';
import { STOP_RULE } from './shared-fields.js';
import type { SpendTool } from './types.js';

/**
 * An AccountSid for the path. The proxy swaps in the real one, so the vault key is all the tool needs;
 * Twilio's own SDK insists on an `AC` prefix, and so does the proxy's path rule.
 */
export const PLACEHOLDER_TWILIO_ACCOUNT_SID = 'AC00000000000000000000000000000000';

export interface SendSmsOptions {
  /** The sender: an E.164 number (`+15017122661`) or a Messaging Service SID (`MG…`). The model cannot change it. */
  readonly from: string;
  /** The AccountSid to put in the path; the proxy replaces it with the real one. */
  readonly accountSid?: string;
  /** @default 'send_sms' */
  readonly name?: string;
  /** Replaces the description the model reads. */
  readonly description?: string;
}

/**
 * A tool that sends one SMS through Twilio: `POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded,
 * with the vault key as the Basic username. Twilio has no idempotency key for messages, so a call whose
 * answer was lost is reported as "outcome unknown, do not retry", never as safe to repeat.
 */
export function sendSmsTool(options: SendSmsOptions): SpendTool {
  const accountSid = options.accountSid ?? PLACEHOLDER_TWILIO_ACCOUNT_SID;
  const inputSchema = z.object({
    to: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as +15558675310')
      .describe('The recipient\'s phone number in E.164 form, e.g. "+15558675310".'),
    body: z
      .string()
      .min(1)
      .max(1600)
      .describe('The message text. Long texts are billed per 160-character segment.'),
  });
  const sender = options.from.startsWith('MG')
    ? { MessagingServiceSid: options.from }
    : { From: options.from };
  return defineSpendTool({
    name: options.name ?? 'send_sms',
    description:
      options.description ??
      `Send one text message (SMS) to a phone number. Each call sends and bills a new message, so call it once per message. ${STOP_RULE}`,
    inputSchema,
    vendor: 'twilio',
    endpoints: ['POST /2010-04-01/Accounts/*/Messages.json'],
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    idempotent: false,
    request: (input) => ({
      method: 'POST',
      path: `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
      auth: 'basic',
      body: { form: { To: input.to, Body: input.body, ...sender } },
    }),
    summarize(body, input) {
      const message = isRecord(body) ? body : {};
      return {
        message_sid: typeof message.sid === 'string' ? message.sid : null,
        status: typeof message.status === 'string' ? message.status : null,
        to: input.to,
        segments: typeof message.num_segments === 'string' ? Number(message.num_segments) : null,
      };
    },
  });
}
