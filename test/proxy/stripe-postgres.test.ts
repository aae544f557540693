import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPostgres, dropSchema, uniqueSchema } from '../helpers/postgres.js';
import { startStripeStack, type StripeStack } from '../helpers/stripe-stack.js';

describeWithPostgres('the Stripe SDK through a proxy on PostgreSQL', (url) => {
  const schema = uniqueSchema();
  let s: StripeStack;
  beforeAll(async () => {
    s = await startStripeStack({ overrides: { SPENDGATE_DB: url, SPENDGATE_DB_SCHEMA: schema } });
  });
  afterAll(async () => {
    await s.close();
    await dropSchema(url, schema);
  });

  it('charges, replays and refuses with the idempotency keys the SDK sends, on connected accounts too', async () => {
    const { id, token } = await s.t.issue({
      vendor: 'stripe',
      usd_cap: 30,
      allowed_endpoints: ['POST /v1/payment_intents'],
      connected_accounts: ['acct_other'],
    });
    const stripe = s.sdk(token, { maxNetworkRetries: 2 });
    s.fake.failNext({ status: 500 });
    const first = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const again = await stripe.paymentIntents.create(
      { amount: 1000, currency: 'usd' },
      { idempotencyKey: 'order-7' },
    );
    const replay = await stripe.paymentIntents.create(
      { amount: 1000, currency: 'usd' },
      { idempotencyKey: 'order-7' },
    );
    expect(replay.id).toBe(again.id);
    const other = await stripe.paymentIntents.create(
      { amount: 1000, currency: 'usd' },
      { idempotencyKey: 'order-7', stripeAccount: 'acct_other' },
    );
    expect(other.id).not.toBe(again.id);
    expect(first.id).toMatch(/^pi_/);
    const mismatch = await stripe.paymentIntents
      .create({ amount: 999, currency: 'usd' }, { idempotencyKey: 'order-7' })
      .catch((e: unknown) => e);
    expect(mismatch).toMatchObject({ statusCode: 400, code: 'idempotency_mismatch' });
    const over = await stripe.paymentIntents.create({ amount: 1, currency: 'usd' }).catch((e: unknown) => e);
    expect(over).toMatchObject({ statusCode: 429, code: 'cap_exhausted' });
    expect((await s.t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({
      spent_usd: 30,
      reserved_usd: 0,
      calls: 3,
    });
  });
});
