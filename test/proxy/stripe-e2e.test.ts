import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { startStripeStack, STRIPE_SECRET, type StripeStack } from '../helpers/stripe-stack.js';

const paymentKey = {
  vendor: 'stripe',
  usd_cap: 50,
  allowed_endpoints: ['POST /v1/payment_intents', 'GET /v1/payment_intents/*', 'POST /v1/customers'],
  expires_in: '30m',
  label: 'e2e',
};

function creates(stack: StripeStack): number {
  return stack.fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents').length;
}

describe('Stripe end to end through the proxy with the official SDK', () => {
  let s: StripeStack;
  let time = Date.now();
  beforeAll(async () => {
    s = await startStripeStack({
      now: () => time,
      overrides: { SPENDGATE_FX_RATES: 'jpy=0.0067,kwd=3.25', SPENDGATE_UPSTREAM_HEADERS_TIMEOUT_MS: 300 },
    });
  });
  afterAll(async () => s.close());
  beforeEach(() => {
    time = Date.now();
    s.fake.reset();
  });

  it('forwards a call within the cap; the SDK sees the vendor response, and the upstream sees the real secret only', async () => {
    const { id, token } = await s.t.issue({ ...paymentKey, connected_accounts: ['acct_connected'] });
    const stripe = s.sdk(token);
    const intent = await stripe.paymentIntents.create(
      { amount: 2000, currency: 'usd', customer: 'cus_123', metadata: { order: 'o 1' } },
      { stripeAccount: 'acct_connected' },
    );
    expect(intent).toMatchObject({
      object: 'payment_intent',
      amount: 2000,
      currency: 'usd',
      livemode: false,
    });
    expect(intent.id).toMatch(/^pi_/);
    expect(intent.lastResponse.requestId).toMatch(/^req_/);
    const seen = s.fake.requests.at(-1);
    expect(seen?.headers.authorization).toBe(`Bearer ${STRIPE_SECRET}`);
    expect(JSON.stringify(seen?.headers)).not.toContain(token);
    expect(seen?.headers['stripe-account']).toBe('acct_connected');
    expect(seen?.body.toString()).toContain('metadata[order]=o%201');
    const key = await s.t.admin('GET', `/v1/keys/${id}`);
    expect(key.json).toMatchObject({ spent_usd: 20, reserved_usd: 0, remaining_usd: 30, calls: 1 });
  });

  it('refuses the call that would pass the cap with 429 cap_exhausted, before the upstream sees it', async () => {
    const { id, token } = await s.t.issue(paymentKey);
    const stripe = s.sdk(token, { maxNetworkRetries: 2 });
    await stripe.paymentIntents.create({ amount: 3000, currency: 'usd' });
    await stripe.paymentIntents.create({ amount: 2000, currency: 'usd' });
    const err = await stripe.paymentIntents.create({ amount: 1, currency: 'usd' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(err).toMatchObject({ statusCode: 429, code: 'cap_exhausted' });
    expect(creates(s)).toBe(2);
    const audit = await s.t.admin('GET', `/v1/audit?key_id=${id}&decision=denied`);
    expect(audit.json.data).toHaveLength(1);
    expect(audit.json.data[0]).toMatchObject({
      code: 'cap_exhausted',
      decision: 'denied',
      upstream_status: null,
    });
  });

  it('answers a raw seed-style JSON call with the seed refusal shape', async () => {
    const { token } = await s.t.issue({ ...paymentKey, usd_cap: 5 });
    const res = await s.t.call('POST', '/stripe/v1/payment_intents', {
      token,
      body: JSON.stringify({ amount: 600, currency: 'usd', customer: 'cus_1' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(429);
    expect(res.json.code).toBe('cap_exhausted');
    expect(res.json.error).toMatchObject({
      type: 'spendgate_error',
      code: 'cap_exhausted',
      retryable: false,
      remaining_usd: 5,
    });
    expect(res.json.error.message).toMatch(/Cap of \$5\.00 reached .*this call needs \$6\.00/);
    expect(res.headers.get('stripe-should-retry')).toBe('false');
    expect(creates(s)).toBe(0);
  });

  it('accepts a JSON body as the seeds send it and forwards it form-encoded like the SDK', async () => {
    const { token } = await s.t.issue(paymentKey);
    const res = await s.t.call('POST', '/stripe/v1/payment_intents', {
      token,
      body: JSON.stringify({
        amount: 1500,
        currency: 'usd',
        customer: 'cus_9',
        metadata: { run: 'r 1' },
        payment_method_types: ['card'],
      }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ object: 'payment_intent', amount: 1500 });
    const seen = s.fake.requests.at(-1);
    expect(seen?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen?.body.toString()).toBe(
      'amount=1500&currency=usd&customer=cus_9&metadata[run]=r%201&payment_method_types[0]=card',
    );
  });

  it.each([
    ['revoked', 'key_revoked', 401, Stripe.errors.StripeAuthenticationError],
    ['expired', 'key_expired', 401, Stripe.errors.StripeAuthenticationError],
    ['outside the allowlist', 'endpoint_not_allowed', 403, Stripe.errors.StripePermissionError],
  ] as const)('refuses a key that is %s with %s', async (kind, code, status, errorClass) => {
    const { id, token } = await s.t.issue({ ...paymentKey, expires_in: 60 });
    if (kind === 'revoked') await s.t.admin('DELETE', `/v1/keys/${id}`);
    if (kind === 'expired') time += 61_000;
    const stripe = s.sdk(token, { maxNetworkRetries: 2 });
    const call =
      kind === 'outside the allowlist'
        ? stripe.refunds.create({ payment_intent: 'pi_1' })
        : stripe.paymentIntents.create({ amount: 100, currency: 'usd' });
    const err = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errorClass);
    expect(err).toMatchObject({ statusCode: status, code });
    expect(s.fake.requests).toHaveLength(0);
  });

  it('counts a 500 followed by the SDK automatic retry once', async () => {
    const { id, token } = await s.t.issue(paymentKey);
    s.fake.failNext({ status: 500, method: 'POST', path: '/v1/payment_intents' });
    const stripe = s.sdk(token, { maxNetworkRetries: 2 });
    const intent = await stripe.paymentIntents.create({ amount: 1200, currency: 'usd' });
    expect(intent.amount).toBe(1200);
    const attempts = s.fake.requests.filter((r) => r.path === '/v1/payment_intents');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.headers['idempotency-key']).toBe(attempts[1]?.headers['idempotency-key']);
    const key = await s.t.admin('GET', `/v1/keys/${id}`);
    expect(key.json).toMatchObject({ spent_usd: 12, reserved_usd: 0, calls: 1 });
    const audit = await s.t.admin('GET', `/v1/audit?key_id=${id}`);
    expect(
      audit.json.data.map((r: { settlement: string; upstream_status: number }) => [
        r.upstream_status,
        r.settlement,
      ]),
    ).toEqual([
      [200, 'settled'],
      [500, 'uncertain'],
    ]);
  });

  it('keeps a 5xx reservation as uncertain spend when no retry follows', async () => {
    const { id, token } = await s.t.issue(paymentKey);
    s.fake.failNext({ status: 503, afterExecute: true });
    const err = await s
      .sdk(token)
      .paymentIntents.create({ amount: 700, currency: 'usd' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 503 });
    expect((await s.t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({ spent_usd: 7, reserved_usd: 0 });
  });

  it('releases the reservation when the vendor declines with a 4xx', async () => {
    const { id, token } = await s.t.issue(paymentKey);
    const err = await s
      .sdk(token)
      .paymentIntents.create({
        amount: 4000,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ code: 'card_declined' });
    expect((await s.t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({
      spent_usd: 0,
      reserved_usd: 0,
      remaining_usd: 50,
    });
  });

  it('marks a timed-out call uncertain and answers 504 upstream_timeout', async () => {
    const { id, token } = await s.t.issue(paymentKey);
    s.fake.delayNext(1500);
    const err = await s
      .sdk(token)
      .paymentIntents.create({ amount: 900, currency: 'usd' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 504, code: 'upstream_timeout' });
    expect((await s.t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({ spent_usd: 9, reserved_usd: 0 });
  });

  it('reserves once for a repeated Idempotency-Key and refuses it with a different body', async () => {
    const { id, token } = await s.t.issue(paymentKey);
    const stripe = s.sdk(token);
    const a = await stripe.paymentIntents.create(
      { amount: 1000, currency: 'usd' },
      { idempotencyKey: 'order-1' },
    );
    const b = await stripe.paymentIntents.create(
      { amount: 1000, currency: 'usd' },
      { idempotencyKey: 'order-1' },
    );
    expect(b.id).toBe(a.id);
    expect(b.lastResponse.headers['idempotent-replayed']).toBe('true');
    const err = await stripe.paymentIntents
      .create({ amount: 2500, currency: 'usd' }, { idempotencyKey: 'order-1' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 400, code: 'idempotency_mismatch' });
    expect((await s.t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({ spent_usd: 10, calls: 1 });
    expect(creates(s)).toBe(2);
  });

  it('prices zero-decimal and three-decimal currencies with configured rates, and refuses unknown ones', async () => {
    const { id, token } = await s.t.issue({ ...paymentKey, usd_cap: 100 });
    const stripe = s.sdk(token);
    await stripe.paymentIntents.create({ amount: 1000, currency: 'jpy' }); // ¥1000 at 0.0067 = $6.70
    await stripe.paymentIntents.create({ amount: 2000, currency: 'kwd' }); // 2.000 KWD at 3.25 = $6.50
    expect((await s.t.admin('GET', `/v1/keys/${id}`)).json.spent_usd).toBe(13.2);
    const err = await stripe.paymentIntents.create({ amount: 100, currency: 'eur' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 400, code: 'cost_unknown' });
    expect(creates(s)).toBe(2);
  });

  it('forwards free calls at zero cost and refuses unpriced money movers', async () => {
    const { id, token } = await s.t.issue({ ...paymentKey, allowed_endpoints: ['/v1/**'] });
    const stripe = s.sdk(token);
    const customer = await stripe.customers.create({ email: 'a@example.com' });
    expect(customer.id).toMatch(/^cus_/);
    const err = await stripe.subscriptions
      .create({ customer: customer.id, items: [{ price: 'price_1' }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 400, code: 'cost_unknown' });
    expect(s.fake.requests.map((r) => r.path)).toEqual(['/v1/customers']);
    expect((await s.t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({
      spent_usd: 0,
      calls: 1,
      denied_calls: 1,
    });
  });

  it('refuses a key bound to another vendor on a prefixed path', async () => {
    const { token } = await s.t.issue({
      ...paymentKey,
      vendor: 'resend',
      allowed_endpoints: ['POST /emails'],
    });
    const res = await s.t.call('POST', '/stripe/v1/payment_intents', {
      token,
      body: 'amount=1&currency=usd',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(403);
    expect(res.json.code).toBe('vendor_mismatch');
  });

  it('never forwards a call that starts after DELETE has returned', async () => {
    const { id, token } = await s.t.issue({ ...paymentKey, usd_cap: 100_000 });
    const stripe = s.sdk(token);
    let revokedAt = Infinity;
    const results: { started: number; ok: boolean; code?: string }[] = [];
    const fire = async () => {
      const started = performance.now();
      try {
        await stripe.paymentIntents.create({ amount: 100, currency: 'usd' });
        results.push({ started, ok: true });
      } catch (e) {
        results.push({ started, ok: false, code: (e as { code?: string }).code });
      }
    };
    const load = Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 2));
        await fire();
      }),
    );
    await new Promise((r) => setTimeout(r, 30));
    await s.t.admin('DELETE', `/v1/keys/${id}`);
    revokedAt = performance.now();
    await load;
    await Promise.all(Array.from({ length: 10 }, fire));
    const after = results.filter((r) => r.started > revokedAt);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => !r.ok && r.code === 'key_revoked')).toBe(true);
  });
});

describe('Stripe money movement beyond a single charge', () => {
  let s: StripeStack;
  beforeAll(async () => {
    s = await startStripeStack();
  });
  afterAll(async () => s.close());

  const everything = { vendor: 'stripe', usd_cap: 100, allowed_endpoints: ['/v1/**'], expires_in: '30m' };

  it('counts create → confirm → capture of one PaymentIntent once', async () => {
    const { id, token } = await s.t.issue(everything);
    const stripe = s.sdk(token);
    const intent = await stripe.paymentIntents.create({
      amount: 4200,
      currency: 'usd',
      capture_method: 'manual',
    });
    const confirmed = await stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_visa' });
    expect(confirmed.status).toBe('requires_capture');
    const captured = await stripe.paymentIntents.capture(intent.id);
    expect(captured.status).toBe('succeeded');
    expect((await s.t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({ spent_usd: 42, calls: 3 });
  });

  it('refuses to confirm or capture a PaymentIntent this key did not create', async () => {
    const other = await s.t.issue(everything);
    const intent = await s.sdk(other.token).paymentIntents.create({ amount: 1000, currency: 'usd' });
    const { token } = await s.t.issue(everything);
    const before = s.fake.requests.length;
    const err = await s
      .sdk(token)
      .paymentIntents.confirm(intent.id)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 400, code: 'cost_unknown' });
    expect(s.fake.requests.length).toBe(before);
  });

  it('lets a key refund only its own payments, and never credits the refund back', async () => {
    const { id, token } = await s.t.issue(everything);
    const stripe = s.sdk(token);
    const intent = await stripe.paymentIntents.create({
      amount: 3000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const refund = await stripe.refunds.create({ payment_intent: intent.id });
    expect(refund).toMatchObject({ object: 'refund', amount: 3000 });
    expect((await s.t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({
      spent_usd: 30,
      remaining_usd: 70,
    });
    const err = await stripe.refunds.create({ payment_intent: 'pi_someone_elses' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 400, code: 'cost_unknown' });
  });

  it('prices payouts and transfers at their amount, against the cap', async () => {
    const { id, token } = await s.t.issue({ ...everything, usd_cap: 30 });
    const stripe = s.sdk(token);
    await stripe.payouts.create({ amount: 1500, currency: 'usd' });
    await stripe.transfers.create({ amount: 1000, currency: 'usd', destination: 'acct_1' });
    const err = await stripe.transfers
      .create({ amount: 1000, currency: 'usd', destination: 'acct_1' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 429, code: 'cap_exhausted' });
    expect((await s.t.admin('GET', `/v1/keys/${id}`)).json.spent_usd).toBe(25);
  });
});
