import { z } from 'zod';
import { form, params } from '../shared/param-schema.js';

/**
 * The parameters spendgate forwards on Stripe's money endpoints, from the API reference
 * (https://docs.stripe.com/api). Left out on purpose, because each moves money the cost model does not price:
 * `application_fee_amount`, `transfer_data`, `on_behalf_of` and `destination` (money to a connected account),
 * `payment_method_options` (overcapture and incremental authorisation raise an intent's amount later),
 * customer `balance`, `cash_balance`, `coupon` and `promotion_code` (credits and discounts), refund
 * `refund_application_fee`, `reverse_transfer` and `customer` (customer-balance refunds), and `tax_exempt`.
 * To allow one, price it first (pricing.ts), then list it here.
 */

const { text, integer, boolean, map, list } = form;

const address = params({
  line1: text,
  line2: text,
  city: text,
  state: text,
  postal_code: text,
  country: text,
});
const shipping = params({ name: text, phone: text, carrier: text, tracking_number: text, address });
const descriptors = { statement_descriptor: text, statement_descriptor_suffix: text };
const common = { metadata: map, expand: list };

/** How an intent is paid for: what create, update and confirm may all set. */
const paymentFields = {
  payment_method: text,
  payment_method_types: list,
  capture_method: form.oneOf(['automatic', 'automatic_async', 'manual']),
  setup_future_usage: form.oneOf(['off_session', 'on_session']),
  receipt_email: text,
  shipping,
};

/** What confirming sets, on create with `confirm=true` or on confirm itself. */
const confirmFields = {
  ...paymentFields,
  off_session: z.union([boolean, form.oneOf(['one_off', 'recurring'])]),
  error_on_requires_action: boolean,
  return_url: text,
};

export const intentCreate = params({
  ...common,
  ...descriptors,
  ...confirmFields,
  amount: integer,
  currency: text,
  customer: text,
  description: text,
  automatic_payment_methods: params({ enabled: boolean, allow_redirects: form.oneOf(['always', 'never']) }),
  confirm: boolean,
  confirmation_method: form.oneOf(['automatic', 'manual']),
});

/** An update may change everything but what the intent will move: `amount` and `currency` are refused. */
export const intentUpdate = params({
  ...common,
  ...descriptors,
  ...paymentFields,
  customer: text,
  description: text,
});

export const intentConfirm = params({ expand: list, ...confirmFields });

/** Stripe refuses `amount_to_capture` above the authorised amount (overcapture is not allowed on create). */
export const intentCapture = params({
  ...common,
  ...descriptors,
  amount_to_capture: integer,
  final_capture: boolean,
});

export const intentCancel = params({
  expand: list,
  cancellation_reason: form.oneOf(['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned']),
});

export const chargeCreate = params({
  ...common,
  ...descriptors,
  amount: integer,
  currency: text,
  customer: text,
  source: text,
  description: text,
  receipt_email: text,
  capture: boolean,
  shipping,
});

/** Stripe refuses a capture `amount` above the charge's own. */
export const chargeCapture = params({
  ...descriptors,
  expand: list,
  amount: integer,
  receipt_email: text,
});

export const refundCreate = params({
  ...common,
  payment_intent: text,
  charge: text,
  amount: integer,
  reason: form.oneOf(['duplicate', 'fraudulent', 'requested_by_customer']),
});

export const payoutCreate = params({
  ...common,
  amount: integer,
  currency: text,
  description: text,
  destination: text,
  method: form.oneOf(['standard', 'instant']),
  statement_descriptor: text,
});

export const transferCreate = params({
  ...common,
  amount: integer,
  currency: text,
  destination: text,
  description: text,
  transfer_group: text,
  source_transaction: text,
});

const customerFields = {
  ...common,
  name: text,
  email: text,
  phone: text,
  description: text,
  address,
  shipping,
  payment_method: text,
  source: text,
  invoice_prefix: text,
  preferred_locales: list,
  invoice_settings: params({ default_payment_method: text, footer: text }),
};

export const customerCreate = params(customerFields);
export const customerUpdate = params({ ...customerFields, default_source: text });
