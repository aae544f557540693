import { parseJsonOnlyBody } from '../shared/body.js';
import type { Vendor } from '../types.js';
import { checkResendParams } from './params.js';
import { estimateResendCost, resolveResendPrice, type ResendPricing } from './pricing.js';

export type { ResendPricing } from './pricing.js';
export { countRecipients } from './pricing.js';

/**
 * Resend: Bearer credentials, JSON bodies, and an optional `Idempotency-Key` on `POST /emails` and
 * `POST /emails/batch`. Cost is a flat per-email price per recipient; Resend's response states no price, so
 * calls settle at the estimate.
 */
export function createResendVendor(options: ResendPricing = {}): Vendor {
  const perEmail = resolveResendPrice(options);
  return {
    name: 'resend',
    defaultBaseUrl: 'https://api.resend.com',
    secretNames: ['apiKey'],
    parseBody: (input) => parseJsonOnlyBody(input),
    arrayFormat: 'repeat',
    // `x-batch-validation` (strict or permissive) decides whether a batch with a bad email sends the rest;
    // pricing counts every email of the batch either way.
    forwardHeaders: new Set(['accept', 'user-agent', 'idempotency-key', 'x-batch-validation']),
    accountHeaders: new Set(),
    checkParams: checkResendParams,
    idempotencyKey(request) {
      if (request.method !== 'POST') return null;
      const key = request.headers['idempotency-key'];
      return typeof key === 'string' && key !== '' ? key : null;
    },
    estimateCost: (request) => estimateResendCost(request, perEmail),
    actualCost: (_request, _response, estimate) => estimate,
    createdObjectId: () => null,
    upstream(request, secrets) {
      return { path: request.path, headers: { authorization: `Bearer ${secrets.apiKey ?? ''}` } };
    },
    // Resend sends no request id header; the email id is what its dashboard and support correlate on.
    vendorRequestId(headers, json) {
      const header = headers['x-request-id'] ?? headers['request-id'];
      if (typeof header === 'string' && header !== '') return header;
      const id = (json as { id?: unknown } | null | undefined)?.id;
      return typeof id === 'string' ? id : null;
    },
  };
}
