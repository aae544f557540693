import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeStripe, serveFake, type ServedFake } from '../../src/testing/index.js';

// Real Stripe reads a POST's query string and form body as one bucket of parameters (Rack's behaviour): a
// proxy that prices or checks only the body must not let `?amount=` through. These pin the fake to that.

const SECRET = 'sk_test_51FakeSecretKey00001234';
const fake = createFakeStripe({ secretKey: SECRET });
let served: ServedFake;

beforeAll(async () => {
  served = await serveFake(fake);
});
afterAll(async () => {
  await served.close();
});
beforeEach(() => fake.reset());

type Json = Record<string, unknown>;

async function call(
  method: string,
  pathAndQuery: string,
  body?: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${served.url}${pathAndQuery}`, {
    method,
    headers: {
      authorization: `Bearer ${SECRET}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Json };
}

async function openIntent(amount = 1000): Promise<string> {
  const res = await call('POST', '/v1/payment_intents', `amount=${amount}&currency=usd`);
  expect(res.status).toBe(200);
  return res.json.id as string;
}

describe('fake Stripe merges the query string into POST parameters', () => {
  it('POST /v1/payment_intents/:id?amount=500000 with body description=x changes the amount', async () => {
    const id = await openIntent(1000);
    const res = await call('POST', `/v1/payment_intents/${id}?amount=500000`, 'description=x');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id, amount: 500000, description: 'x' });
    expect((await call('GET', `/v1/payment_intents/${id}`)).json.amount).toBe(500000);
  });

  it('then confirming charges the amount that came in through the query string', async () => {
    const id = await openIntent(1000);
    await call('POST', `/v1/payment_intents/${id}?amount=500000`, 'description=x');
    const confirmed = await call('POST', `/v1/payment_intents/${id}/confirm`, 'payment_method=pm_card_visa');
    expect(confirmed.json).toMatchObject({ status: 'succeeded', amount: 500000, amount_received: 500000 });
    const charge = await call('GET', `/v1/charges/${String(confirmed.json.latest_charge)}`);
    expect(charge.json).toMatchObject({ amount: 500000, amount_captured: 500000 });
  });

  it('creates from query-string parameters alone, with an empty body', async () => {
    const res = await call('POST', '/v1/payment_intents?amount=700&currency=usd', '');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ amount: 700, currency: 'usd' });
  });

  it('reads confirm and capture parameters from the query string too', async () => {
    const declined = await openIntent(500);
    const res = await call(
      'POST',
      `/v1/payment_intents/${declined}/confirm?payment_method=pm_card_chargeDeclined`,
      '',
    );
    expect(res.status).toBe(402);
    expect(res.json.error).toMatchObject({ code: 'card_declined' });

    const held = await call(
      'POST',
      '/v1/payment_intents?capture_method=manual&confirm=true',
      'amount=1000&currency=usd&payment_method=pm_card_visa',
    );
    expect(held.json).toMatchObject({ status: 'requires_capture', amount_capturable: 1000 });
    const captured = await call(
      'POST',
      `/v1/payment_intents/${String(held.json.id)}/capture?amount_to_capture=400`,
    );
    expect(captured.json).toMatchObject({ status: 'succeeded', amount_received: 400 });
  });

  it('lets the body win a conflict with the query string', async () => {
    const id = await openIntent(1000);
    const res = await call('POST', `/v1/payment_intents/${id}?amount=500000&description=q`, 'amount=1200');
    expect(res.json).toMatchObject({ amount: 1200, description: 'q' });
  });

  it('merges key by top-level key: a body object replaces a query object of the same name', async () => {
    const res = await call(
      'POST',
      '/v1/payment_intents?metadata[a]=1&metadata[c]=3',
      'amount=100&currency=usd&metadata[b]=2',
    );
    expect(res.json.metadata).toEqual({ b: '2' });
    const queryOnly = await call('POST', '/v1/payment_intents?metadata[a]=1', 'amount=100&currency=usd');
    expect(queryOnly.json.metadata).toEqual({ a: '1' });
  });

  it('reports a bad query-string parameter like a bad body one', async () => {
    const id = await openIntent(1000);
    const res = await call('POST', `/v1/payment_intents/${id}?amount=abc`, 'description=x');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'parameter_invalid_integer', param: 'amount' });
    expect((await call('GET', `/v1/payment_intents/${id}`)).json).toMatchObject({
      amount: 1000,
      description: null,
    });
  });

  it('reads only the query string on a GET', async () => {
    for (const email of ['a@x.io', 'b@x.io', 'c@x.io']) await call('POST', '/v1/customers', `email=${email}`);
    const res = await fake.handle({
      method: 'GET',
      path: '/v1/customers',
      query: 'limit=2',
      headers: { authorization: `Bearer ${SECRET}` },
      body: Buffer.from('limit=1'),
    });
    expect((JSON.parse(res.body) as { data: unknown[] }).data).toHaveLength(2);
  });
});

describe('the idempotency fingerprint covers the merged parameters', () => {
  it('refuses the same key and body with another query string', async () => {
    const id = await openIntent(1000);
    const headers = { 'idempotency-key': 'q-1' };
    const first = await call('POST', `/v1/payment_intents/${id}`, 'description=x', headers);
    expect(first.status).toBe(200);
    const smuggled = await call('POST', `/v1/payment_intents/${id}?amount=500000`, 'description=x', headers);
    expect(smuggled.status).toBe(400);
    expect(smuggled.json.error).toMatchObject({
      type: 'idempotency_error',
      message: expect.stringContaining("Try using a key other than 'q-1'") as unknown,
    });
    expect((await call('GET', `/v1/payment_intents/${id}`)).json.amount).toBe(1000);
  });

  it('replays the same key, body and query string', async () => {
    const headers = { 'idempotency-key': 'q-2' };
    const first = await call('POST', '/v1/payment_intents?amount=900', 'currency=usd', headers);
    const again = await call('POST', '/v1/payment_intents?amount=900', 'currency=usd', headers);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.id).toBe(first.json.id);
  });

  it('treats the same parameters split differently between query and body as the same request', async () => {
    const headers = { 'idempotency-key': 'q-3' };
    const first = await call('POST', '/v1/payment_intents', 'amount=900&currency=usd', headers);
    const again = await call('POST', '/v1/payment_intents?amount=900&currency=usd', '', headers);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.id).toBe(first.json.id);
  });
});
