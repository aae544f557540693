import { spendgateError } from '../../errors/index.js';
import { decodeForm, encodeForm, type FormEncodeOptions } from '../../wire/form.js';
import type { ParsedBody } from '../types.js';

const FORM = 'application/x-www-form-urlencoded';

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * For form-encoded vendors (Stripe, Twilio): accepts the vendor's own form body, or JSON as both seeds send,
 * and forwards form encoding either way.
 */
export function parseFormOrJsonBody(
  input: { readonly contentType: string | undefined; readonly raw: Buffer },
  options: FormEncodeOptions,
): ParsedBody {
  if (input.raw.length === 0) return { params: null, body: input.raw, contentType: null };
  const type = mediaType(input.contentType);
  if (type === 'application/json' || type.endsWith('+json')) {
    const params = parseJsonBody(input.raw);
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw spendgateError('bad_request', 'A JSON body for this vendor must be an object');
    }
    const body = Buffer.from(encodeForm(params as Record<string, unknown>, options));
    return { params: decodeForm(body.toString('utf8')), body, contentType: FORM };
  }
  if (type === FORM || type === '') {
    return { params: decodeForm(input.raw.toString('utf8')), body: input.raw, contentType: FORM };
  }
  throw spendgateError('unsupported_media_type', `Content-Type ${type} is not accepted for this vendor`);
}

/** For JSON vendors (Resend). */
export function parseJsonOnlyBody(input: {
  readonly contentType: string | undefined;
  readonly raw: Buffer;
}): ParsedBody {
  if (input.raw.length === 0) return { params: null, body: input.raw, contentType: null };
  return { params: parseJsonBody(input.raw), body: input.raw, contentType: 'application/json' };
}

export function parseJsonBody(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw spendgateError('invalid_json', 'The request body is not valid JSON');
  }
}
