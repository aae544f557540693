import { z } from 'zod';
import { isRecord } from '../client/response-error.js';
import { defineSpendTool } from './define-tool.js';
import { retryOfField, STOP_RULE } from './shared-fields.js';
import type { SpendTool } from './types.js';

export interface SendEmailOptions {
  /** The sender, e.g. `"Acme <billing@acme.test>"`. The model cannot change it. */
  readonly from: string;
  readonly replyTo?: string;
  /**
   * The most recipients one call may address; each recipient is billed.
   * @default 10
   */
  readonly maxRecipients?: number;
  /** @default 'send_email' */
  readonly name?: string;
  /** Replaces the description the model reads. */
  readonly description?: string;
}

/**
 * A tool that sends one email through Resend: `POST /emails` (JSON) with `to`, `subject`, `text` and/or
 * `html`, under an `Idempotency-Key` derived from the tool call id.
 */
export function sendEmailTool(options: SendEmailOptions): SpendTool {
  const inputSchema = z
    .object({
      to: z
        .array(z.email())
        .min(1)
        .max(options.maxRecipients ?? 10)
        .describe('Recipient email addresses.'),
      subject: z.string().min(1).max(998).describe('The subject line.'),
      text: z.string().optional().describe('The plain-text body. Give text, html, or both.'),
      html: z.string().optional().describe('The HTML body. Give text, html, or both.'),
      retry_of: retryOfField,
    })
    .refine((input) => Boolean(input.text ?? input.html), { message: 'give text or html', path: ['text'] });
  return defineSpendTool({
    name: options.name ?? 'send_email',
    description:
      options.description ??
      `Send one email. Each call sends and bills a new email per recipient, so call it once per message. ${STOP_RULE}`,
    inputSchema,
    vendor: 'resend',
    endpoints: ['POST /emails'],
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
    idempotent: true,
    retryOf: (input) => input.retry_of,
    request: (input) => ({
      method: 'POST',
      path: '/emails',
      auth: 'bearer',
      body: {
        json: {
          from: options.from,
          to: input.to,
          subject: input.subject,
          ...(input.text === undefined ? {} : { text: input.text }),
          ...(input.html === undefined ? {} : { html: input.html }),
          ...(options.replyTo === undefined ? {} : { reply_to: options.replyTo }),
        },
      },
    }),
    summarize(body, input) {
      const email = isRecord(body) ? body : {};
      return { email_id: typeof email.id === 'string' ? email.id : null, to: input.to };
    },
  });
}
