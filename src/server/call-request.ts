import type { IncomingHttpHeaders } from 'node:http';
import { spendgateError } from '../errors/index.js';
import type { KeyRecord } from '../store/types.js';
import { canonicalQuery } from '../vendors/shared/body.js';
import type { Vendor, VendorRequest } from '../vendors/types.js';

/**
 * Headers that would make the vendor do something other than what was priced. They are refused, not just
 * dropped, so the caller learns that its override did not happen.
 */
const METHOD_OVERRIDES = ['x-http-method-override', 'x-http-method', 'x-method-override'];

/** Methods that read: they may carry a query string and never a body, and are free. */
const READS = new Set(['GET', 'HEAD']);

export interface CallInput {
  readonly method: string;
  /** The vendor's path, normalised. */
  readonly path: string;
  /** The raw query string, without `?`. */
  readonly rawQuery: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Builds what is priced and forwarded from what arrived: the canonical query and body, and only the headers
 * the vendor's allow-list names. Refuses, before anything is reserved, every input whose meaning to the
 * vendor could differ from its meaning to the pricing: a query string on a write (Stripe merges it into the
 * parameters), parameters on a DELETE, a body on a read, method overrides, and another account's header.
 */
export function buildVendorRequest(vendor: Vendor, key: KeyRecord, input: CallInput): VendorRequest {
  const { method, rawQuery } = input;
  const read = READS.has(method);
  if (!read && rawQuery !== '') refuseQuery(method, rawQuery);
  if ((read || method === 'DELETE') && (input.body.length > 0 || declaresBody(input.headers))) {
    throw spendgateError('param_not_allowed', `A ${method} request carries no body through spendgate`, {
      param: '(body)',
    });
  }
  const query = read ? canonicalQuery(rawQuery, vendor.arrayFormat).query : '';
  const parsed = vendor.parseBody({ contentType: contentType(input.headers), raw: input.body });
  return {
    method,
    path: input.path,
    query,
    headers: forwardedHeaders(vendor, key, input.headers),
    params: parsed.params,
    body: parsed.body,
    contentType: parsed.contentType,
  };
}

function refuseQuery(method: string, rawQuery: string): never {
  const first = rawQuery.split('&').find((part) => part !== '') ?? '';
  const name = safeDecode(first.split('=')[0] ?? '');
  throw spendgateError(
    'param_not_allowed',
    `Query parameter \`${name}\` is not accepted on ${method}: send parameters in the body, where they are priced`,
    { param: name },
  );
}

/** Fastify does not read a GET's body, so its framing headers are what show that one was sent. */
function declaresBody(headers: IncomingHttpHeaders): boolean {
  const length = Number(headers['content-length'] ?? 0);
  return headers['transfer-encoding'] !== undefined || (Number.isFinite(length) && length > 0);
}

function contentType(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['content-type'];
  return typeof value === 'string' ? value : undefined;
}

/** The client's headers that the vendor may see: its allow-list, plus permitted account headers. */
function forwardedHeaders(vendor: Vendor, key: KeyRecord, headers: IncomingHttpHeaders): IncomingHttpHeaders {
  for (const name of METHOD_OVERRIDES) {
    if (headers[name] !== undefined) {
      throw spendgateError('header_not_allowed', `The ${name} header is not accepted: use the real method`, {
        header: name,
      });
    }
  }
  const forwarded: IncomingHttpHeaders = {};
  for (const name of vendor.forwardHeaders) {
    const value = headers[name];
    if (value !== undefined) forwarded[name] = value;
  }
  for (const name of vendor.accountHeaders) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !key.connectedAccounts.includes(value)) {
      throw spendgateError(
        'account_not_allowed',
        `Key ${key.id} may not act on account ${String(value).slice(0, 64)} (${name}); list it in the key's connected_accounts`,
        { key_id: key.id, header: name },
      );
    }
    forwarded[name] = value;
  }
  return forwarded;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' ')).slice(0, 100);
  } catch {
    return text.slice(0, 100);
  }
}
