/**
 * Budgets over HTTP, through the real proxy and the official Stripe SDK against a fake Stripe: the exact
 * views of a tree after real calls, one cap shared by several keys under 200 concurrent calls, a revoke in the
 * middle of a tree, and every bad input refused with nothing created.
 */
import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropSchema, pgTestUrl, uniqueSchema } from '../helpers/postgres.js';
import type { TestResponse } from '../helpers/proxy.js';
import { startStripeStack, type StripeStack } from '../helpers/stripe-stack.js';

const PAY = ['POST /v1/payment_intents'];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const pg = pgTestUrl();
const LEDGERS: Array<{ name: string; db: string; schema?: string }> = [
  { name: 'SQLite', db: ':memory:' },
  { name: 'memory', db: 'memory' },
  ...(pg === undefined ? [] : [{ name: 'PostgreSQL', db: pg, schema: uniqueSchema() }]),
];

const refusal = (res: TestResponse) => ({
  status: res.status,
  code: res.json?.code as unknown,
  error: res.json?.error as Record<string, unknown> | undefined,
});

/** The POST /v1/payment_intents the fake upstream saw, and the total of their amounts in cents. */
function creates(s: StripeStack) {
  const posts = s.fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents');
  const cents = posts.reduce(
    (sum, r) => sum + Number(new URLSearchParams(r.body.toString('utf8')).get('amount')),
    0,
  );
  return { count: posts.length, cents };
}

describe.each(LEDGERS)('budgets over HTTP on the $name ledger', (ledger) => {
  let skew = 0;
  let s: StripeStack;
  beforeAll(async () => {
    s = await startStripeStack({
      overrides: {
        SPENDGATE_LOG_LEVEL: 'warn',
        SPENDGATE_MAX_TTL: '24h',
        SPENDGATE_DB: ledger.db,
        ...(ledger.schema ? { SPENDGATE_DB_SCHEMA: ledger.schema } : {}),
      },
      now: () => Date.now() + skew,
    });
  }, 60_000);
  afterAll(async () => {
    await s.close();
    if (ledger.schema) await dropSchema(ledger.db, ledger.schema);
  });
  beforeEach(() => s.fake.reset());

  const budget = async (body: Record<string, unknown>) => {
    const res = await s.t.admin('POST', '/v1/budgets', body);
    expect(res.status, res.text).toBe(201);
    return res.json as Record<string, unknown> & { id: string };
  };
  const key = (body: Record<string, unknown>) =>
    s.t.issue({ vendor: 'stripe', allowed_endpoints: PAY, expires_in: '20m', ...body });
  const getBudget = async (id: string) => (await s.t.admin('GET', `/v1/budgets/${id}`)).json;
  const getKey = async (id: string) => (await s.t.admin('GET', `/v1/keys/${id}`)).json;
  /**
   * Waits until nothing is in flight under the budget: PostgreSQL answers the caller first and applies the
   * settlement from its journal a moment later (docs/http-api.md, "Reply, then settle, durably").
   */
  const settled = async (...budgetIds: string[]) => {
    for (const id of budgetIds) await expect.poll(async () => (await getBudget(id)).reserved_usd).toBe(0);
  };
  const pay = (sdk: Stripe, cents: number) => sdk.paymentIntents.create({ amount: cents, currency: 'usd' });

  /** Every item of an admin list, following the cursor. */
  const all = async (path: string) => {
    const out: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    const sep = path.includes('?') ? '&' : '?';
    do {
      const res = await s.t.admin('GET', `${path}${sep}limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, res.text).toBe(200);
      out.push(...(res.json.data as Array<Record<string, unknown>>));
      cursor = res.json.next_cursor as string | null;
    } while (cursor !== null);
    return out;
  };
  const census = async () => ({
    keys: (await all('/v1/keys')).length,
    budgets: (await all('/v1/budgets')).length,
  });

  it('creates, reads, lists and revokes a tree, with exact spend views after SDK calls', async () => {
    const root = await budget({
      usd_cap: 100,
      daily_usd_cap: 80,
      label: 'bh-root',
      metadata: { tenant: 't1' },
      expires_in: '2h',
    });
    expect(root).toEqual({
      id: expect.stringMatching(/^bud_/),
      parent_id: null,
      label: 'bh-root',
      metadata: { tenant: 't1' },
      usd_cap: 100,
      daily_usd_cap: 80,
      max_usd_per_call: null,
      approval_above_usd: null,
      status: 'active',
      depth: 1,
      created_at: expect.stringMatching(ISO),
      expires_at: expect.stringMatching(ISO),
      revoked_at: null,
      spent_usd: 0,
      spent_today_usd: 0,
      reserved_usd: 0,
      uncertain_usd: 0,
      remaining_usd: 80,
      keys: 0,
      child_budgets: 0,
    });
    expect(Date.parse(root.expires_at as string) - Date.parse(root.created_at as string)).toBe(7_200_000);
    const child = await budget({
      parent_id: root.id,
      usd_cap: 30,
      max_usd_per_call: 10,
      label: 'bh-child',
      expires_in: '1h',
    });
    expect(child).toMatchObject({ parent_id: root.id, depth: 2, remaining_usd: 30, metadata: {} });
    const grand = await budget({ parent_id: child.id, label: 'bh-grand', expires_in: '30m' });
    expect(grand).toMatchObject({ parent_id: child.id, depth: 3, usd_cap: null, remaining_usd: 30 });

    // A key under a budget needs no cap of its own.
    const k1 = await s.t.admin('POST', '/v1/keys', {
      vendor: 'stripe',
      budget_id: grand.id,
      allowed_endpoints: PAY,
      expires_in: '20m',
    });
    expect(k1.status, k1.text).toBe(201);
    expect(k1.json).toMatchObject({ budget_id: grand.id, usd_cap: null, daily_usd_cap: null });
    const k2 = await key({ budget_id: child.id, usd_cap: 5 });

    const sdk1 = s.sdk(k1.json.token);
    const sdk2 = s.sdk(k2.token);
    expect(await pay(sdk1, 750)).toMatchObject({ amount: 750, status: expect.any(String) });
    await pay(sdk1, 250);
    await pay(sdk2, 400);
    expect(creates(s)).toEqual({ count: 3, cents: 1400 });

    // The child's per-call limit refuses an $11 call before it leaves, naming the child.
    const perCall = await pay(sdk1, 1100).catch((e: unknown) => e);
    expect(perCall).toMatchObject({
      statusCode: 403,
      code: 'per_call_limit_exceeded',
      raw: { budget_id: child.id },
    });
    // The key's own $5 cap refuses $1.01 more on k2 (it has $1 left).
    const keyCap = await pay(sdk2, 101).catch((e: unknown) => e);
    expect(keyCap).toMatchObject({ statusCode: 429, code: 'cap_exhausted', raw: { key_id: k2.id } });
    expect(creates(s).count).toBe(3);
    await settled(root.id, child.id, grand.id);

    const spend = (spent: number, remaining: number, keys: number, children: number) => ({
      spent_usd: spent,
      spent_today_usd: spent,
      reserved_usd: 0,
      uncertain_usd: 0,
      remaining_usd: remaining,
      keys,
      child_budgets: children,
    });
    expect(await getBudget(root.id)).toMatchObject({ ...spend(14, 66, 0, 1), status: 'active' });
    expect(await getBudget(child.id)).toMatchObject(spend(14, 16, 1, 1));
    expect(await getBudget(grand.id)).toMatchObject(spend(10, 16, 1, 0));
    expect(await getKey(k1.json.id)).toMatchObject({ spent_usd: 10, remaining_usd: 16, calls: 2 });
    expect(await getKey(k2.id)).toMatchObject({ spent_usd: 4, remaining_usd: 1 });

    const listed = await s.t.admin('GET', '/v1/budgets?label_prefix=bh-');
    expect(listed.json.data.map((b: { id: string }) => b.id)).toEqual([grand.id, child.id, root.id]);
    expect(listed.json.data[1]).toMatchObject(spend(14, 16, 1, 1));
    expect(listed.json.next_cursor).toBeNull();
    const page = await s.t.admin('GET', '/v1/budgets?label_prefix=bh-&limit=2');
    expect(page.json.data).toHaveLength(2);
    const rest = await s.t.admin(
      'GET',
      `/v1/budgets?label_prefix=bh-&limit=2&cursor=${page.json.next_cursor}`,
    );
    expect(rest.json.data.map((b: { id: string }) => b.id)).toEqual([root.id]);
    expect((await s.t.admin('GET', `/v1/budgets?parent_id=${root.id}`)).json.data).toEqual([
      expect.objectContaining({ id: child.id }),
    ]);
    expect((await s.t.admin('GET', '/v1/budgets?label=bh-grand')).json.data).toHaveLength(1);

    const revoked = await s.t.admin('DELETE', `/v1/budgets/${root.id}`);
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.json).toEqual({
      id: root.id,
      status: 'revoked',
      revoked_at: expect.stringMatching(ISO),
      revoked_keys: 2,
      revoked_budgets: 3,
    });
    for (const id of [root.id, child.id, grand.id]) {
      expect(await getBudget(id)).toMatchObject({
        status: 'revoked',
        revoked_at: expect.stringMatching(ISO),
      });
    }
    // Idempotent: nothing more to revoke, the same revoked_at.
    const again = await s.t.admin('DELETE', `/v1/budgets/${root.id}`);
    expect(again.json).toMatchObject({
      revoked_at: revoked.json.revoked_at,
      revoked_keys: 0,
      revoked_budgets: 0,
    });
    expect((await s.t.admin('GET', '/v1/budgets?label_prefix=bh-&status=revoked')).json.data).toHaveLength(3);
    expect((await s.t.admin('GET', '/v1/budgets?label_prefix=bh-&status=active')).json.data).toHaveLength(0);
    const after = await pay(sdk2, 100).catch((e: unknown) => e);
    expect(after).toMatchObject({ statusCode: 401, code: 'key_revoked' });
    expect(creates(s).count).toBe(3);
    expect((await s.t.admin('GET', '/v1/budgets/bud_doesnotexist')).json.code).toBe('not_found');
    expect((await s.t.admin('DELETE', '/v1/budgets/bud_doesnotexist')).status).toBe(404);
  });

  it('200 concurrent $1 calls over two $40 keys under a $50 budget: exactly 50 go through', async () => {
    const run = await budget({ usd_cap: 50, label: 'bh-run', expires_in: '1h' });
    const a = await key({ budget_id: run.id, usd_cap: 40, label: 'bh-run-a' });
    const b = await key({ budget_id: run.id, usd_cap: 40, label: 'bh-run-b' });
    const sdks = [s.sdk(a.token), s.sdk(b.token)];
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => pay(sdks[i % 2] as Stripe, 100)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as Stripe.errors.StripeError] : [],
    );
    expect(ok).toHaveLength(50);
    expect(refused).toHaveLength(150);
    for (const err of refused) {
      expect({
        status: err.statusCode,
        code: err.code,
        budget: (err.raw as { budget_id?: string }).budget_id,
      }).toEqual({
        status: 429,
        code: 'cap_exhausted',
        budget: run.id,
      });
    }
    expect(creates(s)).toEqual({ count: 50, cents: 5000 });
    await settled(run.id);
    expect(await getBudget(run.id)).toMatchObject({
      spent_usd: 50,
      reserved_usd: 0,
      uncertain_usd: 0,
      remaining_usd: 0,
      keys: 2,
    });
    const [va, vb] = [await getKey(a.id), await getKey(b.id)];
    expect(va.spent_usd + vb.spent_usd).toBe(50);
    expect(va.spent_usd).toBeLessThanOrEqual(40);
    expect(vb.spent_usd).toBeLessThanOrEqual(40);
    expect(va.calls + vb.calls).toBe(50);
    expect(va.reserved_usd + vb.reserved_usd).toBe(0);
  });

  it('revoking a middle budget stops every key below it at once; siblings still work', async () => {
    const root = await budget({ usd_cap: 100, label: 'bh-mid-root', expires_in: '1h' });
    const mid = await budget({ parent_id: root.id, usd_cap: 50, label: 'bh-mid', expires_in: '50m' });
    const leaf = await budget({ parent_id: mid.id, label: 'bh-mid-leaf', expires_in: '40m' });
    const sibling = await budget({ parent_id: root.id, usd_cap: 50, label: 'bh-mid-sib', expires_in: '50m' });
    const kMid = await key({ budget_id: mid.id });
    const kLeaf = await key({ budget_id: leaf.id });
    const kSib = await key({ budget_id: sibling.id });
    const kRoot = await key({ budget_id: root.id });
    const [sMid, sLeaf, sSib, sRoot] = [kMid, kLeaf, kSib, kRoot].map((k) => s.sdk(k.token)) as [
      Stripe,
      Stripe,
      Stripe,
      Stripe,
    ];
    for (const sdk of [sMid, sLeaf, sSib, sRoot]) await pay(sdk, 100);
    expect(creates(s).count).toBe(4);

    const revoked = await s.t.admin('DELETE', `/v1/budgets/${mid.id}`);
    expect(revoked.json).toMatchObject({
      id: mid.id,
      status: 'revoked',
      revoked_keys: 2,
      revoked_budgets: 2,
    });
    for (const sdk of [sMid, sLeaf]) {
      const err = await pay(sdk, 100).catch((e: unknown) => e);
      expect(err).toMatchObject({ statusCode: 401, code: 'key_revoked' });
    }
    // Raw HTTP too, and on the prefixed path.
    const raw = await s.t.call('POST', '/stripe/v1/payment_intents', {
      token: kLeaf.token,
      body: 'amount=100&currency=usd',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(refusal(raw)).toMatchObject({ status: 401, code: 'key_revoked' });
    expect(creates(s).count).toBe(4);
    await pay(sSib, 100);
    await pay(sRoot, 100);
    expect(creates(s).count).toBe(6);
    await settled(root.id, sibling.id, mid.id);

    expect((await getKey(kMid.id)).status).toBe('revoked');
    expect((await getKey(kLeaf.id)).status).toBe('revoked');
    expect((await getKey(kSib.id)).status).toBe('active');
    expect(await getBudget(leaf.id)).toMatchObject({ status: 'revoked' });
    expect(await getBudget(root.id)).toMatchObject({ status: 'active', spent_usd: 6, child_budgets: 2 });
    expect(await getBudget(sibling.id)).toMatchObject({ status: 'active', spent_usd: 2 });
    // Spend already made under the revoked budget still counts above it.
    expect(await getBudget(mid.id)).toMatchObject({ spent_usd: 2 });
    const before = await census();
    for (const id of [mid.id, leaf.id]) {
      const k = await s.t.admin('POST', '/v1/keys', {
        vendor: 'stripe',
        budget_id: id,
        allowed_endpoints: PAY,
        expires_in: '5m',
      });
      expect(refusal(k)).toMatchObject({
        status: 400,
        code: 'parent_inactive',
        error: { param: 'budget_id' },
      });
    }
    expect(await census()).toEqual(before);
  });

  it('a child with a cap above its parent, or with none, still shares what the parent has left', async () => {
    const root = await budget({ usd_cap: 5, expires_in: '1h', label: 'bh-share' });
    const big = await budget({ parent_id: root.id, usd_cap: 1000, expires_in: '30m' });
    expect(big.remaining_usd).toBe(5);
    const k = await key({ budget_id: big.id, usd_cap: 100 });
    const sdk = s.sdk(k.token);
    await pay(sdk, 400);
    const over = await pay(sdk, 101).catch((e: unknown) => e);
    expect(over).toMatchObject({ statusCode: 429, code: 'cap_exhausted', raw: { budget_id: root.id } });
    expect(creates(s)).toEqual({ count: 1, cents: 400 });
    await settled(root.id, big.id);
    expect(await getKey(k.id)).toMatchObject({ spent_usd: 4, remaining_usd: 1 });
    // Refusals are audited right after they are sent (through the journal on PostgreSQL).
    await expect.poll(async () => (await getKey(k.id)).denied_calls).toBe(1);
  });

  it('a vendor 4xx releases and a 5xx keeps uncertain at every level; resolving moves every level', async () => {
    const root = await budget({ usd_cap: 50, expires_in: '1h', label: 'bh-settle' });
    const child = await budget({ parent_id: root.id, expires_in: '30m' });
    const k = await key({ budget_id: child.id });
    const sdk = s.sdk(k.token);
    s.fake.failNext({ status: 402, method: 'POST', path: '/v1/payment_intents' });
    await expect(pay(sdk, 700)).rejects.toMatchObject({ statusCode: 402 });
    // PostgreSQL settles through the journal just after the reply, so the release may trail it a moment.
    await expect.poll(async () => (await getBudget(root.id)).reserved_usd).toBe(0);
    for (const id of [root.id, child.id]) {
      expect(await getBudget(id)).toMatchObject({ spent_usd: 0, reserved_usd: 0, uncertain_usd: 0 });
    }
    s.fake.failNext({ status: 500, method: 'POST', path: '/v1/payment_intents', afterExecute: true });
    await expect(pay(sdk, 300)).rejects.toMatchObject({ statusCode: 500 });
    const uncertain = { spent_usd: 3, reserved_usd: 0, uncertain_usd: 3, remaining_usd: 47 };
    await expect.poll(async () => (await getBudget(root.id)).uncertain_usd).toBe(3);
    for (const id of [root.id, child.id]) expect(await getBudget(id)).toMatchObject(uncertain);
    expect(await getKey(k.id)).toMatchObject({ spent_usd: 3, uncertain_usd: 3, remaining_usd: 47 });

    const list = await s.t.admin('GET', `/v1/reservations?key_id=${k.id}&status=uncertain`);
    expect(list.json.data).toHaveLength(1);
    const resolved = await s.t.admin('POST', `/v1/reservations/${list.json.data[0].id}/resolve`, {
      outcome: 'released',
    });
    expect(resolved.status, resolved.text).toBe(200);
    await expect.poll(async () => (await getBudget(child.id)).uncertain_usd).toBe(0);
    for (const id of [root.id, child.id]) {
      expect(await getBudget(id)).toMatchObject({
        spent_usd: 0,
        reserved_usd: 0,
        uncertain_usd: 0,
        remaining_usd: 50,
      });
    }
  });

  it('an SDK retry with the same idempotency key reserves once at every level', async () => {
    const root = await budget({ usd_cap: 10, expires_in: '1h', label: 'bh-idem' });
    const k = await key({ budget_id: root.id });
    const sdk = s.sdk(k.token, { maxNetworkRetries: 2 });
    s.fake.failNext({ status: 500, method: 'POST', path: '/v1/payment_intents' });
    const first = await sdk.paymentIntents.create(
      { amount: 600, currency: 'usd' },
      { idempotencyKey: 'bh-1' },
    );
    const replay = await sdk.paymentIntents.create(
      { amount: 600, currency: 'usd' },
      { idempotencyKey: 'bh-1' },
    );
    expect(replay.id).toBe(first.id);
    await expect.poll(async () => (await getBudget(root.id)).reserved_usd).toBe(0);
    expect(await getBudget(root.id)).toMatchObject({ spent_usd: 6, uncertain_usd: 0, remaining_usd: 4 });
    // A second, different $6 call no longer fits the $10 budget.
    await expect(pay(sdk, 600)).rejects.toMatchObject({ statusCode: 429, code: 'cap_exhausted' });
  });

  it('no call that starts after DELETE /v1/budgets has returned is forwarded (linearizable revoke)', async () => {
    const root = await budget({ usd_cap: 10_000, expires_in: '1h', label: 'bh-lin' });
    const mid = await budget({ parent_id: root.id, expires_in: '30m' });
    const leaf = await budget({ parent_id: mid.id, expires_in: '25m' });
    const keys = [await key({ budget_id: mid.id }), await key({ budget_id: leaf.id })];
    const sdks = keys.map((k) => s.sdk(k.token));
    let revokedAt = Infinity;
    const results: Array<{ started: number; ok: boolean; code?: string }> = [];
    const fire = async (i: number) => {
      const started = performance.now();
      try {
        await pay(sdks[i % 2] as Stripe, 100);
        results.push({ started, ok: true });
      } catch (e) {
        results.push({ started, ok: false, code: (e as { code?: string }).code });
      }
    };
    const load = Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i));
        await fire(i);
      }),
    );
    await new Promise((r) => setTimeout(r, 25));
    const revoked = await s.t.admin('DELETE', `/v1/budgets/${mid.id}`);
    revokedAt = performance.now();
    expect(revoked.json).toMatchObject({ revoked_keys: 2, revoked_budgets: 2 });
    await load;
    const forwardedBefore = creates(s).count;
    await Promise.all(Array.from({ length: 10 }, (_, i) => fire(i)));
    const after = results.filter((r) => r.started > revokedAt);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((r) => r.ok || r.code !== 'key_revoked')).toEqual([]);
    expect(creates(s).count).toBe(forwardedBefore);
    expect(creates(s).count).toBe(results.filter((r) => r.ok).length);
  });

  it('a key list shows the same remaining_usd as reading the key: budgets included', async () => {
    const root = await budget({ usd_cap: 5, expires_in: '1h', label: 'bh-listview' });
    const noCap = await key({ budget_id: root.id, label: 'bh-listview-a' });
    const ownCap = await key({ budget_id: root.id, usd_cap: 40, label: 'bh-listview-b' });
    await pay(s.sdk(noCap.token), 400);
    await settled(root.id);
    for (const k of [noCap, ownCap]) {
      const read = await getKey(k.id);
      expect(read.remaining_usd).toBe(1);
      const listed = await s.t.admin('GET', `/v1/keys?label=${read.label}`);
      expect(listed.json.data[0]).toMatchObject({ id: k.id, remaining_usd: read.remaining_usd });
    }
  });

  it('a budget may carry approval_above_usd, and every key below it needs a grant above it', async () => {
    // /work/shared/API.md, "Approval above an amount, enforced by the proxy": "A key (or budget) may carry
    // `approval_above_usd`." Without it, an operator cannot make an issuer's keys ask a person: the issuer
    // chooses each key's own threshold.
    const res = await s.t.admin('POST', '/v1/budgets', {
      usd_cap: 100,
      approval_above_usd: 5,
      expires_in: '1h',
      label: 'bh-approval',
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json.approval_above_usd).toBe(5);
    const k = await key({ budget_id: res.json.id });
    const call = await pay(s.sdk(k.token), 1000).catch((e: unknown) => e);
    expect(call).toMatchObject({ statusCode: 403, code: 'approval_required' });
    expect(creates(s).count).toBe(0);
  });

  it('a key issued while its budget is being revoked never ends up active under a revoked budget', async () => {
    for (let i = 0; i < 30; i += 1) {
      const b = await budget({ usd_cap: 5, expires_in: '1h', label: `bh-race-${i}` });
      const [issued] = await Promise.all([
        s.t.admin('POST', '/v1/keys', {
          vendor: 'stripe',
          budget_id: b.id,
          allowed_endpoints: PAY,
          expires_in: '10m',
        }),
        s.t.admin('DELETE', `/v1/budgets/${b.id}`),
      ]);
      if (issued.status !== 201) {
        expect(issued.json.code).toBe('parent_inactive');
        continue;
      }
      // Whatever the view says, the key must not spend: its budget is revoked.
      const call = await pay(s.sdk(issued.json.token), 100).catch((e: unknown) => e);
      expect(call).toMatchObject({ statusCode: 401, code: 'key_revoked' });
      expect(creates(s).count).toBe(0);
      // And the admin API must not show it active (DELETE returned revoked_keys without it).
      const k = await getKey(issued.json.id);
      expect({ i, status: k.status }).toEqual({ i, status: 'revoked' });
    }
  });

  describe('bad input: refused, and nothing created', () => {
    it('a root budget without a cap is 400 cap_required', async () => {
      const before = await census();
      for (const body of [{}, { max_usd_per_call: 5 }, { label: 'bh-nocap', expires_in: '1h' }]) {
        const res = await s.t.admin('POST', '/v1/budgets', body);
        expect(refusal(res)).toMatchObject({ status: 400, code: 'cap_required' });
      }
      expect(await census()).toEqual(before);
    });

    it('an unknown parent is 404 not_found (param parent_id), an unknown budget_id on a key too', async () => {
      const before = await census();
      const res = await s.t.admin('POST', '/v1/budgets', { parent_id: 'bud_doesnotexist', usd_cap: 5 });
      expect(refusal(res)).toMatchObject({ status: 404, code: 'not_found', error: { param: 'parent_id' } });
      const k = await s.t.admin('POST', '/v1/keys', {
        vendor: 'stripe',
        budget_id: 'bud_doesnotexist',
        allowed_endpoints: PAY,
      });
      expect(refusal(k)).toMatchObject({ status: 404, code: 'not_found', error: { param: 'budget_id' } });
      expect(await census()).toEqual(before);
    });

    it('a revoked parent is 400 parent_inactive, for a child budget and for a key', async () => {
      const parent = await budget({ usd_cap: 5, expires_in: '1h' });
      await s.t.admin('DELETE', `/v1/budgets/${parent.id}`);
      const before = await census();
      const child = await s.t.admin('POST', '/v1/budgets', { parent_id: parent.id, expires_in: '10m' });
      expect(refusal(child)).toMatchObject({
        status: 400,
        code: 'parent_inactive',
        error: { param: 'parent_id' },
      });
      const k = await s.t.admin('POST', '/v1/keys', {
        vendor: 'stripe',
        budget_id: parent.id,
        allowed_endpoints: PAY,
        expires_in: '10m',
      });
      expect(refusal(k)).toMatchObject({
        status: 400,
        code: 'parent_inactive',
        error: { param: 'budget_id' },
      });
      expect(await census()).toEqual(before);
    });

    it('an expired parent is 400 parent_inactive, for a child budget and for a key', async () => {
      const parent = await budget({ usd_cap: 5, expires_in: '2s' });
      skew += 2500;
      expect((await getBudget(parent.id)).status).toBe('expired');
      const before = await census();
      const child = await s.t.admin('POST', '/v1/budgets', { parent_id: parent.id, expires_in: '10m' });
      expect(refusal(child)).toMatchObject({
        status: 400,
        code: 'parent_inactive',
        error: { param: 'parent_id' },
      });
      const k = await s.t.admin('POST', '/v1/keys', {
        vendor: 'stripe',
        budget_id: parent.id,
        allowed_endpoints: PAY,
        expires_in: '10m',
      });
      expect(refusal(k)).toMatchObject({
        status: 400,
        code: 'parent_inactive',
        error: { param: 'budget_id' },
      });
      expect(await census()).toEqual(before);
    });

    it('a child budget or a key expiring after its budget is 400 outlives_parent', async () => {
      const parent = await budget({ usd_cap: 5, expires_in: '1h' });
      const before = await census();
      const late = new Date(Date.parse(parent.expires_at as string) + 1000).toISOString();
      for (const ttl of [{ expires_in: '2h' }, { expires_in: 3601 }, { expires_at: late }, {}]) {
        // {} is the default TTL (1h), which lands after a parent created a moment earlier for 1h.
        const child = await s.t.admin('POST', '/v1/budgets', { parent_id: parent.id, ...ttl });
        expect(refusal(child), JSON.stringify(ttl)).toMatchObject({
          status: 400,
          code: 'outlives_parent',
          error: { param: 'parent_id' },
        });
        const k = await s.t.admin('POST', '/v1/keys', {
          vendor: 'stripe',
          budget_id: parent.id,
          allowed_endpoints: PAY,
          ...ttl,
        });
        expect(refusal(k), JSON.stringify(ttl)).toMatchObject({
          status: 400,
          code: 'outlives_parent',
          error: { param: 'budget_id' },
        });
      }
      expect(await census()).toEqual(before);
    });

    it('nesting deeper than 8 is 400 bad_request', async () => {
      let parent = await budget({ usd_cap: 5, expires_in: '2h', label: 'bh-depth-1' });
      for (let depth = 2; depth <= 8; depth += 1) {
        parent = await budget({
          parent_id: parent.id,
          expires_in: `${120 - depth}m`,
          label: `bh-depth-${depth}`,
        });
        expect(parent.depth).toBe(depth);
      }
      const before = await census();
      const ninth = await s.t.admin('POST', '/v1/budgets', { parent_id: parent.id, expires_in: '10m' });
      expect(refusal(ninth)).toMatchObject({ status: 400, code: 'bad_request' });
      expect(await census()).toEqual(before);
      // A key at depth 8 is fine: keys do not count as a level.
      const k = await key({ budget_id: parent.id, expires_in: '10m' });
      expect((await getKey(k.id)).budget_id).toBe(parent.id);
    });

    it('unknown fields are 400 bad_request, on budgets and on keys', async () => {
      const parent = await budget({ usd_cap: 5, expires_in: '1h' });
      const before = await census();
      for (const body of [
        { usd_caps: 5 },
        { usd_cap: 5, cap: 5 },
        { usd_cap: 5, parent: parent.id },
        { usd_cap: 5, id: 'bud_mine' },
        { usd_cap: 5, depth: 1 },
        { usd_cap: 5, spent_usd: -100 },
      ]) {
        const res = await s.t.admin('POST', '/v1/budgets', body);
        expect(refusal(res), JSON.stringify(body)).toMatchObject({ status: 400, code: 'bad_request' });
      }
      for (const extra of [{ budgetId: parent.id }, { budget: parent.id }, { parent_id: parent.id }]) {
        const res = await s.t.admin('POST', '/v1/keys', {
          vendor: 'stripe',
          allowed_endpoints: PAY,
          expires_in: '5m',
          ...extra,
        });
        expect(refusal(res), JSON.stringify(extra)).toMatchObject({ status: 400, code: 'bad_request' });
      }
      expect(await census()).toEqual(before);
    });

    it('both expires_in and expires_at, a past expires_at, or a TTL past the server maximum is refused', async () => {
      const before = await census();
      for (const [body, code] of [
        [
          { usd_cap: 5, expires_in: '1h', expires_at: new Date(Date.now() + 60_000).toISOString() },
          'bad_request',
        ],
        [{ usd_cap: 5, expires_at: '2000-01-01T00:00:00Z' }, 'bad_request'],
        [{ usd_cap: 5, expires_in: '4000d' }, 'ttl_too_long'],
        [{ usd_cap: 5, expires_at: '3000-01-01T00:00:00Z' }, 'ttl_too_long'],
        [{ usd_cap: -5, expires_in: '1h' }, 'bad_request'],
        [{ usd_cap: '5.0000001', expires_in: '1h' }, 'bad_request'],
      ] as const) {
        const res = await s.t.admin('POST', '/v1/budgets', body);
        expect(refusal(res), JSON.stringify(body)).toMatchObject({ status: 400, code });
      }
      expect(await census()).toEqual(before);
    });
  });
});
