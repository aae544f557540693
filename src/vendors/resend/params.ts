import { z } from 'zod';
import { checkParams, params } from '../shared/param-schema.js';
import type { VendorRequest } from '../types.js';

/**
 * The fields of Resend's `POST /emails` as resend-node sends them (https://resend.com/docs/api-reference/emails/send-email).
 * Recipients are what is priced, so they must be strings or arrays of strings; the rest is content.
 */
const text = z.string().nullable();
const recipients = z.union([z.string(), z.array(z.string())]).nullable();

const attachment = params({
  content: text,
  filename: text,
  path: text,
  content_type: text,
  content_id: text,
});

export const emailSchema = params({
  from: text,
  to: recipients,
  cc: recipients,
  bcc: recipients,
  reply_to: recipients,
  subject: text,
  html: text,
  text,
  // Custom headers may not add recipients: a Cc or Bcc here would be mail the price never counted.
  headers: z
    .record(
      z.string().refine((name) => !/^(to|cc|bcc)$/i.test(name.trim()), 'may not set To, Cc or Bcc'),
      z.string(),
    )
    .nullable(),
  attachments: z.array(attachment).nullable(),
  tags: z.array(params({ name: z.string(), value: z.string() })).nullable(),
  scheduled_at: text,
  topic_id: text,
  template: params({ id: z.string(), variables: z.record(z.string(), z.unknown()) }).nullable(),
});

/** Cancelling a scheduled email takes no parameters. */
const nothing = z.union([z.null(), params({})]);

export function checkResendParams(request: VendorRequest): void {
  if (request.method !== 'POST') return;
  const endpoint = `POST ${request.path}`;
  if (request.path === '/emails') {
    checkParams(emailSchema, request.params, { endpoint, style: 'json' });
  } else if (request.path === '/emails/batch') {
    checkParams(z.array(emailSchema), request.params, { endpoint, style: 'json' });
  } else if (/^\/emails\/[^/]+\/cancel$/.test(request.path)) {
    checkParams(nothing, request.params, { endpoint, style: 'json' });
  }
}
