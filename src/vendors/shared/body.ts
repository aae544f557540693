import { spendgateError, type SpendgateError } from '../../errors/index.js';
import {
  checkJsonLimits,
  decodeForm,
  encodeForm,
  FormError,
  type ArrayFormat,
  type FormObject,
} from '../../wire/form.js';
import type { ParsedBody } from '../types.js';

const FORM = 'application/x-www-form-urlencoded';

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function isJson(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/**
 * For form-encoded vendors (Stripe, Twilio): accepts the vendor's own form body, or JSON as both seeds send.
 * Either way the forwarded body is the canonical re-encoding of what was parsed, never the client's bytes, so
 * the vendor's parser can only ever see what the pricing saw.
 */
export function parseFormOrJsonBody(
  input: { readonly contentType: string | undefined; readonly raw: Buffer },
  arrayFormat: ArrayFormat,
): ParsedBody {
  if (input.raw.length === 0) return { params: null, body: input.raw, contentType: null };
  const type = mediaType(input.contentType);
  if (isJson(type)) {
    const json = parseJsonBody(input.raw);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw spendgateError('bad_request', 'A JSON body for this vendor must be an object');
    }
    return canonicalForm(encodeJsonAsForm(json as Record<string, unknown>, arrayFormat), arrayFormat);
  }
  if (type === FORM || type === '') return canonicalForm(input.raw.toString('utf8'), arrayFormat);
  throw spendgateError('unsupported_media_type', `Content-Type ${type} is not accepted for this vendor`);
}

/** For JSON vendors (Resend): the forwarded body is the parsed value serialised again. */
export function parseJsonOnlyBody(input: {
  readonly contentType: string | undefined;
  readonly raw: Buffer;
}): ParsedBody {
  if (input.raw.length === 0) return { params: null, body: input.raw, contentType: null };
  const type = mediaType(input.contentType);
  if (type !== '' && !isJson(type)) {
    throw spendgateError('unsupported_media_type', `Content-Type ${type} is not accepted for this vendor`);
  }
  const params = parseJsonBody(input.raw);
  guard(() => checkJsonLimits(params));
  return { params, body: Buffer.from(JSON.stringify(params)), contentType: 'application/json' };
}

/**
 * A query string decoded strictly and re-encoded canonically; `''` when empty. Only reads carry one (the proxy
 * refuses a query string on anything else), but even a read gets the vendor no byte that was not parsed.
 */
export function canonicalQuery(
  query: string,
  arrayFormat: ArrayFormat,
): { params: FormObject; query: string } {
  if (query === '') return { params: {}, query: '' };
  const { params, text } = decodeCanonical(query, arrayFormat);
  return { params, query: text };
}

export function parseJsonBody(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw spendgateError('invalid_json', 'The request body is not valid JSON');
  }
}

function canonicalForm(text: string, arrayFormat: ArrayFormat): ParsedBody {
  const { params, text: canonical } = decodeCanonical(text, arrayFormat);
  return { params, body: Buffer.from(canonical), contentType: FORM };
}

/**
 * Decodes strictly, re-encodes, and checks that the encoding is a fixpoint: decoding it again and encoding
 * gives the same text. A form that does not survive that trip has no single meaning, so it is refused.
 */
function decodeCanonical(text: string, arrayFormat: ArrayFormat): { params: FormObject; text: string } {
  return guard(() => {
    const params = decodeForm(text, { strict: true, arrayFormat });
    const canonical = encodeForm(params, { arrayFormat });
    if (encodeForm(decodeForm(canonical, { strict: true, arrayFormat }), { arrayFormat }) !== canonical) {
      throw new FormError('invalid', 'the parameters do not re-encode unambiguously');
    }
    return { params, text: canonical };
  });
}

function encodeJsonAsForm(json: Record<string, unknown>, arrayFormat: ArrayFormat): string {
  return guard(() => {
    checkJsonLimits(json);
    try {
      return encodeForm(json, { arrayFormat });
    } catch (err) {
      // encodeURIComponent throws URIError on a lone surrogate, which JSON can carry.
      if (err instanceof URIError) throw new FormError('invalid', 'a value is not valid Unicode text');
      throw err;
    }
  });
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FormError) throw formRefusal(err);
    throw err;
  }
}

function formRefusal(err: FormError): SpendgateError {
  const details = err.param === null ? {} : { param: err.param };
  if (err.kind === 'limit') {
    return spendgateError('param_limit_exceeded', `The request is over a limit: ${err.message}`, details);
  }
  return spendgateError('param_invalid', `The request's parameters are ambiguous: ${err.message}`, details);
}
