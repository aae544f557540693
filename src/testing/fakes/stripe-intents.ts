import { createCharge } from './stripe-charges.js';
import { declineFor } from './stripe-declines.js';
import { docUrl, fail, noSuch } from './stripe-errors.js';
import { ok, pathId, type StripeCall, type StripeHandler, type StripeResult } from './stripe-handler.js';
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
  type IntentStatus,
  type PaymentIntent,
  type StripeStore,
} from './stripe-store.js';
import { randomAlnum } from './ids.js';

/** PaymentIntents: https://docs.stripe.com/api/payment_intents */

const CAPTURE_METHODS = ['automatic', 'automatic_async', 'manual'] as const;
const CANCEL_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;
const CANCELABLE: readonly IntentStatus[] = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
];
const CONFIRMABLE: readonly IntentStatus[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
];

export const createIntent: StripeHandler = ({ params, store }) => {
  const amount = amountParam(params, 'amount', true);
  const currency = currencyParam(params);
  const confirm = booleanParam(params, 'confirm') ?? false;
  const paymentMethod = optionalString(params, 'payment_method') ?? null;
  const customer = optionalString(params, 'customer') ?? null;
  if (confirm && paymentMethod === null && customer === null) missingPaymentMethod();
  const id = newId('pi');
  const intent: PaymentIntent = {
    id,
    object: 'payment_intent',
    amount,
    amount_capturable: 0,
    amount_received: 0,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: enumParam(params, 'capture_method', CAPTURE_METHODS) ?? 'automatic_async',
    client_secret: `${id}_secret_${randomAlnum(25)}`,
    confirmation_method:
      enumParam(params, 'confirmation_method', ['automatic', 'manual'] as const) ?? 'automatic',
    created: nowSeconds(),
    currency,
    customer,
    description: optionalString(params, 'description') ?? null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: mergeMetadata(params),
    next_action: null,
    payment_method: paymentMethod,
    payment_method_types: ['card'],
    status: paymentMethod === null ? 'requires_payment_method' : 'requires_confirmation',
  };
  store.paymentIntents.set(id, intent);
  return confirm ? confirmIntent(store, intent, paymentMethod) : ok(intent);
};

export const retrieveIntent: StripeHandler = (call) => ok(findIntent(call));

export const listIntents: StripeHandler = ({ params, store }) => {
  const customer = optionalString(params, 'customer');
  const intents = [...store.paymentIntents.values()].filter(
    (pi) => customer === undefined || pi.customer === customer,
  );
  return ok(listEnvelope('/v1/payment_intents', intents, params));
};

/** Statuses in which the amount, currency and payment method may still change. */
const AMOUNT_UPDATABLE: readonly IntentStatus[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
];

export const updateIntent: StripeHandler = (call) => {
  const intent = findIntent(call);
  const { params } = call;
  if (intent.status === 'succeeded' || intent.status === 'canceled' || intent.status === 'processing') {
    unexpectedState(
      intent,
      `You cannot update this PaymentIntent because it has a status of ${intent.status}.`,
    );
  }
  // Every parameter is read before anything changes: a 400 leaves the intent as it was.
  const amount = amountParam(params, 'amount', false);
  const currency = params.currency === undefined ? undefined : currencyParam(params);
  const customer = optionalString(params, 'customer');
  const description = optionalString(params, 'description');
  const metadata = mergeMetadata(params, intent.metadata);
  const captureMethod = enumParam(params, 'capture_method', CAPTURE_METHODS);
  const paymentMethod = optionalString(params, 'payment_method');
  // Once authorised (requires_capture), what was held is what a capture can take: Stripe refuses to change it.
  const held =
    amount !== undefined
      ? 'amount'
      : currency !== undefined
        ? 'currency'
        : paymentMethod !== undefined
          ? 'payment_method'
          : null;
  if (held !== null && !AMOUNT_UPDATABLE.includes(intent.status)) {
    unexpectedState(
      intent,
      `This PaymentIntent's ${held} could not be updated because it has a status of ${intent.status}. You may only update the ${held} of a PaymentIntent with one of the following statuses: ${AMOUNT_UPDATABLE.join(', ')}.`,
    );
  }
  intent.amount = amount ?? intent.amount;
  intent.currency = currency ?? intent.currency;
  intent.customer = customer ?? intent.customer;
  intent.description = description ?? intent.description;
  intent.metadata = metadata;
  intent.capture_method = captureMethod ?? intent.capture_method;
  if (paymentMethod !== undefined) {
    intent.payment_method = paymentMethod;
    intent.status = 'requires_confirmation';
  }
  return ok(intent);
};

export const confirmIntentRoute: StripeHandler = (call) => {
  const intent = findIntent(call);
  if (!CONFIRMABLE.includes(intent.status)) {
    unexpectedState(
      intent,
      `You cannot confirm this PaymentIntent because it has a status of ${intent.status}.`,
    );
  }
  const paymentMethod = optionalString(call.params, 'payment_method') ?? null;
  if (paymentMethod === null && intent.payment_method === null && intent.customer === null)
    missingPaymentMethod();
  return confirmIntent(call.store, intent, paymentMethod);
};

export const captureIntent: StripeHandler = (call) => {
  const intent = findIntent(call);
  if (intent.status !== 'requires_capture') {
    unexpectedState(
      intent,
      `This PaymentIntent could not be captured because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
    );
  }
  const amount = amountParam(call.params, 'amount_to_capture', false) ?? intent.amount_capturable;
  if (amount > intent.amount_capturable) {
    fail(400, {
      type: 'invalid_request_error',
      code: 'amount_too_large',
      param: 'amount_to_capture',
      message: `The amount_to_capture (${amount}) must be less than or equal to the amount_capturable (${intent.amount_capturable}).`,
      doc_url: docUrl('amount_too_large'),
    });
  }
  intent.status = 'succeeded';
  intent.amount_received = amount;
  intent.amount_capturable = 0;
  const charge = intent.latest_charge === null ? undefined : call.store.charges.get(intent.latest_charge);
  if (charge) {
    charge.captured = true;
    charge.amount_captured = amount;
    charge.balance_transaction = newId('txn');
  }
  return ok(intent);
};

export const cancelIntent: StripeHandler = (call) => {
  const intent = findIntent(call);
  if (!CANCELABLE.includes(intent.status)) {
    unexpectedState(
      intent,
      `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`,
    );
  }
  const reason = enumParam(call.params, 'cancellation_reason', CANCEL_REASONS) ?? null;
  intent.status = 'canceled';
  intent.canceled_at = nowSeconds();
  intent.cancellation_reason = reason;
  intent.amount_capturable = 0;
  return ok(intent);
};

/**
 * Attempts the payment: a charge is created either way. A test decline leaves the intent in
 * `requires_payment_method` with `last_payment_error` and answers 402; otherwise it is `succeeded` (money
 * received) or, with `capture_method=manual`, `requires_capture` (authorised).
 */
function confirmIntent(
  store: StripeStore,
  intent: PaymentIntent,
  paymentMethod: string | null,
): StripeResult {
  // A customer without an explicit method pays with its default one.
  const method = paymentMethod ?? intent.payment_method ?? newId('pm');
  const decline = declineFor(method, intent.customer, 'payment_method');
  const manual = intent.capture_method === 'manual';
  const charge = createCharge(store, {
    amount: intent.amount,
    currency: intent.currency,
    customer: intent.customer,
    description: intent.description,
    metadata: { ...intent.metadata },
    paymentIntent: intent.id,
    paymentMethod: method,
    outcome: decline ? 'failed' : manual ? 'authorized' : 'captured',
    failure: decline,
  });
  intent.latest_charge = charge.id;
  if (decline) {
    intent.status = 'requires_payment_method';
    intent.payment_method = null;
    intent.last_payment_error = {
      ...decline,
      charge: charge.id,
      payment_method: { id: method, object: 'payment_method' },
    };
    return {
      status: 402,
      body: structuredClone({ error: { ...decline, charge: charge.id, payment_intent: intent } }),
    };
  }
  intent.payment_method = method;
  intent.last_payment_error = null;
  if (manual) {
    intent.status = 'requires_capture';
    intent.amount_capturable = intent.amount;
  } else {
    intent.status = 'succeeded';
    intent.amount_received = intent.amount;
  }
  return ok(intent);
}

function findIntent(call: StripeCall): PaymentIntent {
  const id = pathId(call);
  return call.store.paymentIntents.get(id) ?? noSuch('payment_intent', id, 'intent');
}

function unexpectedState(intent: PaymentIntent, message: string): never {
  fail(400, {
    type: 'invalid_request_error',
    code: 'payment_intent_unexpected_state',
    message,
    doc_url: docUrl('payment_intent_unexpected_state'),
    payment_intent: structuredClone(intent),
  });
}

function missingPaymentMethod(): never {
  fail(400, {
    type: 'invalid_request_error',
    code: 'payment_intent_unexpected_state',
    param: 'payment_method',
    message:
      "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent, specify a payment method with the `payment_method` parameter or attach a customer with a default payment method.",
    doc_url: docUrl('payment_intent_unexpected_state'),
  });
}
