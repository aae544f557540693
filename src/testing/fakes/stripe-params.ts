import { decodeForm, type FormObject } from '../../wire/form.js';
import { docUrl, fail, missingParam } from './stripe-errors.js';
import type { FakeRequest } from './types.js';

/** Reading Stripe's form parameters the way Stripe validates them. Every failure throws a Stripe 400. */
export type Params = FormObject;

/**
 * A request's parameters as Stripe sees them: one bucket, as in the Rack parser the API inherited. A GET has
 * only its query string; any other method has its query string merged with its form body, so
 * `POST /v1/payment_intents/pi_1?amount=500000` with body `description=x` does update the amount. On a
 * conflict the body wins, key by top-level key (Rack's `GET.merge(POST)`): body `metadata[b]=2` replaces a query
 * `metadata[a]=1` as a whole rather than merging into it.
 */
export function requestParams(req: FakeRequest): Params {
  const query = decodeForm(req.query);
  if (req.method === 'GET') return query;
  return { ...query, ...decodeForm(req.body.toString('utf8')) };
}

/** Stripe's ceiling on `amount`: 8 digits. */
const MAX_AMOUNT = 99_999_999;

export function optionalString(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') invalid(name, `Invalid string: ${name} must be a string`);
  return value === '' ? undefined : value;
}

export function requiredString(params: Params, name: string): string {
  return optionalString(params, name) ?? missingParam(name);
}

export function optionalInteger(params: Params, name: string): number | undefined {
  const value = optionalString(params, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    fail(400, {
      type: 'invalid_request_error',
      code: 'parameter_invalid_integer',
      param: name,
      message: `Invalid integer: ${value}`,
      doc_url: docUrl('parameter_invalid_integer'),
    });
  }
  return Number(value);
}

/** A positive amount in minor units, at most 99999999. */
export function amountParam(params: Params, name: string, required: true): number;
export function amountParam(params: Params, name: string, required: false): number | undefined;
export function amountParam(params: Params, name: string, required: boolean): number | undefined {
  const amount = optionalInteger(params, name);
  if (amount === undefined) return required ? missingParam(name) : undefined;
  if (amount < 1)
    invalid(name, 'This value must be greater than or equal to 1.', 'parameter_invalid_integer');
  if (amount > MAX_AMOUNT) {
    fail(400, {
      type: 'invalid_request_error',
      code: 'amount_too_large',
      param: name,
      message: 'Amount must be no more than 99999999 in the smallest currency unit.',
      doc_url: docUrl('amount_too_large'),
    });
  }
  return amount;
}

/** A three-letter ISO code, lower-cased as Stripe returns it. */
export function currencyParam(params: Params, name = 'currency'): string {
  const value = requiredString(params, name);
  if (!/^[a-zA-Z]{3}$/.test(value)) invalid(name, `Invalid currency: ${value.toLowerCase()}.`);
  return value.toLowerCase();
}

export function booleanParam(params: Params, name: string): boolean | undefined {
  const value = optionalString(params, name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') invalid(name, `Invalid boolean: ${value}`);
  return value === 'true';
}

export function enumParam<T extends string>(
  params: Params,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = optionalString(params, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    invalid(name, `Invalid ${name}: must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** `metadata[k]=v` pairs. An empty value deletes the key on update, as in Stripe; `metadata=` clears all. */
export function mergeMetadata(params: Params, current: Record<string, string> = {}): Record<string, string> {
  const value = params.metadata;
  if (value === undefined) return current;
  if (value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) invalid('metadata', 'Invalid object');
  const next = { ...current };
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') invalid(`metadata[${key}]`, 'Metadata values must be strings.');
    if (entry === '') delete next[key];
    else next[key] = entry;
  }
  return next;
}

function invalid(param: string, message: string, code?: string): never {
  fail(400, { type: 'invalid_request_error', param, message, ...(code ? { code } : {}) });
}
