import { currencyExponent } from '../../currency.js';
import { declineFor } from './stripe-declines.js';
import { docUrl, fail, missingParam, noSuch, type StripeErrorFields } from './stripe-errors.js';
import { ok, pathId, type StripeCall, type StripeHandler } from './stripe-handler.js';
import {
  amountParam,
  booleanParam,
  currencyParam,
  enumParam,
  mergeMetadata,
  optionalString,
} from './stripe-params.js';
import {
  listEnvelope,
  newId,
  nowSeconds,
  type Charge,
  type Refund,
  type StripeStore,
} from './stripe-store.js';

/** Charges (legacy) and refunds: https://docs.stripe.com/api/charges, https://docs.stripe.com/api/refunds */

export interface NewCharge {
  readonly amount: number;
  readonly currency: string;
  readonly customer: string | null;
  readonly description: string | null;
  readonly metadata: Record<string, string>;
  readonly paymentIntent: string | null;
  readonly paymentMethod: string | null;
  /** `captured`: money moved; `authorized`: held until capture; `failed`: declined. */
  readonly outcome: 'captured' | 'authorized' | 'failed';
  readonly failure: StripeErrorFields | null;
}

/** Stores and returns a charge for a payment attempt. */
export function createCharge(store: StripeStore, input: NewCharge): Charge {
  const failed = input.outcome === 'failed';
  const captured = input.outcome === 'captured';
  const charge: Charge = {
    id: newId('ch'),
    object: 'charge',
    amount: input.amount,
    amount_captured: captured ? input.amount : 0,
    amount_refunded: 0,
    balance_transaction: captured ? newId('txn') : null,
    captured,
    created: nowSeconds(),
    currency: input.currency,
    customer: input.customer,
    description: input.description,
    failure_code: input.failure?.code ?? null,
    failure_message: input.failure?.message ?? null,
    livemode: false,
    metadata: input.metadata,
    paid: !failed,
    payment_intent: input.paymentIntent,
    payment_method: input.paymentMethod,
    refunded: false,
    status: failed ? 'failed' : 'succeeded',
  };
  store.charges.set(charge.id, charge);
  return charge;
}

export const createChargeRoute: StripeHandler = ({ params, store }) => {
  const amount = amountParam(params, 'amount', true);
  const currency = currencyParam(params);
  const source = optionalString(params, 'source') ?? null;
  const customer = optionalString(params, 'customer') ?? null;
  if (source === null && customer === null) missingParam('source');
  const decline = declineFor(source, customer);
  const charge = createCharge(store, {
    amount,
    currency,
    customer,
    description: optionalString(params, 'description') ?? null,
    metadata: mergeMetadata(params),
    paymentIntent: null,
    paymentMethod: source,
    outcome: decline ? 'failed' : (booleanParam(params, 'capture') ?? true) ? 'captured' : 'authorized',
    failure: decline,
  });
  if (decline) return { status: 402, body: { error: { ...decline, charge: charge.id } } };
  return ok(charge);
};

export const retrieveCharge: StripeHandler = (call) => ok(findCharge(call));

export const listCharges: StripeHandler = ({ params, store }) => {
  const customer = optionalString(params, 'customer');
  const intent = optionalString(params, 'payment_intent');
  const charges = [...store.charges.values()].filter(
    (ch) =>
      (customer === undefined || ch.customer === customer) &&
      (intent === undefined || ch.payment_intent === intent),
  );
  return ok(listEnvelope('/v1/charges', charges, params));
};

export const captureChargeRoute: StripeHandler = (call) => {
  const charge = findCharge(call);
  if (charge.captured) {
    fail(400, {
      type: 'invalid_request_error',
      code: 'charge_already_captured',
      message: `Charge ${charge.id} has already been captured.`,
      doc_url: docUrl('charge_already_captured'),
    });
  }
  if (charge.status === 'failed') {
    fail(400, {
      type: 'invalid_request_error',
      message: `Charge ${charge.id} failed and cannot be captured.`,
    });
  }
  const amount = amountParam(call.params, 'amount', false) ?? charge.amount;
  if (amount > charge.amount) {
    fail(400, {
      type: 'invalid_request_error',
      code: 'amount_too_large',
      param: 'amount',
      message: `The amount to capture (${amount}) is greater than the authorized amount (${charge.amount}).`,
      doc_url: docUrl('amount_too_large'),
    });
  }
  charge.captured = true;
  charge.amount_captured = amount;
  charge.balance_transaction = newId('txn');
  const intent =
    charge.payment_intent === null ? undefined : call.store.paymentIntents.get(charge.payment_intent);
  if (intent) {
    intent.status = 'succeeded';
    intent.amount_received = amount;
    intent.amount_capturable = 0;
  }
  return ok(charge);
};

export const createRefund: StripeHandler = ({ params, store }) => {
  const intentId = optionalString(params, 'payment_intent');
  const chargeId = optionalString(params, 'charge');
  let charge: Charge | undefined;
  if (intentId !== undefined) {
    const intent = store.paymentIntents.get(intentId) ?? noSuch('payment_intent', intentId, 'payment_intent');
    charge = intent.latest_charge === null ? undefined : store.charges.get(intent.latest_charge);
    if (!charge || !charge.captured) {
      fail(400, {
        type: 'invalid_request_error',
        code: 'charge_not_refundable',
        message: `This PaymentIntent (${intentId}) does not have a successful charge to refund.`,
        doc_url: docUrl('charge_not_refundable'),
      });
    }
  } else if (chargeId !== undefined) {
    charge = store.charges.get(chargeId) ?? noSuch('charge', chargeId, 'charge');
  } else {
    fail(400, {
      type: 'invalid_request_error',
      code: 'parameter_missing',
      message: 'One of the following params should be provided for this request: payment_intent or charge.',
      doc_url: docUrl('parameter_missing'),
    });
  }
  const refundable = charge.amount_captured - charge.amount_refunded;
  if (refundable === 0) {
    fail(400, {
      type: 'invalid_request_error',
      code: 'charge_already_refunded',
      message: `Charge ${charge.id} has already been refunded.`,
      doc_url: docUrl('charge_already_refunded'),
    });
  }
  const amount = amountParam(params, 'amount', false) ?? refundable;
  if (amount > refundable) {
    fail(400, {
      type: 'invalid_request_error',
      code: 'amount_too_large',
      param: 'amount',
      message: `Refund amount (${major(amount, charge.currency)}) is greater than unrefunded amount on charge (${major(refundable, charge.currency)})`,
      doc_url: docUrl('amount_too_large'),
    });
  }
  // Built (and so validated) before the charge changes: a bad `reason` or `metadata` refunds nothing.
  const refund: Refund = {
    id: newId('re'),
    object: 'refund',
    amount,
    balance_transaction: newId('txn'),
    charge: charge.id,
    created: nowSeconds(),
    currency: charge.currency,
    livemode: false,
    metadata: mergeMetadata(params),
    payment_intent: charge.payment_intent,
    reason:
      enumParam(params, 'reason', ['duplicate', 'fraudulent', 'requested_by_customer'] as const) ?? null,
    status: 'succeeded',
  };
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded === charge.amount_captured;
  store.refunds.set(refund.id, refund);
  return ok(refund);
};

export const retrieveRefund: StripeHandler = (call) => {
  const id = pathId(call);
  return ok(call.store.refunds.get(id) ?? noSuch('refund', id));
};

export const listRefunds: StripeHandler = ({ params, store }) => {
  const charge = optionalString(params, 'charge');
  const intent = optionalString(params, 'payment_intent');
  const refunds = [...store.refunds.values()].filter(
    (re) =>
      (charge === undefined || re.charge === charge) &&
      (intent === undefined || re.payment_intent === intent),
  );
  return ok(listEnvelope('/v1/refunds', refunds, params));
};

function findCharge(call: StripeCall): Charge {
  const id = pathId(call);
  return call.store.charges.get(id) ?? noSuch('charge', id, 'charge');
}

/** `1050 usd` → `$10.50`-style text for messages, with integer arithmetic. */
function major(amount: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const unit = 10 ** exponent;
  const whole = Math.floor(amount / unit);
  const fraction = exponent === 0 ? '' : `.${String(amount % unit).padStart(exponent, '0')}`;
  return `${currency === 'usd' ? '$' : ''}${whole}${fraction}${currency === 'usd' ? '' : ` ${currency}`}`;
}
