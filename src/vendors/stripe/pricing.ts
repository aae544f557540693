import { minorUnitsToMicros } from '../../currency.js';
import { SpendgateError } from '../../errors/index.js';
import * as schemas from './params.js';
import type { z } from 'zod';
import { checkParams } from '../shared/param-schema.js';
import type { CostEstimate, PricingContext, VendorRequest } from '../types.js';

type Params = Readonly<Record<string, unknown>>;
type Rule = (request: VendorRequest, params: Params, context: PricingContext) => CostEstimate;

const FREE: CostEstimate = { kind: 'priced', amount: 0 };

/** The call moves its own `amount` in its `currency`. */
const ownAmount: Rule = (_request, params, context) => amountCost(params.amount, params.currency, context);

/** Money moves only if the PaymentIntent exists and was paid for by this key: it must be covered. */
const coveredIntent: Rule = (request) => {
  const id = request.path.split('/')[3] ?? '';
  return {
    kind: 'covered',
    objectId: id,
    message: `PaymentIntent ${id} was not created with this key, so this key cannot update, confirm or capture it`,
  };
};

/** A customer may be changed only by the key that created it: its payment methods decide who pays. */
const coveredCustomer: Rule = (request) => {
  const id = request.path.split('/')[3] ?? '';
  return {
    kind: 'covered',
    objectId: id,
    message: `Customer ${id} was not created with this key, so this key cannot change or delete it`,
  };
};

const coveredCharge: Rule = (request) => {
  const id = request.path.split('/')[3] ?? '';
  return {
    kind: 'covered',
    objectId: id,
    message: `Charge ${id} was not created with this key, so capturing it cannot be priced`,
  };
};

/**
 * A refund returns money the key itself charged, so it is free when this key created the PaymentIntent or
 * charge being refunded, and refused otherwise: an agent must not refund payments it did not make. A refund is
 * never credited back to the budget, so a charge-refund loop still runs into the cap.
 */
const refund: Rule = (_request, params) => {
  if (params.payment_intent !== undefined && params.charge !== undefined) {
    // Stripe would refund one of them; which one decides whose money it is, so name exactly one.
    return { kind: 'refused', message: 'A refund must name exactly one of `payment_intent` or `charge`' };
  }
  const target = typeof params.payment_intent === 'string' ? params.payment_intent : params.charge;
  if (typeof target !== 'string' || target === '') {
    return {
      kind: 'refused',
      message: 'A refund needs `payment_intent` or `charge` to be checked against this key',
    };
  }
  return {
    kind: 'covered',
    objectId: target,
    message: `${target} was not created with this key, so this key cannot refund it`,
  };
};

/**
 * Which POSTs move money, how much, and which parameters each may carry. Anything not listed is refused with
 * `cost_unknown`: an unpriced money mover must never go through for free. Patterns are matched on whole path
 * segments (`*` = one id). An intent update cannot change the amount (its schema refuses `amount`), and is
 * covered like a confirm: a key may only touch intents it created, never another run's.
 */
const POST_RULES: ReadonlyArray<readonly [string, z.ZodType, Rule]> = [
  ['/v1/payment_intents', schemas.intentCreate, ownAmount],
  ['/v1/payment_intents/*', schemas.intentUpdate, coveredIntent],
  ['/v1/payment_intents/*/confirm', schemas.intentConfirm, coveredIntent],
  ['/v1/payment_intents/*/capture', schemas.intentCapture, coveredIntent],
  ['/v1/payment_intents/*/cancel', schemas.intentCancel, coveredIntent],
  ['/v1/charges', schemas.chargeCreate, ownAmount],
  ['/v1/charges/*/capture', schemas.chargeCapture, coveredCharge],
  ['/v1/refunds', schemas.refundCreate, refund],
  // Money leaving the platform balance: priced at its own amount and currency, like a charge.
  ['/v1/payouts', schemas.payoutCreate, ownAmount],
  ['/v1/transfers', schemas.transferCreate, ownAmount],
  ['/v1/customers', schemas.customerCreate, () => FREE],
  ['/v1/customers/*', schemas.customerUpdate, coveredCustomer],
];

function postRule(path: string) {
  return POST_RULES.find(([pattern]) => matchesSegments(pattern, path));
}

/**
 * Refuses a parameter outside the endpoint's closed schema (`param_not_allowed`) or of the wrong shape
 * (`param_invalid`). Only POSTs carry parameters through the proxy; unlisted POSTs are refused by pricing.
 */
export function checkStripeParams(request: VendorRequest): void {
  if (request.method !== 'POST') return;
  const rule = postRule(request.path);
  if (rule) checkParams(rule[1], request.params, { endpoint: `POST ${rule[0]}`, style: 'form' });
}

/**
 * A DELETE moves no money by itself, but it destroys (a customer, a subscription, a webhook endpoint): only an
 * object this key created may be deleted through it. It carries no parameters (the proxy refuses them).
 */
function coveredDelete(request: VendorRequest): CostEstimate {
  const id = request.path.split('/').at(-1) ?? '';
  return {
    kind: 'covered',
    objectId: id,
    message: `${id} was not created with this key, so this key cannot delete it`,
  };
}

export function estimateStripeCost(request: VendorRequest, context: PricingContext): CostEstimate {
  if (request.method === 'GET' || request.method === 'HEAD') return FREE;
  if (request.method === 'DELETE') return coveredDelete(request);
  if (request.method !== 'POST') {
    return { kind: 'refused', message: `${request.method} ${request.path} is not priced` };
  }
  const params = (request.params ?? {}) as Params;
  const rule = postRule(request.path)?.[2];
  if (!rule) {
    return { kind: 'refused', message: `POST ${request.path} may move money and has no price in spendgate` };
  }
  try {
    return rule(request, params, context);
  } catch (err) {
    if (SpendgateError.isInstance(err) && err.code === 'cost_unknown')
      return { kind: 'refused', message: err.message };
    throw err;
  }
}

/** The amount a 2xx response says moved, in micros; `null` when it states none. */
export function stripeResponseCost(json: unknown, context: PricingContext): number | null {
  if (typeof json !== 'object' || json === null) return null;
  const body = json as Params;
  if (body.object !== 'payment_intent' && body.object !== 'charge') return null;
  try {
    const cost = amountCost(body.amount, body.currency, context);
    return cost.kind === 'priced' ? cost.amount : null;
  } catch {
    return null;
  }
}

function amountCost(amount: unknown, currency: unknown, context: PricingContext): CostEstimate {
  const minor = typeof amount === 'string' && /^\d+$/.test(amount) ? Number(amount) : amount;
  if (typeof minor !== 'number' || !Number.isSafeInteger(minor) || minor < 0) {
    return {
      kind: 'refused',
      message: 'This call needs a non-negative integer `amount` in minor units to be priced',
    };
  }
  if (typeof currency !== 'string' || currency === '') {
    return { kind: 'refused', message: 'This call needs a `currency` to be priced' };
  }
  return {
    kind: 'priced',
    amount: minorUnitsToMicros({ amount: minor, currency, fxRates: context.fxRates }),
  };
}

function matchesSegments(pattern: string, path: string): boolean {
  const p = pattern.split('/');
  const s = path.split('/');
  return p.length === s.length && p.every((seg, i) => seg === '*' || seg === s[i]);
}
