import { randomAlnum } from './ids.js';
import { fail, noSuch } from './stripe-errors.js';
import { optionalInteger, optionalString, type Params } from './stripe-params.js';

/** The objects the Stripe fake keeps, shaped like the API's (only the fields a caller is likely to read). */
export interface StripeObject {
  id: string;
  object: string;
  created: number;
  livemode: false;
  metadata: Record<string, string>;
}

export type IntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export interface PaymentIntent extends StripeObject {
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: 'automatic' | 'automatic_async' | 'manual';
  client_secret: string;
  confirmation_method: 'automatic' | 'manual';
  currency: string;
  customer: string | null;
  description: string | null;
  last_payment_error: unknown;
  latest_charge: string | null;
  next_action: null;
  payment_method: string | null;
  payment_method_types: string[];
  status: IntentStatus;
}

export interface Charge extends StripeObject {
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  balance_transaction: string | null;
  captured: boolean;
  currency: string;
  customer: string | null;
  description: string | null;
  failure_code: string | null;
  failure_message: string | null;
  paid: boolean;
  payment_intent: string | null;
  payment_method: string | null;
  refunded: boolean;
  status: 'succeeded' | 'pending' | 'failed';
}

export interface Refund extends StripeObject {
  object: 'refund';
  amount: number;
  balance_transaction: string;
  charge: string;
  currency: string;
  payment_intent: string | null;
  reason: string | null;
  status: 'succeeded';
}

export interface Customer extends StripeObject {
  object: 'customer';
  balance: number;
  description: string | null;
  email: string | null;
  name: string | null;
  phone: string | null;
}

export interface Payout extends StripeObject {
  object: 'payout';
  amount: number;
  arrival_date: number;
  currency: string;
  description: string | null;
  method: string;
  status: 'pending';
  type: 'bank_account';
}

export interface Transfer extends StripeObject {
  object: 'transfer';
  amount: number;
  amount_reversed: number;
  currency: string;
  description: string | null;
  destination: string;
  reversed: boolean;
  transfer_group: string | null;
}

/** Everything the fake has created, in creation order. */
export class StripeStore {
  readonly paymentIntents = new Map<string, PaymentIntent>();
  readonly charges = new Map<string, Charge>();
  readonly refunds = new Map<string, Refund>();
  readonly customers = new Map<string, Customer>();
  readonly payouts = new Map<string, Payout>();
  readonly transfers = new Map<string, Transfer>();

  clear(): void {
    for (const map of [
      this.paymentIntents,
      this.charges,
      this.refunds,
      this.customers,
      this.payouts,
      this.transfers,
    ]) {
      map.clear();
    }
  }
}

export function newId(prefix: string): string {
  return `${prefix}_${randomAlnum(24)}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * A list in Stripe's envelope: newest first, `limit` 1–100 (default 10), cursors `starting_after` and
 * `ending_before`. https://docs.stripe.com/api/pagination
 */
export function listEnvelope<T extends { id: string }>(
  url: string,
  items: Iterable<T>,
  params: Params,
): unknown {
  const limit = optionalInteger(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) {
    fail(400, {
      type: 'invalid_request_error',
      param: 'limit',
      message: 'This value must be greater than or equal to 1 and less than or equal to 100.',
    });
  }
  const all = [...items].reverse();
  const after = optionalString(params, 'starting_after');
  const before = optionalString(params, 'ending_before');
  const position = (cursor: string, param: string): number => {
    const index = all.findIndex((item) => item.id === cursor);
    return index === -1 ? noSuch('object', cursor, param) : index;
  };
  let data: T[];
  let hasMore: boolean;
  if (after !== undefined) {
    const rest = all.slice(position(after, 'starting_after') + 1);
    data = rest.slice(0, limit);
    hasMore = rest.length > limit;
  } else if (before !== undefined) {
    const prior = all.slice(0, position(before, 'ending_before'));
    data = prior.slice(-limit);
    hasMore = prior.length > limit;
  } else {
    data = all.slice(0, limit);
    hasMore = all.length > limit;
  }
  return { object: 'list', url, has_more: hasMore, data };
}
