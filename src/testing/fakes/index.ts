export type { FailNextOptions, FakeRequest, FakeRequestMatch, FakeResponse, FakeVendor } from './types.js';
export { createFakeStripe, type FakeStripeOptions } from './stripe.js';
export { createFakeTwilio, type FakeTwilioOptions } from './twilio.js';
export { createFakeResend, type FakeResendOptions } from './resend.js';
export { serveFake, type ResetSocketOptions, type ServedFake, type ServeFakeOptions } from './serve.js';
export { DECLINING_CUSTOMER } from './stripe-declines.js';
