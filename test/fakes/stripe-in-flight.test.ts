import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeStripe, serveFake, type ServedFake } from '../../src/testing/index.js';
import type { FakeRequest, FakeResponse } from '../../src/testing/index.js';

// Stripe answers a request whose idempotency key is still in use by another in-progress request with a 409 and
// saves nothing for it. "In flight" here: from the moment the fake starts handling the first request until its
// response is ready to go, a `delayNext` hold included.

const SECRET = 'sk_test_51FakeSecretKey00001234';
const KEY_IN_USE_BODY = {
  error: {
    type: 'idempotency_error',
    code: 'idempotency_key_in_use',
    message:
      'There is currently another in-progress request using this Stripe API key and idempotency key. Please try again later. If this issue persists, please contact us through our support page at https://support.stripe.com/.',
  },
};

const fake = createFakeStripe({ secretKey: SECRET });
let served: ServedFake;

beforeAll(async () => {
  served = await serveFake(fake);
});
afterAll(async () => {
  await served.close();
});
beforeEach(() => fake.reset());

function post(path: string, body: string, headers: Record<string, string> = {}, query = ''): FakeRequest {
  return {
    method: 'POST',
    path,
    query,
    headers: {
      authorization: `Bearer ${SECRET}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body: Buffer.from(body),
  };
}

const json = (res: FakeResponse): Record<string, unknown> => JSON.parse(res.body) as Record<string, unknown>;

async function intentCount(): Promise<number> {
  const res = await fake.handle({
    method: 'GET',
    path: '/v1/payment_intents',
    query: 'limit=100',
    headers: { authorization: `Bearer ${SECRET}` },
    body: Buffer.alloc(0),
  });
  return (json(res).data as unknown[]).length;
}

const CREATE = 'amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true';

describe('fake Stripe: a request whose idempotency key is in flight', () => {
  it('5 concurrent copies while the first is delayed: one executes, four get 409 idempotency_key_in_use', async () => {
    fake.delayNext(200);
    const copies = Array.from({ length: 5 }, () =>
      fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-flight' })),
    );
    const [first, ...rest] = await Promise.all(copies);
    expect(first?.status).toBe(200);
    for (const res of rest) {
      expect(res.status).toBe(409);
      expect(json(res)).toEqual(KEY_IN_USE_BODY);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(res.headers['idempotency-key']).toBe('k-flight');
      expect(res.headers['request-id']).toMatch(/^req_/);
    }
    expect(await intentCount()).toBe(1);

    // Nothing was saved for the 409s: a retry now is an ordinary replay of the first response.
    const retry = await fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-flight' }));
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(json(retry).id).toBe(json(first as FakeResponse).id);
    expect(await intentCount()).toBe(1);
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(6);
  });

  it('the same over HTTP: the SDK (which maps a 409 to StripeAPIError) sees idempotency_key_in_use', async () => {
    const url = new URL(served.url);
    const stripe = new Stripe(SECRET, {
      host: url.hostname,
      port: Number(url.port),
      protocol: 'http',
      telemetry: false,
      maxNetworkRetries: 0,
    });
    fake.delayNext(300);
    const params = { amount: 2000, currency: 'usd' };
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => stripe.paymentIntents.create(params, { idempotencyKey: 'k-http' })),
    );
    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(4);
    for (const err of refused) {
      expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect(err).toMatchObject({
        statusCode: 409,
        rawType: 'idempotency_error',
        code: 'idempotency_key_in_use',
        message: KEY_IN_USE_BODY.error.message,
      });
    }
    const replay = await stripe.paymentIntents.create(params, { idempotencyKey: 'k-http' });
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect((await stripe.paymentIntents.list()).data).toHaveLength(1);
  });

  it("the SDK's own retry of a 409 (after its backoff) lands on the replay", async () => {
    const url = new URL(served.url);
    const stripe = new Stripe(SECRET, {
      host: url.hostname,
      port: Number(url.port),
      protocol: 'http',
      telemetry: false,
      maxNetworkRetries: 2,
    });
    fake.delayNext(150);
    const params = { amount: 2000, currency: 'usd' };
    const [a, b] = await Promise.all([
      stripe.paymentIntents.create(params, { idempotencyKey: 'k-retry' }),
      stripe.paymentIntents.create(params, { idempotencyKey: 'k-retry' }),
    ]);
    expect(a.id).toBe(b.id);
    expect(fake.requests.map((r) => r.headers['idempotency-key'])).toEqual(['k-retry', 'k-retry', 'k-retry']);
    expect((await stripe.paymentIntents.list()).data).toHaveLength(1);
  });

  it('is refused whatever its parameters: the key is busy, not compared', async () => {
    fake.delayNext(100);
    const first = fake.handle(
      post('/v1/payment_intents', 'amount=100&currency=usd', { 'idempotency-key': 'k-d' }),
    );
    const other = await fake.handle(
      post('/v1/payment_intents', 'amount=999&currency=usd', { 'idempotency-key': 'k-d' }),
    );
    expect(other.status).toBe(409);
    expect((await first).status).toBe(200);
    // Once the first is done, other parameters are the ordinary 400 mismatch.
    const after = await fake.handle(
      post('/v1/payment_intents', 'amount=999&currency=usd', { 'idempotency-key': 'k-d' }),
    );
    expect(after.status).toBe(400);
    expect(json(after).error).toMatchObject({ type: 'idempotency_error' });
  });

  it('covers a query-string smuggle on another request with the key in flight', async () => {
    fake.delayNext(100);
    const first = fake.handle(
      post('/v1/payment_intents', 'amount=100&currency=usd', { 'idempotency-key': 'k-q' }),
    );
    const smuggled = await fake.handle(
      post('/v1/payment_intents', 'amount=100&currency=usd', { 'idempotency-key': 'k-q' }, 'amount=500000'),
    );
    expect(smuggled.status).toBe(409);
    expect(json(await first)).toMatchObject({ amount: 100 });
    expect(await intentCount()).toBe(1);
  });

  it('is scoped like idempotency keys: another Stripe-Account or Stripe-Context runs', async () => {
    fake.delayNext(100);
    const first = fake.handle(
      post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-s', 'stripe-account': 'acct_1' }),
    );
    const otherAccount = await fake.handle(
      post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-s', 'stripe-account': 'acct_2' }),
    );
    const noAccount = await fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-s' }));
    const sameAccount = await fake.handle(
      post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-s', 'stripe-account': 'acct_1' }),
    );
    const sameContext = await fake.handle(
      post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-s', 'stripe-context': 'acct_1' }),
    );
    expect([otherAccount.status, noAccount.status, sameAccount.status, sameContext.status]).toEqual([
      200, 200, 409, 409,
    ]);
    expect((await first).status).toBe(200);
    expect(await intentCount()).toBe(3);
  });

  it('does not hold requests without a key, GETs, or requests with a wrong secret key', async () => {
    fake.delayNext(100);
    const first = fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-n' }));
    const noKey = await fake.handle(post('/v1/payment_intents', CREATE));
    const wrongSecret = await fake.handle(
      post('/v1/payment_intents', CREATE, {
        'idempotency-key': 'k-n',
        authorization: 'Bearer sk_test_nope1234',
      }),
    );
    expect(noKey.status).toBe(200);
    expect(wrongSecret.status).toBe(401);
    await first;

    fake.delayNext(100);
    const get = (): Promise<FakeResponse> =>
      fake.handle({ ...post('/v1/payment_intents', '', { 'idempotency-key': 'k-g' }), method: 'GET' });
    const slow = get();
    expect((await get()).status).toBe(200);
    expect((await slow).status).toBe(200);
  });

  it('frees the key after a validation failure, which is not saved', async () => {
    fake.delayNext(100);
    const invalid = fake.handle(post('/v1/payment_intents', 'currency=usd', { 'idempotency-key': 'k-v' }));
    const during = await fake.handle(
      post('/v1/payment_intents', 'currency=usd', { 'idempotency-key': 'k-v' }),
    );
    expect(during.status).toBe(409);
    expect((await invalid).status).toBe(400);
    const corrected = await fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-v' }));
    expect(corrected.status).toBe(200);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
  });

  it('holds the key during an injected afterExecute failure, then replays that saved failure', async () => {
    fake.failNext({ status: 500, afterExecute: true });
    fake.delayNext(100);
    const first = fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-f' }));
    const during = await fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-f' }));
    expect(during.status).toBe(409);
    expect((await first).status).toBe(500);
    const retry = await fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-f' }));
    expect(retry.status).toBe(500);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await intentCount()).toBe(1);
  });

  it('lets a pending failNext replace the 409, as for any refusal before execution', async () => {
    fake.delayNext(100);
    const first = fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-h' }));
    fake.failNext({ status: 503 });
    const during = await fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-h' }));
    expect(during.status).toBe(503);
    expect((await first).status).toBe(200);
  });

  it('after reset(), a request still finishing does not free the key a newer request holds', async () => {
    fake.delayNext(150);
    const old = fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-r' }));
    fake.reset();
    fake.delayNext(600);
    const newer = fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-r' }));
    expect((await old).status).toBe(200);
    const during = await fake.handle(post('/v1/payment_intents', CREATE, { 'idempotency-key': 'k-r' }));
    expect(during.status).toBe(409);
    expect((await newer).status).toBe(200);
  });
});
