import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeStack, STRIPE_SECRET, type StripeStack } from '../helpers/stripe-stack.js';
import { ADMIN_TOKEN } from '../helpers/proxy.js';

describe('secrets never leak into logs, audit rows or error bodies', () => {
  let s: StripeStack;
  beforeAll(async () => {
    s = await startStripeStack({
      overrides: { SPENDGATE_LOG_LEVEL: 'trace', SPENDGATE_UPSTREAM_HEADERS_TIMEOUT_MS: 300 },
    });
  });
  afterAll(async () => s.close());

  it('holds through a full scenario of successes, refusals, failures and revocation', async () => {
    const tokens: string[] = [];
    const bodies: string[] = [];
    const keep = async (p: Promise<{ text: string }>) => bodies.push((await p).text);
    const a = await s.t.issue({
      vendor: 'stripe',
      usd_cap: 30,
      allowed_endpoints: ['POST /v1/payment_intents'],
      label: 'leak-check',
    });
    const b = await s.t.issue({
      vendor: 'stripe',
      usd_cap: 30,
      allowed_endpoints: ['/v1/**'],
      label: 'leak-check',
    });
    tokens.push(a.token, b.token);
    const stripe = s.sdk(a.token, { maxNetworkRetries: 1 });
    await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    s.fake.failNext({ status: 500 });
    await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    s.fake.delayNext(1000);
    await stripe.paymentIntents.create({ amount: 500, currency: 'usd' }).catch(() => undefined);
    await stripe.paymentIntents.create({ amount: 5000, currency: 'usd' }).catch(() => undefined);
    await stripe.customers.create({}).catch(() => undefined);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await keep(
      s.t.call('POST', '/v1/payment_intents', {
        token: b.token,
        body: 'amount=1&currency=eur',
        headers: form,
      }),
    );
    await keep(s.t.call('POST', '/v1/../v1/keys', { token: b.token }));
    await keep(
      s.t.call('POST', '/v1/payment_intents', {
        token: `${b.token}x`,
        body: 'amount=1&currency=usd',
        headers: form,
      }),
    );
    await keep(s.t.admin('GET', '/v1/keys', undefined, { authorization: `Bearer ${b.token}` }));
    await keep(s.t.admin('GET', '/v1/keys', undefined, { authorization: `Bearer ${ADMIN_TOKEN}x` }));
    await s.t.admin('DELETE', `/v1/keys/${b.id}`);
    await keep(
      s.t.call('POST', '/v1/payment_intents', {
        token: b.token,
        body: 'amount=1&currency=usd',
        headers: form,
      }),
    );
    await keep(
      s.t.call('GET', '/v1/payment_intents', {
        headers: { authorization: `Basic ${Buffer.from(`${b.token}:`).toString('base64')}` },
      }),
    );
    await keep(s.t.admin('GET', `/v1/keys/${a.id}`));
    await keep(s.t.admin('GET', '/v1/keys?label=leak-check'));

    const audit = await s.t.admin('GET', '/v1/audit?label=leak-check&limit=500');
    expect(audit.json.data.length).toBeGreaterThanOrEqual(8);
    const haystacks = { logs: s.t.logs.join('\n'), audit: audit.text, bodies: bodies.join('\n') };
    expect(s.t.logs.length).toBeGreaterThan(10);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of [STRIPE_SECRET, ADMIN_TOKEN, ...tokens]) {
        expect(text.includes(secret), `${where} contains a secret`).toBe(false);
      }
    }
    // The vault key did reach the proxy; the upstream saw only the real secret.
    expect(s.fake.requests.every((r) => r.headers.authorization === `Bearer ${STRIPE_SECRET}`)).toBe(true);
  });
});
