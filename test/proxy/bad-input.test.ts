import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

const valid = {
  vendor: 'stripe',
  daily_usd_cap: 50,
  allowed_endpoints: ['POST /v1/payment_intents'],
  expires_in: '30m',
  label: 'bad-input',
};

interface Case {
  readonly name: string;
  readonly status: number;
  readonly code: string;
  readonly param?: string;
  readonly send: (
    t: TestProxy,
    token: string,
  ) => Promise<{ status: number; json: { code: string; error: { param?: string } } }>;
}

const issue = (body: unknown) => (t: TestProxy) => t.admin('POST', '/v1/keys', body);

const cases: Case[] = [
  {
    name: 'malformed JSON',
    status: 400,
    code: 'invalid_json',
    send: (t) => t.admin('POST', '/v1/keys', '{"vendor": "stripe",'),
  },
  {
    name: 'a form body on the admin API',
    status: 415,
    code: 'unsupported_media_type',
    send: (t) =>
      t.admin('POST', '/v1/keys', 'vendor=stripe', { 'content-type': 'application/x-www-form-urlencoded' }),
  },
  {
    name: 'no cap at all',
    status: 400,
    code: 'cap_required',
    send: issue({ ...valid, daily_usd_cap: undefined }),
  },
  {
    name: 'a negative cap',
    status: 400,
    code: 'bad_request',
    param: 'usd_cap',
    send: issue({ ...valid, usd_cap: -5 }),
  },
  {
    name: 'a cap as text',
    status: 400,
    code: 'bad_request',
    param: 'daily_usd_cap',
    send: issue({ ...valid, daily_usd_cap: 'lots' }),
  },
  {
    name: 'a cap finer than a micro-dollar',
    status: 400,
    code: 'bad_request',
    param: 'usd_cap',
    send: issue({ ...valid, usd_cap: 0.0000001 }),
  },
  {
    name: 'a missing allowlist',
    status: 400,
    code: 'bad_request',
    param: 'allowed_endpoints',
    send: issue({ ...valid, allowed_endpoints: undefined }),
  },
  {
    name: 'an empty allowlist',
    status: 400,
    code: 'bad_request',
    param: 'allowed_endpoints',
    send: issue({ ...valid, allowed_endpoints: [] }),
  },
  {
    name: 'a traversal in the allowlist',
    status: 400,
    code: 'bad_request',
    param: 'allowed_endpoints',
    send: issue({ ...valid, allowed_endpoints: ['POST /v1/../v1/keys'] }),
  },
  {
    name: 'a TTL above the maximum',
    status: 400,
    code: 'ttl_too_long',
    param: 'expires_in',
    send: issue({ ...valid, expires_in: '48h' }),
  },
  {
    name: 'an unreadable TTL',
    status: 400,
    code: 'bad_request',
    param: 'expires_in',
    send: issue({ ...valid, expires_in: 'soon' }),
  },
  {
    name: 'expires_at in the past',
    status: 400,
    code: 'bad_request',
    param: 'expires_at',
    send: issue({ ...valid, expires_in: undefined, expires_at: '2001-01-01T00:00:00Z' }),
  },
  {
    name: 'an unknown vendor',
    status: 400,
    code: 'unknown_vendor',
    param: 'vendor',
    send: issue({ ...valid, vendor: 'paypal' }),
  },
  {
    name: 'an unknown field',
    status: 400,
    code: 'bad_request',
    param: 'dailyUsdCap',
    send: issue({ ...valid, dailyUsdCap: 5 }),
  },
  {
    name: 'metadata that is not strings',
    status: 400,
    code: 'bad_request',
    param: 'metadata.n',
    send: issue({ ...valid, metadata: { n: 1 } }),
  },
  {
    name: 'an oversized body',
    status: 413,
    code: 'body_too_large',
    send: (t) => t.admin('POST', '/v1/keys', { ...valid, label: 'x'.repeat(5000) }),
  },
  {
    name: 'an oversized vendor body',
    status: 413,
    code: 'body_too_large',
    send: (t, token) =>
      t.call('POST', '/v1/payment_intents', {
        token,
        body: `amount=100&currency=usd&description=${'x'.repeat(5000)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
  },
  ...[
    '/stripe/v1/../v1/payment_intents',
    '/stripe/v1/payment_intents/%2e%2e/x',
    '/stripe/v1//payment_intents',
    '/stripe/v1%2fpayment_intents',
    '/stripe/v1/payment_intents/%zz',
  ].map((path): Case => ({
    name: `the traversal path ${path}`,
    status: 400,
    code: 'path_invalid',
    send: (t, token) =>
      t.call('POST', path, {
        token,
        body: 'amount=100&currency=usd',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
  })),
  {
    name: 'no Authorization header',
    status: 401,
    code: 'key_invalid',
    send: (t) => t.call('POST', '/stripe/v1/payment_intents'),
  },
  {
    name: 'a garbled Authorization header',
    status: 401,
    code: 'key_invalid',
    send: (t) => t.call('POST', '/stripe/v1/payment_intents', { headers: { authorization: 'Bearer' } }),
  },
  {
    name: 'garbled Basic credentials',
    status: 401,
    code: 'key_invalid',
    send: (t) =>
      t.call('POST', '/stripe/v1/payment_intents', { headers: { authorization: 'Basic !!!notbase64' } }),
  },
  {
    name: 'an unknown vault key',
    status: 401,
    code: 'key_invalid',
    send: (t) => t.call('POST', '/stripe/v1/payment_intents', { token: 'vk_doesnotexist' }),
  },
  {
    name: 'malformed JSON on the Stripe path',
    status: 400,
    code: 'invalid_json',
    send: (t, token) =>
      t.call('POST', '/stripe/v1/payment_intents', {
        token,
        body: '{"amount":',
        headers: { 'content-type': 'application/json' },
      }),
  },
  {
    name: 'a vendor call with a key for another vendor prefix',
    status: 403,
    code: 'vendor_mismatch',
    send: (t, token) =>
      t.call('POST', '/resend/emails', {
        token,
        body: '{}',
        headers: { 'content-type': 'application/json' },
      }),
  },
];

describe('bad input is refused with its documented code and leaves the ledger unchanged', () => {
  let t: TestProxy;
  let token: string;
  let keyId: string;
  beforeAll(async () => {
    t = await startTestProxy({
      overrides: {
        STRIPE_SECRET_KEY: 'sk_test_bad_input',
        SPENDGATE_STRIPE_BASE_URL: 'http://127.0.0.1:1',
        SPENDGATE_MAX_BODY_BYTES: 4096,
        SPENDGATE_MAX_TTL: '24h',
      },
    });
    ({ token, id: keyId } = await t.issue({ ...valid, usd_cap: 10 }));
  });
  afterAll(async () => t.close());

  async function ledgerSnapshot() {
    const keys = await t.admin('GET', '/v1/keys?limit=500');
    const key = await t.admin('GET', `/v1/keys/${keyId}`);
    return {
      keys: keys.json.data.map((k: { id: string }) => k.id),
      spend: [key.json.spent_usd, key.json.reserved_usd, key.json.calls],
    };
  }

  it.each(cases)('$name → $status $code', async (c) => {
    const before = await ledgerSnapshot();
    const res = await c.send(t, token);
    expect(res.status).toBe(c.status);
    expect(res.json.code).toBe(c.code);
    if (c.param) expect(res.json.error.param).toBe(c.param);
    expect(await ledgerSnapshot()).toEqual(before);
  });
});
