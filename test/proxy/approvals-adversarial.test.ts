import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStripeStack, type StripeStack } from '../helpers/stripe-stack.js';

/**
 * Adversarial review of "approval above an amount": a prompt-injected agent (or a buggy app) holding a vault
 * key tries to move money above `approval_above_usd` without a person's grant for that exact request, to
 * reuse a grant, to stretch it past its TTL, to flood or read the approval ledger, or to approve by itself.
 * Every case runs against the real proxy and a fake Stripe on 127.0.0.1.
 */
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const CHARGE_30 = 'amount=3000&currency=usd&customer=cus_1&payment_method=pm_card_visa&confirm=true';
const PATH = '/v1/payment_intents';

describe('approval above an amount: adversarial', () => {
  let s: StripeStack;
  beforeAll(async () => {
    s = await startStripeStack();
  });
  afterAll(async () => s.close());
  beforeEach(() => s.fake.reset());

  const key = (extra: Record<string, unknown> = {}) =>
    s.t.issue({
      vendor: 'stripe',
      usd_cap: 1000,
      approval_above_usd: 25,
      allowed_endpoints: [`POST ${PATH}`],
      label: 'adversarial',
      ...extra,
    });
  const charge = (token: string, body: string, headers: Record<string, string> = {}, path = PATH) =>
    s.t.call('POST', path, { token, body, headers: { ...FORM, ...headers } });
  const spend = async (id: string) => (await s.t.admin('GET', `/v1/keys/${id}`)).json;
  /** Asks for `body`, approves the pending approval it names, and returns the grant. */
  async function grantFor(token: string, body: string, headers: Record<string, string> = {}) {
    const refused = await charge(token, body, headers);
    expect(refused.json).toMatchObject({ code: 'approval_required' });
    const id = refused.json.error.approval.id as string;
    const approved = await s.t.admin('POST', `/v1/approvals/${id}/approve`);
    expect(approved.status).toBe(200);
    return { id, grant: approved.json.grant as string };
  }
  const forwarded = () => s.fake.requests.filter((r) => r.method === 'POST').length;

  it('spends a grant once across the /stripe prefix and the bare path', async () => {
    const { id, token } = await key();
    const { grant } = await grantFor(token, CHARGE_30);
    const prefixed = await charge(token, CHARGE_30, { 'spendgate-approval': grant }, `/stripe${PATH}`);
    expect(prefixed.status).toBe(200);
    const bare = await charge(token, CHARGE_30, { 'spendgate-approval': grant });
    expect(bare.json).toMatchObject({ code: 'approval_invalid' });
    const prefixedAgain = await charge(token, CHARGE_30, { 'spendgate-approval': grant }, `/stripe${PATH}`);
    expect(prefixedAgain.json).toMatchObject({ code: 'approval_invalid' });
    expect(forwarded()).toBe(1);
    expect(await spend(id)).toMatchObject({ spent_usd: 30 });
  });

  it('binds a grant to the exact body: reordered, extra, or changed parameters', async () => {
    const { token } = await key();
    const { grant } = await grantFor(token, CHARGE_30);
    const variants = [
      CHARGE_30.replace('customer=cus_1', 'customer=cus_evil'),
      `${CHARGE_30}&description=x`,
      CHARGE_30.replace('currency=usd', 'currency=eur'),
      CHARGE_30.replace('pm_card_visa', 'pm_card_mastercard'),
      `${CHARGE_30}&amount=2999`,
    ];
    for (const body of variants) {
      const res = await charge(token, body, { 'spendgate-approval': grant });
      expect([403, 400, 402]).toContain(res.status);
      // Refused as another request (no grant fits it), or before pricing: never forwarded.
      expect(['approval_invalid', 'approval_required', 'param_invalid', 'cost_unknown']).toContain(
        res.json.code,
      );
    }
    expect(forwarded()).toBe(0);
    // The untouched grant still pays for the approved call, once.
    expect((await charge(token, CHARGE_30, { 'spendgate-approval': grant })).status).toBe(200);
    expect(forwarded()).toBe(1);
  });

  it('refuses a query string on the approved POST before it reserves or spends the grant', async () => {
    const { token } = await key();
    const { id, grant } = await grantFor(token, CHARGE_30);
    const smuggled = await charge(token, CHARGE_30, { 'spendgate-approval': grant }, `${PATH}?amount=900000`);
    expect(smuggled.status).toBe(400);
    expect(smuggled.json).toMatchObject({ code: 'param_not_allowed' });
    expect(forwarded()).toBe(0);
    expect((await s.t.admin('GET', `/v1/approvals/${id}`)).json.status).toBe('approved');
  });

  it('lets one grant through once when 25 copies race with different idempotency keys', async () => {
    const { id, token } = await key();
    const { grant } = await grantFor(token, CHARGE_30);
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        charge(token, CHARGE_30, {
          'spendgate-approval': grant,
          ...(i % 2 === 0 ? { 'idempotency-key': `race-${i}` } : {}),
        }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.json?.code === 'approval_invalid')).toHaveLength(24);
    expect(forwarded()).toBe(1);
    expect(await spend(id)).toMatchObject({ spent_usd: 30, reserved_usd: 0 });
  });

  it('does not let a replay of an approved call move new money under another idempotency key or account', async () => {
    const { id, token } = await key({ connected_accounts: ['acct_A1', 'acct_B2'] });
    const { grant } = await grantFor(token, CHARGE_30, { 'idempotency-key': 'k1' });
    const first = await charge(token, CHARGE_30, { 'idempotency-key': 'k1', 'spendgate-approval': grant });
    expect(first.status).toBe(200);
    // A real replay: no grant needed, nothing new moves, the vendor answers from its idempotency record.
    const replay = await charge(token, CHARGE_30, { 'idempotency-key': 'k1' });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    // The same idempotency key on a connected account is a new operation at Stripe: it needs a new grant.
    const onAccount = await charge(token, CHARGE_30, {
      'idempotency-key': 'k1',
      'stripe-account': 'acct_B2',
    });
    expect(onAccount.json).toMatchObject({ code: 'approval_required' });
    const viaContext = await charge(token, CHARGE_30, {
      'idempotency-key': 'k1',
      'stripe-context': 'acct_B2',
    });
    expect(viaContext.json).toMatchObject({ code: 'approval_required' });
    // Another key, the same body: a new operation.
    const otherKey = await charge(token, CHARGE_30, { 'idempotency-key': 'k2' });
    expect(otherKey.json).toMatchObject({ code: 'approval_required' });
    // Case and whitespace in the key are different keys to Stripe, and so to the proxy.
    const shouted = await charge(token, CHARGE_30, { 'idempotency-key': 'K1' });
    expect(shouted.json).toMatchObject({ code: 'approval_required' });
    const moved = s.fake.requests.filter(
      (r) => r.method === 'POST' && r.headers['idempotent-replayed'] !== 'true',
    );
    expect(moved.length).toBeGreaterThanOrEqual(1);
    expect(await spend(id)).toMatchObject({ spent_usd: 30, reserved_usd: 0 });
  });

  it('needs a new grant after a declined (released) approved call, even with the same idempotency key', async () => {
    const { id, token } = await key();
    const declined = CHARGE_30.replace('pm_card_visa', 'pm_card_chargeDeclined');
    const { id: approvalId, grant } = await grantFor(token, declined, { 'idempotency-key': 'd1' });
    const first = await charge(token, declined, { 'idempotency-key': 'd1', 'spendgate-approval': grant });
    expect(first.status).toBe(402);
    expect(await spend(id)).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
    expect((await s.t.admin('GET', `/v1/approvals/${approvalId}`)).json.status).toBe('used');
    const retry = await charge(token, declined, { 'idempotency-key': 'd1', 'spendgate-approval': grant });
    expect(retry.json).toMatchObject({ code: 'approval_invalid' });
    const bare = await charge(token, declined, { 'idempotency-key': 'd1' });
    expect(bare.json).toMatchObject({ code: 'approval_required' });
    expect(forwarded()).toBe(1);
  });

  it('replays an uncertain approved call without a grant, but moves its money at most once', async () => {
    const { id, token } = await key();
    const { grant } = await grantFor(token, CHARGE_30, { 'idempotency-key': 'u1' });
    s.fake.failNext({ status: 500, afterExecute: true });
    const first = await charge(token, CHARGE_30, { 'idempotency-key': 'u1', 'spendgate-approval': grant });
    expect(first.status).toBe(500);
    expect(await spend(id)).toMatchObject({ uncertain_usd: 30 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => charge(token, CHARGE_30, { 'idempotency-key': 'u1' })),
    );
    for (const res of results) expect([200, 409, 500]).toContain(res.status);
    const intents = new Set(results.filter((r) => r.status === 200).map((r) => r.json.id as string));
    expect(intents.size).toBeLessThanOrEqual(1);
    const view = await spend(id);
    expect(view.spent_usd).toBe(30);
    // A different body under the same idempotency key is a mismatch, never a new charge.
    const bigger = await charge(token, CHARGE_30.replace('3000', '90000'), { 'idempotency-key': 'u1' });
    expect(bigger.json).toMatchObject({ code: 'idempotency_mismatch' });
  });

  it('treats an empty Idempotency-Key as none: a second identical call needs a second grant', async () => {
    const { id, token } = await key();
    const { grant } = await grantFor(token, CHARGE_30);
    expect(
      (await charge(token, CHARGE_30, { 'idempotency-key': '', 'spendgate-approval': grant })).status,
    ).toBe(200);
    const again = await charge(token, CHARGE_30, { 'idempotency-key': '' });
    expect(again.json).toMatchObject({ code: 'approval_required' });
    expect(await spend(id)).toMatchObject({ spent_usd: 30 });
  });

  it('refuses two Spendgate-Approval headers, even when both name the valid grant', async () => {
    const { token } = await key();
    const { id, grant } = await grantFor(token, CHARGE_30);
    const doubled = await charge(token, CHARGE_30, { 'spendgate-approval': `${grant}, ${grant}` });
    expect(doubled.json).toMatchObject({ code: 'approval_invalid' });
    expect((await s.t.admin('GET', `/v1/approvals/${id}`)).json.status).toBe('approved');
    expect(forwarded()).toBe(0);
  });

  it('does not spend a grant sent with a call at or under the threshold', async () => {
    const { token } = await key();
    const { id, grant } = await grantFor(token, CHARGE_30);
    const small = await charge(token, CHARGE_30.replace('3000', '2000'), { 'spendgate-approval': grant });
    expect(small.status).toBe(200);
    expect((await s.t.admin('GET', `/v1/approvals/${id}`)).json.status).toBe('approved');
    expect((await charge(token, CHARGE_30, { 'spendgate-approval': grant })).status).toBe(200);
  });

  it('cannot approve twice to mint a second grant, nor approve a used one', async () => {
    const { token } = await key();
    const refused = await charge(token, CHARGE_30);
    const approvalId = refused.json.error.approval.id as string;
    const [a, b] = await Promise.all([
      s.t.admin('POST', `/v1/approvals/${approvalId}/approve`),
      s.t.admin('POST', `/v1/approvals/${approvalId}/approve`),
    ]);
    const ok = [a, b].filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    const grant = ok[0]?.json.grant as string;
    expect((await charge(token, CHARGE_30, { 'spendgate-approval': grant })).status).toBe(200);
    const after = await s.t.admin('POST', `/v1/approvals/${approvalId}/approve`);
    expect(after.json).toMatchObject({ code: 'approval_invalid', error: { status: 'used' } });
    expect(after.text).not.toContain('apv_');
  });

  it('refuses a grant once its key is revoked, and after the key expires', async () => {
    const { id, token } = await key();
    const { grant } = await grantFor(token, CHARGE_30);
    await s.t.admin('DELETE', `/v1/keys/${id}`);
    const revoked = await charge(token, CHARGE_30, { 'spendgate-approval': grant });
    expect(revoked.json).toMatchObject({ code: 'key_revoked' });
    expect(forwarded()).toBe(0);
  });

  it('never lifts a cap: daily and total caps still refuse an approved call and keep the grant', async () => {
    for (const caps of [{ daily_usd_cap: 40 }, { usd_cap: 40 }]) {
      const { id, token } = await key(caps);
      const { id: approvalId, grant } = await grantFor(token, CHARGE_30);
      // Spent while the person decided: the approved $30 no longer fits.
      expect((await charge(token, CHARGE_30.replace('amount=3000', 'amount=1500'))).status).toBe(200);
      const capped = await charge(token, CHARGE_30, { 'spendgate-approval': grant });
      expect(capped.status).toBe(429);
      expect(capped.json.code).toBe('cap_exhausted');
      expect((await s.t.admin('GET', `/v1/approvals/${approvalId}`)).json.status).toBe('approved');
      expect(await spend(id)).toMatchObject({ spent_usd: 15, reserved_usd: 0 });
    }
    expect(forwarded()).toBe(2);
  });

  it('refuses a call above the per-call limit by that limit, without asking a person', async () => {
    const { id, token } = await key({ max_usd_per_call: 29 });
    const refused = await charge(token, CHARGE_30);
    expect(refused.status).toBe(403);
    expect(refused.json.code).toBe('per_call_limit_exceeded');
    expect((await s.t.admin('GET', `/v1/approvals?key_id=${id}`)).json.data).toHaveLength(0);
    expect(forwarded()).toBe(0);
  });

  it('keeps every approval route away from a vault key, whatever the spelling or credential form', async () => {
    const { token } = await key({ allowed_endpoints: [`POST ${PATH}`, 'POST /v1/approvals/*/approve'] });
    const refused = await charge(token, CHARGE_30);
    const approvalId = refused.json.error.approval.id as string;
    const basic = `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
    const attempts = [
      s.t.call('POST', `/v1/approvals/${approvalId}/approve`, { token }),
      s.t.call('POST', `/v1/approvals/${approvalId}/approve`, { headers: { authorization: basic } }),
      s.t.call('POST', `/v1/approvals/${approvalId}/approve/`, { token }),
      s.t.call('POST', `/V1/approvals/${approvalId}/approve`, { token }),
      s.t.call('POST', `/v1/%61pprovals/${approvalId}/approve`, { token }),
      s.t.call('POST', `//v1/approvals/${approvalId}/approve`, { token }),
      s.t.call('POST', `/stripe/v1/approvals/${approvalId}/approve`, { token }),
      s.t.call('POST', `/v1/x/../approvals/${approvalId}/approve`, { token }),
      s.t.call('GET', `/v1/approvals?status=approved`, { token }),
      s.t.call('GET', `/v1/approvals/${approvalId}`, { token }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.text).not.toMatch(/apv_/);
    }
    expect((await s.t.admin('GET', `/v1/approvals/${approvalId}`)).json.status).toBe('pending');
  });

  it('never shows the grant or its hash in logs, audit rows, approval views, lists or error bodies', async () => {
    const { id, token } = await key();
    const { id: approvalId, grant } = await grantFor(token, CHARGE_30);
    const hash = createHash('sha256').update(grant).digest('hex');
    const bodies: string[] = [];
    bodies.push((await charge(token, CHARGE_30, { 'spendgate-approval': grant })).text);
    bodies.push((await charge(token, CHARGE_30, { 'spendgate-approval': grant })).text);
    bodies.push(
      (await charge(token, CHARGE_30.replace('3000', '3100'), { 'spendgate-approval': grant })).text,
    );
    bodies.push((await s.t.admin('GET', `/v1/approvals/${approvalId}`)).text);
    bodies.push((await s.t.admin('GET', `/v1/approvals?key_id=${id}`)).text);
    bodies.push((await s.t.admin('GET', `/v1/approvals?status=used`)).text);
    bodies.push((await s.t.admin('POST', `/v1/approvals/${approvalId}/approve`)).text);
    bodies.push((await s.t.admin('POST', `/v1/approvals/${approvalId}/deny`)).text);
    bodies.push((await s.t.admin('GET', `/v1/audit?key_id=${id}`)).text);
    bodies.push((await s.t.admin('GET', `/v1/keys/${id}`)).text);
    bodies.push(
      (
        await s.t.call('GET', '/metrics', {
          headers: { authorization: 'Bearer admin-token-test-0123456789' },
        })
      ).text,
    );
    const everything = [...bodies, ...s.t.logs].join('\n');
    expect(everything).not.toContain(grant);
    expect(everything).not.toContain(grant.slice(4));
    expect(everything).not.toContain(hash);
    for (const request of s.fake.requests) {
      expect(JSON.stringify(request)).not.toContain(grant.slice(4));
    }
  });

  it('refuses an approval id from another key as a grant, and a grant-shaped approval id', async () => {
    const { token } = await key();
    const refused = await charge(token, CHARGE_30);
    const approvalId = refused.json.error.approval.id as string;
    const asGrant = await charge(token, CHARGE_30, {
      'spendgate-approval': `apv_${approvalId.slice(4).padEnd(43, 'A')}`,
    });
    expect(asGrant.json).toMatchObject({ code: 'approval_invalid' });
    expect(forwarded()).toBe(0);
  });

  // Regression for an adversarial-review finding (fixed).
  it('binds a grant to its connected account: approved for acct_A1, refused on acct_B2', async () => {
    const { token } = await key({ connected_accounts: ['acct_A1', 'acct_B2'] });
    const { grant } = await grantFor(token, CHARGE_30, { 'stripe-account': 'acct_A1' });
    const swapped = await charge(token, CHARGE_30, {
      'stripe-account': 'acct_B2',
      'spendgate-approval': grant,
    });
    expect(swapped.json?.code).toBe('approval_invalid');
    expect(s.fake.requests.filter((r) => r.headers['stripe-account'] === 'acct_B2')).toHaveLength(0);
  });

  // Regression for an adversarial-review finding (fixed).
  it('binds a grant asked for on the platform account to the platform account', async () => {
    const { token } = await key({ connected_accounts: ['acct_B2'] });
    const { grant } = await grantFor(token, CHARGE_30);
    const moved = await charge(token, CHARGE_30, {
      'stripe-account': 'acct_B2',
      'spendgate-approval': grant,
    });
    expect(moved.json?.code).toBe('approval_invalid');
  });

  // Regression for an adversarial-review finding (fixed).
  it('asks a person separately for the same body on two connected accounts', async () => {
    const { token } = await key({ connected_accounts: ['acct_A1', 'acct_B2'] });
    const onA = await charge(token, CHARGE_30, { 'stripe-account': 'acct_A1' });
    const onB = await charge(token, CHARGE_30, { 'stripe-account': 'acct_B2' });
    expect(onA.json.error.approval.id).not.toBe(onB.json.error.approval.id);
  });

  // Regression for an adversarial-review finding (fixed).
  it('does not ask a person to approve a call that a cap refuses anyway', async () => {
    const { id, token } = await key({ max_usd_per_call: 100 });
    const impossible = await charge(token, CHARGE_30.replace('3000', '1000000'));
    expect(impossible.json.code).toBe('per_call_limit_exceeded');
    const pending = await s.t.admin('GET', `/v1/approvals?status=pending&key_id=${id}`);
    expect(pending.json.data).toHaveLength(0);
  });

  // Regression for an adversarial-review finding (fixed).
  it('bounds how many pending approvals one vault key can open', async () => {
    const { id, token } = await key();
    const started = Date.now();
    for (let i = 0; i < 60 && Date.now() - started < 20_000; i++) {
      await charge(token, `${CHARGE_30}&description=${encodeURIComponent(`flood ${i}`)}`);
    }
    const pending = await s.t.admin('GET', `/v1/approvals?status=pending&key_id=${id}&limit=100`);
    expect(pending.json.data.length).toBeLessThanOrEqual(20);
  });
});
