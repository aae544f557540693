/**
 * How long an idempotency claim stands. Stripe and Resend forget a key after 24 hours and then run a repeat
 * as a new request, moving money again; a claim must lapse before the vendor's does, so that such a repeat
 * reserves again rather than replaying for free.
 */
export const IDEMPOTENCY_WINDOW_MS = 23 * 60 * 60 * 1000;
