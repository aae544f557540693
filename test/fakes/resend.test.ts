import { Resend } from 'resend';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeResend, serveFake, type ServedFake } from '../../src/testing/index.js';

const API_KEY = 're_fake_0123456789';
const fake = createFakeResend({ apiKey: API_KEY });
let served: ServedFake;

const sdk = (key = API_KEY): Resend => new Resend(key, { baseUrl: served.url });
const email = {
  from: 'Acme <onboarding@resend.dev>',
  to: ['delivered@resend.dev'],
  subject: 'hi',
  html: '<b>x</b>',
};

beforeAll(async () => {
  served = await serveFake(fake);
});
afterAll(async () => {
  await served.close();
});
beforeEach(() => fake.reset());

describe('fake Resend through the official SDK', () => {
  it('sends an email and returns its id', async () => {
    const { data, error } = await sdk().emails.send(email);
    expect(error).toBeNull();
    expect(data?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/emails' });
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    const got = await sdk().emails.get(data?.id as string);
    expect(got.data).toMatchObject({
      object: 'email',
      id: data?.id,
      to: ['delivered@resend.dev'],
      subject: 'hi',
    });
  });

  it('reports missing fields as 422 missing_required_field', async () => {
    const { data, error } = await sdk().emails.send({ from: email.from, subject: 'x', html: 'x' } as never);
    expect(data).toBeNull();
    expect(error).toMatchObject({
      statusCode: 422,
      name: 'missing_required_field',
      message: 'Missing `to` field.',
    });
  });

  it('reports bad addresses and too many recipients as 422 validation_error', async () => {
    const bad = await sdk().emails.send({ ...email, to: 'not an address' });
    expect(bad.error).toMatchObject({ statusCode: 422, name: 'validation_error' });
    const many = await sdk().emails.send({
      ...email,
      to: Array.from({ length: 51 }, (_, i) => `u${i}@x.io`),
    });
    expect(many.error).toMatchObject({ statusCode: 422, name: 'validation_error' });
    const fifty = await sdk().emails.send({
      ...email,
      to: Array.from({ length: 50 }, (_, i) => `u${i}@x.io`),
    });
    expect(fifty.error).toBeNull();
    const from = await sdk().emails.send({ ...email, from: 'nobody' });
    expect(from.error).toMatchObject({ statusCode: 422, name: 'invalid_from_address' });
  });

  it('answers 401 missing_api_key without a key and 403 invalid_api_key with a wrong one', async () => {
    const wrong = await sdk('re_wrong').emails.send(email);
    expect(wrong.error).toMatchObject({ statusCode: 403, name: 'invalid_api_key' });
    const res = await fetch(`${served.url}/emails`, { method: 'POST', body: JSON.stringify(email) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ statusCode: 401, name: 'missing_api_key' });
  });

  it('sends a batch and returns one id per email', async () => {
    const { data, error } = await sdk().batch.send([email, { ...email, to: 'a@x.io' }]);
    expect(error).toBeNull();
    expect(data?.data).toHaveLength(2);
    expect(fake.requests[0]?.path).toBe('/emails/batch');
  });

  it('fails a whole strict batch on one bad email, and sends the rest in permissive mode', async () => {
    const batch = [email, { ...email, subject: undefined } as never, { ...email, to: 'b@x.io' }];
    const strict = await sdk().batch.send(batch);
    expect(strict.error).toMatchObject({ statusCode: 422, name: 'missing_required_field' });
    const permissive = await sdk().batch.send(batch, { batchValidation: 'permissive' });
    expect(permissive.error).toBeNull();
    expect(permissive.data?.data).toHaveLength(2);
    expect(permissive.data?.errors).toEqual([{ index: 1, message: 'Missing `subject` field.' }]);
  });

  it('limits batches to 100 emails and refuses attachments in a batch', async () => {
    const tooMany = await sdk().batch.send(Array.from({ length: 101 }, () => email));
    expect(tooMany.error).toMatchObject({ statusCode: 422, name: 'validation_error' });
    const hundred = await sdk().batch.send(Array.from({ length: 100 }, () => email));
    expect(hundred.data?.data).toHaveLength(100);
    // The SDK's types already forbid attachments in a batch; the fake refuses them for callers without types.
    const attached = await sdk().batch.send([
      { ...email, attachments: [{ filename: 'a.txt', content: 'eA==' }] } as never,
    ]);
    expect(attached.error).toMatchObject({ statusCode: 422, name: 'validation_error' });
  });

  describe('idempotency', () => {
    it('returns the first response for the same key and payload, without sending again', async () => {
      const first = await sdk().emails.send(email, { idempotencyKey: 'welcome/1' });
      const again = await sdk().emails.send(email, { idempotencyKey: 'welcome/1' });
      expect(again.data?.id).toBe(first.data?.id);
      expect(fake.requests[1]?.headers['idempotency-key']).toBe('welcome/1');
      const list = await fetch(`${served.url}/emails`, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect(((await list.json()) as { data: unknown[] }).data).toHaveLength(1);
    });

    it('answers 409 invalid_idempotent_request for the same key with another payload', async () => {
      await sdk().emails.send(email, { idempotencyKey: 'k' });
      const other = await sdk().emails.send({ ...email, subject: 'other' }, { idempotencyKey: 'k' });
      expect(other.error).toMatchObject({ statusCode: 409, name: 'invalid_idempotent_request' });
    });

    it('refuses a key longer than 256 characters', async () => {
      const res = await sdk().emails.send(email, { idempotencyKey: 'k'.repeat(257) });
      expect(res.error).toMatchObject({ statusCode: 400, name: 'invalid_idempotency_key' });
    });

    it('replays an injected failure that happened after sending', async () => {
      fake.failNext({ status: 500, afterExecute: true });
      const first = await sdk().emails.send(email, { idempotencyKey: 'k-500' });
      expect(first.error).toMatchObject({ statusCode: 500, name: 'internal_server_error' });
      const again = await sdk().emails.send(email, { idempotencyKey: 'k-500' });
      expect(again.error).toMatchObject({ statusCode: 500 });
    });
  });

  it('answers 404 not_found for an unknown email and 405 for a wrong method', async () => {
    const missing = await sdk().emails.get('00000000-0000-0000-0000-000000000000');
    expect(missing.error).toMatchObject({ statusCode: 404, name: 'not_found' });
    const res = await fetch(`${served.url}/emails`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(res.status).toBe(405);
  });

  it('marks responses in sandbox mode', async () => {
    const sandbox = createFakeResend({ apiKey: API_KEY, sandbox: true });
    const res = await sandbox.handle({
      method: 'POST',
      path: '/emails',
      query: '',
      headers: { authorization: `Bearer ${API_KEY}` },
      body: Buffer.from(JSON.stringify(email)),
    });
    expect(res.status).toBe(200);
    expect(res.headers['spendgate-sandbox']).toBe('true');
  });
});

describe('fake Resend rate limit', () => {
  it('is off by default', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => sdk().emails.send(email)));
    expect(results.every((r) => r.error === null)).toBe(true);
  });

  it('answers 429 rate_limit_exceeded with ratelimit-* and retry-after headers past the limit', async () => {
    let now = 1_700_000_000_250;
    const limited = createFakeResend({ apiKey: API_KEY, rateLimitPerSecond: 2, now: () => now });
    const send = () =>
      limited.handle({
        method: 'POST',
        path: '/emails',
        query: '',
        headers: { authorization: `Bearer ${API_KEY}` },
        body: Buffer.from(JSON.stringify(email)),
      });
    const first = await send();
    expect(first.status).toBe(200);
    expect(first.headers).toMatchObject({
      'ratelimit-limit': '2',
      'ratelimit-remaining': '1',
      'ratelimit-reset': '1',
    });
    expect((await send()).headers['ratelimit-remaining']).toBe('0');
    const third = await send();
    expect(third.status).toBe(429);
    expect(third.headers).toMatchObject({ 'retry-after': '1', 'ratelimit-remaining': '0' });
    expect(JSON.parse(third.body)).toMatchObject({ statusCode: 429, name: 'rate_limit_exceeded' });
    now += 1000;
    expect((await send()).status).toBe(200);
  });

  it('reaches the SDK as an error object', async () => {
    const limited = createFakeResend({ apiKey: API_KEY, rateLimitPerSecond: 1, now: () => 5_000 });
    const server = await serveFake(limited);
    try {
      const client = new Resend(API_KEY, { baseUrl: server.url });
      await client.emails.send(email);
      const { error } = await client.emails.send(email);
      expect(error).toMatchObject({ statusCode: 429, name: 'rate_limit_exceeded' });
    } finally {
      await server.close();
    }
  });
});
