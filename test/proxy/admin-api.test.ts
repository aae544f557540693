import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

const stripeKey = {
  vendor: 'stripe',
  daily_usd_cap: 50,
  allowed_endpoints: ['POST /v1/payment_intents'],
  expires_in: '30m',
  label: 'agent-run-42',
};

describe('admin API', () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy({ overrides: { STRIPE_SECRET_KEY: 'sk_test_admin', SPENDGATE_MAX_TTL: '24h' } });
  });
  afterAll(async () => t.close());

  it('issues a key on both seed paths with the seed response shape', async () => {
    const django = await t.admin('POST', '/v1/keys', { ...stripeKey, metadata: { tenant: 't1' } });
    expect(django.status).toBe(201);
    expect(django.json).toMatchObject({
      vendor: 'stripe',
      label: 'agent-run-42',
      daily_usd_cap: 50,
      usd_cap: null,
      max_usd_per_call: null,
      allowed_endpoints: ['POST /v1/payment_intents'],
      status: 'active',
      metadata: { tenant: 't1' },
    });
    expect(django.json.id).toMatch(/^key_/);
    expect(django.json.token).toMatch(/^vk_/);
    expect(django.json.vault_key).toBe(django.json.token);
    const ttl = Date.parse(django.json.expires_at) - Date.parse(django.json.created_at);
    expect(ttl).toBe(30 * 60 * 1000);

    const fastapi = await t.admin('POST', '/vault/keys', { ...stripeKey, expires_in: 90 });
    expect(fastapi.status).toBe(201);
    expect(fastapi.json.vault_key).toMatch(/^vk_/);
    expect(fastapi.json.token).not.toBe(django.json.token);
  });

  it('never returns the token again, and reports spend on read', async () => {
    const { id, token } = await t.issue({ ...stripeKey, usd_cap: 20, max_usd_per_call: 0.25 });
    const res = await t.admin('GET', `/v1/keys/${id}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(token);
    expect(res.json).toMatchObject({
      id,
      usd_cap: 20,
      daily_usd_cap: 50,
      max_usd_per_call: 0.25,
      spent_usd: 0,
      spent_today_usd: 0,
      reserved_usd: 0,
      remaining_usd: 20,
      calls: 0,
      denied_calls: 0,
      status: 'active',
    });
    expect(res.json).not.toHaveProperty('token');
    expect(res.json).not.toHaveProperty('vault_key');
  });

  it('revokes idempotently on both paths, and 404s an unknown key', async () => {
    const { id } = await t.issue(stripeKey);
    const first = await t.admin('DELETE', `/v1/keys/${id}`);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ id, status: 'revoked' });
    const again = await t.admin('DELETE', `/vault/keys/${id}`);
    expect(again.status).toBe(200);
    expect(again.json.revoked_at).toBe(first.json.revoked_at);
    expect((await t.admin('GET', `/v1/keys/${id}`)).json.status).toBe('revoked');
    const missing = await t.admin('DELETE', '/v1/keys/key_nope');
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('not_found');
  });

  it('lists keys with filters and pagination', async () => {
    for (let i = 0; i < 3; i += 1) await t.issue({ ...stripeKey, label: `list-${i}` });
    const page1 = await t.admin('GET', '/v1/keys?label_prefix=list-&limit=2');
    expect(page1.json.data.map((k: { label: string }) => k.label)).toEqual(['list-2', 'list-1']);
    const page2 = await t.admin(
      'GET',
      `/v1/keys?label_prefix=list-&limit=2&cursor=${page1.json.next_cursor}`,
    );
    expect(page2.json.data.map((k: { label: string }) => k.label)).toEqual(['list-0']);
    expect(page2.json.next_cursor).toBeNull();
    expect((await t.admin('GET', '/v1/keys?label=list-1')).json.data).toHaveLength(1);
  });

  it('revokes in bulk by label, label prefix and metadata', async () => {
    await t.issue({ ...stripeKey, label: 'bulk-a', metadata: { run: 'r1' } });
    await t.issue({ ...stripeKey, label: 'bulk-b', metadata: { run: 'r1' } });
    await t.issue({ ...stripeKey, label: 'bulk-c', metadata: { run: 'r2' } });
    expect((await t.admin('POST', '/v1/keys/revoke', { metadata: { run: 'r1' } })).json).toEqual({
      revoked: 2,
    });
    expect((await t.admin('POST', '/v1/keys/revoke', { label_prefix: 'bulk-' })).json).toEqual({
      revoked: 1,
    });
    expect((await t.admin('POST', '/v1/keys/revoke', { label: 'bulk-c' })).json).toEqual({ revoked: 0 });
    const empty = await t.admin('POST', '/v1/keys/revoke', {});
    expect(empty.status).toBe(400);
    expect(empty.json.code).toBe('bad_request');
  });

  it('refuses a missing or wrong admin token with 401 and a vault key with 403', async () => {
    const { token } = await t.issue(stripeKey);
    const none = await t.admin('GET', '/v1/keys', undefined, { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.json.code).toBe('unauthorized');
    const wrong = await t.admin('GET', '/v1/keys', undefined, {
      authorization: 'Bearer admin-token-wrong-000000',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json.code).toBe('unauthorized');
    for (const [method, path] of [
      ['GET', '/v1/keys'],
      ['POST', '/v1/keys'],
      ['GET', '/v1/audit'],
      ['DELETE', '/v1/keys/key_x'],
    ] as const) {
      const res = await t.admin(method, path, method === 'POST' ? stripeKey : undefined, {
        authorization: `Bearer ${token}`,
      });
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({
        code: 'admin_token_required',
        error: { code: 'admin_token_required' },
      });
    }
  });
});
