import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSpendgateClient } from '../../src/client/index.js';
import { ADMIN_TOKEN } from '../helpers/proxy.js';
import { startStripeStack, type StripeStack } from '../helpers/stripe-stack.js';

/**
 * Approval above an amount, through the real proxy and the official Stripe SDK: a $30 charge on a key with
 * `approval_above_usd: 25` is refused with a pending approval, forwarded once with its grant, and never
 * with a grant that is forged, replayed, for another amount, or for another key.
 */
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const CHARGE_30 = 'amount=3000&currency=usd&customer=cus_1&payment_method=pm_card_visa&confirm=true';

describe('approval above an amount', () => {
  let s: StripeStack;
  beforeAll(async () => {
    s = await startStripeStack({ overrides: { SPENDGATE_LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => s.close());
  beforeEach(() => s.fake.reset());

  const client = () => createSpendgateClient({ baseUrl: s.t.url, adminToken: ADMIN_TOKEN });
  const key = (extra: Record<string, unknown> = {}) =>
    s.t.issue({
      vendor: 'stripe',
      usd_cap: 100,
      approval_above_usd: 25,
      allowed_endpoints: ['POST /v1/payment_intents'],
      label: 'approvals',
      ...extra,
    });
  const charge = (token: string, body: string, headers: Record<string, string> = {}) =>
    s.t.call('POST', '/v1/payment_intents', { token, body, headers: { ...FORM, ...headers } });
  const spend = async (id: string) => (await s.t.admin('GET', `/v1/keys/${id}`)).json;

  it('refuses a $30 charge with a pending approval, then forwards it once with the grant', async () => {
    const { id, token } = await key();
    const refused = await charge(token, CHARGE_30, { 'idempotency-key': 'order-7' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('stripe-should-retry')).toBe('false');
    expect(refused.json).toMatchObject({
      code: 'approval_required',
      error: {
        retryable: false,
        key_id: id,
        approval: { amount_usd: 30, method: 'POST', path: '/v1/payment_intents', key_id: id },
      },
    });
    const approvalId = refused.json.error.approval.id as string;
    expect(approvalId).toMatch(/^apr_/);
    expect(s.fake.requests).toHaveLength(0);
    // Asking again (a retry, a second copy) points at the same pending approval.
    expect((await charge(token, CHARGE_30, { 'idempotency-key': 'order-7' })).json.error.approval.id).toBe(
      approvalId,
    );

    const pending = await client().listApprovals({ status: 'pending', label: 'approvals' });
    expect(pending.data.map((a) => a.id)).toContain(approvalId);
    const { grant } = await client().approveCall(approvalId);
    expect(grant).toMatch(/^apv_/);

    const sdk = s.sdk(token);
    const intent = await sdk.paymentIntents.create(
      { amount: 3000, currency: 'usd', customer: 'cus_1', payment_method: 'pm_card_visa', confirm: true },
      { idempotencyKey: 'order-7', headers: { 'Spendgate-Approval': grant } },
    );
    expect(intent).toMatchObject({ amount: 3000, status: 'succeeded' });
    expect(s.fake.requests).toHaveLength(1);
    // The grant is the proxy's business: the vendor never sees it.
    expect(s.fake.requests[0]?.headers['spendgate-approval']).toBeUndefined();
    expect(await client().getApproval(approvalId)).toMatchObject({ status: 'used' });
    expect(await spend(id)).toMatchObject({ spent_usd: 30, reserved_usd: 0, approval_above_usd: 25 });

    // The SDK retrying the same request replays Stripe's answer; it does not spend the grant again.
    const again = await sdk.paymentIntents.create(
      { amount: 3000, currency: 'usd', customer: 'cus_1', payment_method: 'pm_card_visa', confirm: true },
      { idempotencyKey: 'order-7', headers: { 'Spendgate-Approval': grant } },
    );
    expect(again.id).toBe(intent.id);
    expect(await spend(id)).toMatchObject({ spent_usd: 30 });
  });

  it('refuses a used grant for a second charge, and a grant for a different amount', async () => {
    const { id, token } = await key();
    const refused = await charge(token, CHARGE_30, { 'idempotency-key': 'a' });
    const { grant } = await client().approveCall(refused.json.error.approval.id);
    expect(
      (await charge(token, CHARGE_30, { 'idempotency-key': 'a', 'spendgate-approval': grant })).status,
    ).toBe(200);
    const second = await charge(token, CHARGE_30, { 'idempotency-key': 'b', 'spendgate-approval': grant });
    expect(second.status).toBe(403);
    expect(second.json).toMatchObject({ code: 'approval_invalid', error: { retryable: false } });

    const other = await charge(token, CHARGE_30.replace('3000', '2900'), { 'idempotency-key': 'c' });
    const { grant: grant29 } = await client().approveCall(other.json.error.approval.id);
    const bigger = await charge(token, CHARGE_30.replace('3000', '6000'), {
      'idempotency-key': 'c',
      'spendgate-approval': grant29,
    });
    expect(bigger.json).toMatchObject({ code: 'approval_invalid' });
    expect(s.fake.requests).toHaveLength(1);
    expect(await spend(id)).toMatchObject({ spent_usd: 30, denied_calls: 4 });
  });

  it("refuses a model-supplied value that is not a grant, and another key's grant", async () => {
    const { token } = await key();
    const forged = await charge(token, CHARGE_30, { 'spendgate-approval': 'approved' });
    expect(forged.status).toBe(403);
    expect(forged.json).toMatchObject({ code: 'approval_invalid' });
    const guessed = await charge(token, CHARGE_30, { 'spendgate-approval': `apv_${'A'.repeat(43)}` });
    expect(guessed.json).toMatchObject({ code: 'approval_invalid' });
    // Even under the threshold a malformed value is refused rather than ignored.
    const small = await charge(token, CHARGE_30.replace('3000', '500'), { 'spendgate-approval': 'yes' });
    expect(small.json).toMatchObject({ code: 'approval_invalid' });

    const other = await key();
    const asked = await charge(other.token, CHARGE_30);
    const { grant } = await client().approveCall(asked.json.error.approval.id);
    const stolen = await charge(token, CHARGE_30, { 'spendgate-approval': grant });
    expect(stolen.json).toMatchObject({ code: 'approval_invalid' });
    expect(s.fake.requests).toHaveLength(0);
  });

  it('charges nothing once denied, and decides each approval once', async () => {
    const { id, token } = await key();
    const refused = await charge(token, CHARGE_30);
    const approvalId = refused.json.error.approval.id as string;
    expect(await client().denyCall(approvalId)).toEqual({ id: approvalId, status: 'denied' });
    const approveLater = await s.t.admin('POST', `/v1/approvals/${approvalId}/approve`);
    expect(approveLater.status).toBe(403);
    expect(approveLater.json).toMatchObject({ code: 'approval_invalid', error: { status: 'denied' } });
    // The denied call asks again as a new approval; the denial is not turned into a grant.
    const again = await charge(token, CHARGE_30);
    expect(again.json.error.approval.id).not.toBe(approvalId);
    expect(s.fake.requests).toHaveLength(0);
    expect(await spend(id)).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
    expect((await s.t.admin('POST', '/v1/approvals/apr_missing/deny')).json).toMatchObject({
      code: 'not_found',
    });
  });

  it('still reserves against every cap: approval never lifts one', async () => {
    const { id, token } = await key({ usd_cap: 40 });
    const refused = await charge(token, CHARGE_30);
    const { grant } = await client().approveCall(refused.json.error.approval.id);
    // Spent while the person was deciding: the approved $30 no longer fits the $40 cap.
    expect((await charge(token, CHARGE_30.replace('3000', '1500'))).status).toBe(200);
    const capped = await charge(token, CHARGE_30, { 'spendgate-approval': grant });
    expect(capped.status).toBe(429);
    expect(capped.json).toMatchObject({ code: 'cap_exhausted' });
    expect(s.fake.requests).toHaveLength(1);
    expect(await spend(id)).toMatchObject({ spent_usd: 15 });
    // A call that could never go through is refused by its cap, and no person is asked about it.
    const hopeless = await charge(token, CHARGE_30.replace('3000', '9000'));
    expect(hopeless.json).toMatchObject({ code: 'cap_exhausted' });
    expect((await client().listApprovals({ keyId: id })).data).toHaveLength(1);
  });

  it('binds the grant to the connected account the call acts on', async () => {
    const { token } = await key({ connected_accounts: ['acct_A1', 'acct_B2'] });
    const onA = await charge(token, CHARGE_30, { 'stripe-account': 'acct_A1' });
    expect(onA.json.error.approval).toMatchObject({ account: 'stripe-account=acct_A1' });
    const { grant } = await client().approveCall(onA.json.error.approval.id);
    const onB = await charge(token, CHARGE_30, { 'stripe-account': 'acct_B2', 'spendgate-approval': grant });
    expect(onB.json).toMatchObject({ code: 'approval_invalid' });
    const platform = await charge(token, CHARGE_30, { 'spendgate-approval': grant });
    expect(platform.json).toMatchObject({ code: 'approval_invalid' });
    expect(s.fake.requests).toHaveLength(0);
    const used = await charge(token, CHARGE_30, { 'stripe-account': 'acct_A1', 'spendgate-approval': grant });
    expect(used.status).toBe(200);
    expect(s.fake.requests[0]?.headers['stripe-account']).toBe('acct_A1');
  });

  it('lets calls at or under the threshold through without asking', async () => {
    const { id, token } = await key();
    expect((await charge(token, CHARGE_30.replace('3000', '2500'))).status).toBe(200);
    expect(await spend(id)).toMatchObject({ spent_usd: 25 });
    expect((await client().listApprovals({ keyId: id })).data).toHaveLength(0);
  });

  it('keeps the approval routes behind the admin token', async () => {
    const { token } = await key();
    const asked = await charge(token, CHARGE_30);
    const approvalId = asked.json.error.approval.id as string;
    const withVaultKey = await s.t.admin('POST', `/v1/approvals/${approvalId}/approve`, undefined, {
      authorization: `Bearer ${token}`,
    });
    expect(withVaultKey.status).toBe(403);
    expect(withVaultKey.json).toMatchObject({ code: 'admin_token_required' });
    const viaVendorPath = await s.t.call('POST', `/v1/approvals/${approvalId}/approve`, { token });
    expect(viaVendorPath.status).toBe(403);
    const bad = await s.t.admin('GET', '/v1/approvals?status=nope');
    expect(bad.json).toMatchObject({ code: 'bad_request' });
    expect((await client().getApproval(approvalId)).status).toBe('pending');
  });
});

describe('approval expiry', () => {
  let time = Date.UTC(2026, 11, 1, 12);
  let s: StripeStack;
  beforeAll(async () => {
    s = await startStripeStack({
      overrides: { SPENDGATE_LOG_LEVEL: 'warn', SPENDGATE_APPROVAL_TTL: '1m' },
      now: () => time,
    });
  });
  afterAll(async () => s.close());

  it('expires an undecided approval and an unused grant after SPENDGATE_APPROVAL_TTL', async () => {
    const { token } = await s.t.issue({
      vendor: 'stripe',
      usd_cap: 100,
      approval_above_usd: 25,
      allowed_endpoints: ['POST /v1/payment_intents'],
    });
    const first = await s.t.call('POST', '/v1/payment_intents', { token, body: CHARGE_30, headers: FORM });
    time += 60_000;
    const late = await s.t.admin('POST', `/v1/approvals/${first.json.error.approval.id}/approve`);
    expect(late.json).toMatchObject({ code: 'approval_invalid', error: { status: 'expired' } });

    const second = await s.t.call('POST', '/v1/payment_intents', { token, body: CHARGE_30, headers: FORM });
    const approved = await s.t.admin('POST', `/v1/approvals/${second.json.error.approval.id}/approve`);
    expect(Date.parse(approved.json.expires_at)).toBe(time + 60_000);
    time += 60_000;
    const stale = await s.t.call('POST', '/v1/payment_intents', {
      token,
      body: CHARGE_30,
      headers: { ...FORM, 'spendgate-approval': approved.json.grant },
    });
    expect(stale.json).toMatchObject({ code: 'approval_invalid' });
    expect(s.fake.requests).toHaveLength(0);
  });
});
