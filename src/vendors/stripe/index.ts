import type { IncomingHttpHeaders } from 'node:http';
import { parseFormOrJsonBody } from '../shared/body.js';
import type { Vendor, VendorRequest } from '../types.js';
import { checkStripeParams, estimateStripeCost, stripeResponseCost } from './pricing.js';

/** Calls that create a payment, whose response states the amount that moved. */
const CREATES = new Set(['/v1/payment_intents', '/v1/charges']);
/** Creates whose object the key may later act on (confirm, capture, refund, update, delete). */
const OWNED = new Set([...CREATES, '/v1/customers']);

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Stripe: Bearer credentials (or Basic with the key as username, which Stripe also accepts), form bodies,
 * and an `Idempotency-Key` on every POST from the official SDK. Idempotency is scoped by connected account,
 * as Stripe scopes it.
 */
export function createStripeVendor(): Vendor {
  return {
    name: 'stripe',
    defaultBaseUrl: 'https://api.stripe.com',
    secretNames: ['secretKey'],
    parseBody: (input) => parseFormOrJsonBody(input, 'indices'),
    arrayFormat: 'indices',
    // What stripe-node sends that Stripe reads. Telemetry headers are left out: they only echo request ids.
    forwardHeaders: new Set(['accept', 'user-agent', 'stripe-version', 'idempotency-key']),
    accountHeaders: new Set(['stripe-account', 'stripe-context']),
    checkParams: checkStripeParams,
    idempotencyKey(request: VendorRequest) {
      if (request.method !== 'POST') return null;
      const key = header(request.headers, 'idempotency-key');
      if (key === null) return null;
      const account =
        header(request.headers, 'stripe-account') ?? header(request.headers, 'stripe-context') ?? '';
      // Stripe scopes keys by connected account. JSON keeps the pair unambiguous and free of NUL bytes,
      // which PostgreSQL text cannot hold.
      return JSON.stringify([account, key]);
    },
    estimateCost: estimateStripeCost,
    // Only a create states what that call moved; a confirm or capture response repeats the intent's amount,
    // which was already counted when the intent was created.
    actualCost: (request, response, estimate, context) =>
      CREATES.has(request.path) ? (stripeResponseCost(response.json, context) ?? estimate) : estimate,
    createdObjectId(request, response) {
      if (request.method !== 'POST' || !OWNED.has(request.path)) return null;
      const id = (response.json as { id?: unknown } | undefined)?.id;
      return typeof id === 'string' ? id : null;
    },
    upstream(request, secrets) {
      return {
        path: request.path,
        headers: { authorization: `Bearer ${secrets.secretKey ?? ''}` },
      };
    },
    vendorRequestId: (headers) => {
      const id = headers['request-id'];
      return typeof id === 'string' ? id : null;
    },
  };
}
