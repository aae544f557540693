import { loadConfig } from '../../src/config/load-config.js';
import { createSpendgateClient, type SpendgateClient } from '../../src/client/index.js';
import type { VaultKeyWithSpend } from '../../src/client/types.js';
import { startProxy, type RunningProxy } from '../../src/server/start.js';
import {
  createFakeResend,
  createFakeStripe,
  createFakeTwilio,
  serveFake,
  type FakeVendor,
  type ServedFake,
} from '../../src/testing/index.js';

export const STACK_ADMIN_TOKEN = 'admin-token-agents-0123456789';
const STRIPE_SECRET = 'sk_test_agent_stack';
const TWILIO_SID = 'AC11111111111111111111111111111111';
const TWILIO_TOKEN = 'twilio-auth-token-agent-stack';
const RESEND_KEY = 're_agent_stack';

/** A running proxy in front of three fake vendors served over real HTTP, and an admin client for it. */
export interface AgentStack {
  readonly proxy: RunningProxy;
  readonly proxyUrl: string;
  readonly client: SpendgateClient;
  readonly fakes: { readonly stripe: FakeVendor; readonly twilio: FakeVendor; readonly resend: FakeVendor };
  readonly served: { readonly stripe: ServedFake; readonly twilio: ServedFake; readonly resend: ServedFake };
  /** `POST /v1/payment_intents` requests the fake Stripe received: the charges that reached the vendor. */
  charges(): number;
  /** Messages the fake Twilio was asked to send. */
  smsSent(): number;
  /** The status of each key with this label, read one by one from `GET /v1/keys/{id}`. */
  keyStatuses(label: string): Promise<string[]>;
  /**
   * Tries to create a charge with `token`, both ways the proxy routes (`/stripe/v1/...` prefixed, and
   * `/v1/...` routed by the key's vendor); returns the two HTTP statuses.
   */
  tryStripeWith(token: string): Promise<number[]>;
  /** Every key still active, across all pages. */
  activeKeys(): Promise<VaultKeyWithSpend[]>;
  close(): Promise<void>;
}

/** Starts fake Stripe, Twilio and Resend upstreams and a proxy with an in-memory store pointed at them. */
export async function startAgentStack(
  options: { readonly overrides?: Readonly<Record<string, unknown>> } = {},
): Promise<AgentStack> {
  const fakes = {
    stripe: createFakeStripe({ secretKey: STRIPE_SECRET }),
    twilio: createFakeTwilio({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN }),
    resend: createFakeResend({ apiKey: RESEND_KEY }),
  };
  const served = {
    stripe: await serveFake(fakes.stripe),
    twilio: await serveFake(fakes.twilio),
    resend: await serveFake(fakes.resend),
  };
  const config = await loadConfig({
    overrides: {
      SPENDGATE_ADMIN_TOKEN: STACK_ADMIN_TOKEN,
      SPENDGATE_DB: ':memory:',
      SPENDGATE_PORT: 0,
      SPENDGATE_LOG_LEVEL: 'silent',
      STRIPE_SECRET_KEY: STRIPE_SECRET,
      SPENDGATE_STRIPE_BASE_URL: served.stripe.url,
      TWILIO_ACCOUNT_SID: TWILIO_SID,
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      SPENDGATE_TWILIO_BASE_URL: served.twilio.url,
      RESEND_API_KEY: RESEND_KEY,
      SPENDGATE_RESEND_BASE_URL: served.resend.url,
      ...options.overrides,
    },
  });
  const proxy = await startProxy({ config });
  const client = createSpendgateClient({ baseUrl: proxy.url, adminToken: STACK_ADMIN_TOKEN });
  return {
    proxy,
    proxyUrl: proxy.url,
    client,
    fakes,
    served,
    charges: () =>
      fakes.stripe.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents').length,
    smsSent: () =>
      fakes.twilio.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json')).length,
    async tryStripeWith(token) {
      const statuses: number[] = [];
      for (const path of ['/stripe/v1/payment_intents', '/v1/payment_intents']) {
        const res = await fetch(`${proxy.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'amount=2000&currency=usd&customer=cus_ada&confirm=true',
        });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      return statuses;
    },
    async keyStatuses(label) {
      const { data } = await client.listKeys({ label });
      return Promise.all(data.map(async (key) => (await client.getKey(key.id)).status));
    },
    async activeKeys() {
      const keys: VaultKeyWithSpend[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listKeys({ status: 'active', limit: 500, cursor });
        keys.push(...page.data);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return keys;
    },
    async close() {
      await proxy.close();
      await Promise.all([served.stripe.close(), served.twilio.close(), served.resend.close()]);
    },
  };
}

/** How one of many runs ended: `ok`, `aborted`, or the error's message. */
export function outcomeOf(run: Promise<unknown>, signal: AbortSignal): Promise<string> {
  return run.then(
    () => 'ok',
    (err: unknown) => (signal.aborted ? 'aborted' : err instanceof Error ? err.message : String(err)),
  );
}
