import type { Params } from './stripe-params.js';
import type { StripeStore } from './stripe-store.js';

/** One Stripe call after authentication: its parameters, the ids from its path, and the fake's objects. */
export interface StripeCall {
  readonly params: Params;
  readonly ids: Readonly<Record<string, string>>;
  readonly store: StripeStore;
}

/**
 * A handler's answer once the operation ran (a decline is a 402 answer, not a thrown error: the attempt is
 * recorded and Stripe saves it for idempotency). Validation failures throw a `StripeFailure` instead.
 */
export interface StripeResult {
  readonly status: number;
  readonly body: unknown;
}

export type StripeHandler = (call: StripeCall) => StripeResult;

export function ok(body: unknown): StripeResult {
  return { status: 200, body: structuredClone(body) };
}

/** The `id` path parameter (every route that uses it has it). */
export function pathId(call: StripeCall): string {
  return call.ids.id ?? '';
}
