/**
 * `spendgate/testing`: faithful fake Stripe, Twilio and Resend upstreams, usable in-process (`fake.handle`) or
 * over real HTTP (`serveFake`), with hooks to inject failures, delays and connection resets.
 */
export * from './fakes/index.js';
