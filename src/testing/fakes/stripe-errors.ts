import { jsonResponse } from './json.js';
import type { FakeResponse } from './types.js';

/** Stripe's error object: https://docs.stripe.com/api/errors */
export interface StripeErrorFields {
  readonly type: 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';
  readonly message: string;
  readonly code?: string;
  readonly param?: string;
  readonly decline_code?: string;
  readonly doc_url?: string;
  readonly charge?: string;
  readonly payment_intent?: unknown;
}

/** Thrown inside the Stripe fake's handlers to answer with an error; caught once at the top. */
export class StripeFailure extends Error {
  constructor(readonly response: FakeResponse) {
    super(`Stripe fake error ${response.status}`);
  }
}

export function stripeError(status: number, fields: StripeErrorFields): FakeResponse {
  return jsonResponse(status, { error: fields });
}

export function fail(status: number, fields: StripeErrorFields): never {
  throw new StripeFailure(stripeError(status, fields));
}

export function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`;
}

/** 400 `parameter_missing`, as Stripe answers a create without a required field. */
export function missingParam(param: string): never {
  fail(400, {
    type: 'invalid_request_error',
    code: 'parameter_missing',
    param,
    message: `Missing required param: ${param}.`,
    doc_url: docUrl('parameter_missing'),
  });
}

/** 404 `resource_missing` for an unknown id. */
export function noSuch(object: string, id: string, param = 'id'): never {
  fail(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    param,
    message: `No such ${object}: '${id}'`,
    doc_url: docUrl('resource_missing'),
  });
}

/** 401 for a missing or wrong secret key; the key is masked the way Stripe masks it. */
export function authError(key: string | null): FakeResponse {
  const message =
    key === null
      ? "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
      : `Invalid API Key provided: ${maskKey(key)}`;
  return stripeError(401, { type: 'invalid_request_error', message });
}

/** `sk_test_abc…1234` → `sk_test_****1234`: the prefix and the last four characters only. */
export function maskKey(key: string): string {
  const prefix = /^(?:sk|rk|pk)_(?:test|live)_/.exec(key)?.[0] ?? '';
  const rest = key.slice(prefix.length);
  return `${prefix}****${rest.length > 4 ? rest.slice(-4) : ''}`;
}

/** The envelope for a failure injected with `failNext` when the test gives no body. */
export function injectedStripeError(status: number): unknown {
  if (status === 429) {
    return {
      error: {
        type: 'invalid_request_error',
        code: 'rate_limit',
        message:
          'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
        doc_url: docUrl('rate_limit'),
      },
    };
  }
  if (status >= 500) {
    return {
      error: { type: 'api_error', message: `An unknown error occurred (fake Stripe answered ${status}).` },
    };
  }
  return {
    error: { type: 'invalid_request_error', message: `The fake Stripe was told to answer ${status}.` },
  };
}
