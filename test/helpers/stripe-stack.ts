import Stripe from 'stripe';
import { createFakeStripe, serveFake } from '../../src/testing/index.js';
import type { FakeVendor } from '../../src/testing/fakes/types.js';
import { startTestProxy, type TestProxy } from './proxy.js';

export const STRIPE_SECRET = 'sk_test_51RealSecretNeverLeaks0000';

export interface StripeStack {
  readonly t: TestProxy;
  readonly fake: FakeVendor;
  /** The official SDK pointed at the proxy with only host, port and protocol, as a user would. */
  sdk(token: string, options?: { maxNetworkRetries?: number }): Stripe;
  close(): Promise<void>;
}

/** A fake Stripe on 127.0.0.1, and a proxy in front of it. */
export async function startStripeStack(
  options: { overrides?: Record<string, unknown>; now?: () => number } = {},
) {
  const fake = createFakeStripe({ secretKey: STRIPE_SECRET });
  const upstream = await serveFake(fake);
  const t = await startTestProxy({
    overrides: {
      STRIPE_SECRET_KEY: STRIPE_SECRET,
      SPENDGATE_STRIPE_BASE_URL: upstream.url,
      ...options.overrides,
    },
    ...(options.now ? { now: options.now } : {}),
  });
  const port = Number(new URL(t.url).port);
  const stack: StripeStack = {
    t,
    fake,
    sdk: (token, sdkOptions = {}) =>
      new Stripe(token, {
        host: '127.0.0.1',
        port,
        protocol: 'http',
        telemetry: false,
        maxNetworkRetries: sdkOptions.maxNetworkRetries ?? 0,
      }),
    async close() {
      await t.close();
      await upstream.close();
    },
  };
  return stack;
}
