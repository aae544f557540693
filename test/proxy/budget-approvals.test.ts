/**
 * What budgets add to keys beyond caps: an approval threshold every key below inherits, and the issuer rules
 * that come with them (no connected accounts, a default TTL held to the issuer's `max_ttl`).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStripeStack, type StripeStack } from '../helpers/stripe-stack.js';

const PAY = ['POST /v1/payment_intents'];

let s: StripeStack;

beforeAll(async () => {
  s = await startStripeStack({ overrides: { SPENDGATE_LOG_LEVEL: 'warn', SPENDGATE_DEFAULT_TTL: '1h' } });
});
afterAll(async () => {
  await s.close();
});
beforeEach(() => s.fake.reset());

const budget = async (body: Record<string, unknown>) => {
  const res = await s.t.admin('POST', '/v1/budgets', body);
  expect(res.status, res.text).toBe(201);
  return res.json as Record<string, unknown> & { id: string };
};
const creates = () =>
  s.fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents').length;

describe('approval_above_usd on a budget', () => {
  it('holds every key below it to the lowest threshold of the key and its chain', async () => {
    const root = await budget({ usd_cap: 100, approval_above_usd: 20, expires_in: '2h' });
    expect(root.approval_above_usd).toBe(20);
    const child = await budget({ parent_id: root.id, approval_above_usd: 50, expires_in: '1h' });
    const issue = async (body: Record<string, unknown>) => {
      const res = await s.t.admin('POST', '/v1/keys', { vendor: 'stripe', allowed_endpoints: PAY, ...body });
      expect(res.status, res.text).toBe(201);
      return res.json as { token: string; approval_above_usd: number | null };
    };
    const lower = await issue({ budget_id: child.id, expires_in: '30m' });
    expect(lower.approval_above_usd).toBe(20);
    const own = await issue({ budget_id: child.id, approval_above_usd: 5, expires_in: '30m' });
    expect(own.approval_above_usd).toBe(5);
    const sdk = s.sdk(lower.token);
    await expect(sdk.paymentIntents.create({ amount: 2000, currency: 'usd' })).resolves.toMatchObject({
      amount: 2000,
    });
    const refused = await sdk.paymentIntents
      .create({ amount: 2001, currency: 'usd' })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ statusCode: 403, raw: { code: 'approval_required' } });
    expect(creates()).toBe(1);
  });
});

describe('issuer rules that come with budgets', () => {
  it('refuses keys for connected accounts from an issuer, and holds a default TTL to its max_ttl', async () => {
    const tenant = await budget({ usd_cap: 100, expires_in: '2h' });
    const issued = await s.t.admin('POST', '/v1/issuers', { budget_id: tenant.id, max_ttl: '10m' });
    expect(issued.status, issued.text).toBe(201);
    const token = issued.json.token as string;
    const asIssuer = (path: string, body: Record<string, unknown>) =>
      s.t.admin('POST', path, body, { authorization: `Bearer ${token}` });
    const withAccount = await asIssuer('/v1/keys', {
      vendor: 'stripe',
      usd_cap: 5,
      allowed_endpoints: PAY,
      connected_accounts: ['acct_123'],
    });
    expect(withAccount.status).toBe(403);
    expect(withAccount.json.error).toMatchObject({ code: 'issuer_scope', limit: 'connected_accounts' });
    // No expiry named: the proxy's default (1h) would exceed the issuer's max_ttl, so it gets 10 minutes.
    const key = await asIssuer('/v1/keys', { vendor: 'stripe', usd_cap: 5, allowed_endpoints: PAY });
    expect(key.status, key.text).toBe(201);
    const ttl = Date.parse(key.json.expires_at as string) - Date.parse(key.json.created_at as string);
    expect(ttl).toBe(600_000);
    const child = await asIssuer('/v1/budgets', { usd_cap: 5 });
    expect(child.status, child.text).toBe(201);
    expect(Date.parse(child.json.expires_at as string) - Date.parse(child.json.created_at as string)).toBe(
      600_000,
    );
  });

  it('revokes every key an issuer issued when the issuer is revoked, and nothing else', async () => {
    const tenant = await budget({ usd_cap: 100, expires_in: '2h' });
    const issued = await s.t.admin('POST', '/v1/issuers', { budget_id: tenant.id });
    const token = issued.json.token as string;
    const mine = await s.t.admin(
      'POST',
      '/v1/keys',
      { vendor: 'stripe', usd_cap: 5, allowed_endpoints: PAY },
      { authorization: `Bearer ${token}` },
    );
    expect(mine.status, mine.text).toBe(201);
    expect(mine.json.issuer_id).toBe(issued.json.id);
    const admins = await s.t.issue({ vendor: 'stripe', budget_id: tenant.id, allowed_endpoints: PAY });
    const revoked = await s.t.admin('DELETE', `/v1/issuers/${issued.json.id as string}`);
    expect(revoked.json).toMatchObject({ status: 'revoked', revoked_keys: 1 });
    const refused = await s
      .sdk(mine.json.token as string)
      .paymentIntents.create({ amount: 100, currency: 'usd' })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ statusCode: 401, raw: { code: 'key_revoked' } });
    await expect(
      s.sdk(admins.token).paymentIntents.create({ amount: 100, currency: 'usd' }),
    ).resolves.toMatchObject({ amount: 100 });
    expect(creates()).toBe(1);
  });
});
