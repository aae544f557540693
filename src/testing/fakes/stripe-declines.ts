import { docUrl, type StripeErrorFields } from './stripe-errors.js';

interface Decline {
  readonly code: string;
  readonly decline_code: string;
  readonly message: string;
}

const GENERIC: Decline = {
  code: 'card_declined',
  decline_code: 'generic_decline',
  message: 'Your card was declined.',
};

/** Stripe's decline test payment methods (https://docs.stripe.com/testing#declined-payments), by suffix. */
const DECLINES: Readonly<Record<string, Decline>> = {
  chargeDeclined: GENERIC,
  chargeDeclinedInsufficientFunds: {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  chargeDeclinedLostCard: {
    code: 'card_declined',
    decline_code: 'lost_card',
    message: 'Your card was declined.',
  },
  chargeDeclinedStolenCard: {
    code: 'card_declined',
    decline_code: 'stolen_card',
    message: 'Your card was declined.',
  },
  chargeDeclinedExpiredCard: {
    code: 'expired_card',
    decline_code: 'expired_card',
    message: 'Your card has expired.',
  },
  chargeDeclinedIncorrectCvc: {
    code: 'incorrect_cvc',
    decline_code: 'incorrect_cvc',
    message: "Your card's security code is incorrect.",
  },
};

/** `pm_card_chargeDeclined`, `pm_card_visa_chargeDeclinedInsufficientFunds`, `tok_chargeDeclined`, … */
const TEST_METHOD = /^(?:pm_card_|tok_)(?:visa_)?(chargeDeclined\w*)$/;

/** The customer id the fake always declines, whatever the payment method. */
export const DECLINING_CUSTOMER = 'cus_decline';

/** The card error a payment with this method or customer gets, or `null` when it goes through. */
export function declineFor(
  paymentMethod: string | null,
  customer: string | null,
  param?: string,
): StripeErrorFields | null {
  const suffix = paymentMethod === null ? undefined : TEST_METHOD.exec(paymentMethod)?.[1];
  const decline =
    suffix !== undefined ? (DECLINES[suffix] ?? GENERIC) : customer === DECLINING_CUSTOMER ? GENERIC : null;
  if (decline === null) return null;
  return {
    type: 'card_error',
    code: decline.code,
    decline_code: decline.decline_code,
    message: decline.message,
    ...(param === undefined ? {} : { param }),
    doc_url: docUrl(decline.code),
  };
}
