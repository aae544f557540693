import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KeyRecord, NewBudget, NewIssuer, NewKey, Store } from '../../src/store/types.js';

const USD = 1_000_000;
const HOUR = 3_600_000;

export interface BudgetHarness {
  store(): Store;
  peer(): Store | undefined;
  newKey(overrides?: Partial<NewKey>): NewKey;
  now(): number;
  advance(ms: number): void;
}

/** Budgets on every store: nested caps checked and moved in one atomic step, subtree revokes, issuers. */
export function describeBudgetConformance(h: BudgetHarness): void {
  describe('budgets', () => {
    const newBudget = (overrides: Partial<NewBudget> = {}): NewBudget => ({
      id: `bud_${randomUUID().replaceAll('-', '')}`,
      parentId: null,
      label: 'tenant-1',
      metadata: { tenant: 't1' },
      usdCap: 100 * USD,
      dailyUsdCap: null,
      maxUsdPerCall: null,
      createdAt: h.now(),
      expiresAt: h.now() + 2 * HOUR,
      ...overrides,
    });
    const issue = async (overrides: Partial<NewBudget> = {}) => {
      const result = await h.store().issueBudget(newBudget(overrides));
      if (!result.ok) throw new Error(`budget refused: ${result.reason}`);
      return result.budget;
    };
    const keyUnder = (budgetId: string, overrides: Partial<NewKey> = {}) =>
      h.store().issueKey(h.newKey({ budgetId, usdCap: null, dailyUsdCap: null, ...overrides }));
    const stores = () => {
      const peer = h.peer();
      return peer ? [h.store(), peer] : [h.store()];
    };

    it('nests budgets, records each path, and lists them by parent, label, status and subtree', async () => {
      const store = h.store();
      const root = await issue({ label: 'tenant-a' });
      const run = await issue({ parentId: root.id, usdCap: null, label: 'run-1' });
      const sub = await issue({ parentId: run.id, usdCap: 5 * USD, label: 'run-1-sub' });
      const other = await issue({ label: 'tenant-b' });
      expect(root).toMatchObject({ parentId: null, path: [root.id], status: 'active', spent: 0, keys: 0 });
      expect(sub.path).toEqual([root.id, run.id, sub.id]);
      const key = await keyUnder(sub.id);
      expect(key).toMatchObject({ budgetId: sub.id, budgetPath: [root.id, run.id, sub.id] });
      expect(await store.getBudget(run.id)).toMatchObject({ childBudgets: 1, keys: 0, usdCap: null });
      expect(await store.getBudget(sub.id)).toMatchObject({ keys: 1, childBudgets: 0 });
      const ids = async (query: Parameters<Store['listBudgets']>[0]) =>
        (await store.listBudgets(query)).data.map((b) => b.id);
      expect(await ids({ parentId: root.id, limit: 10 })).toEqual([run.id]);
      expect(await ids({ within: root.id, limit: 10 })).toEqual([sub.id, run.id, root.id]);
      expect(await ids({ within: run.id, limit: 10 })).toEqual([sub.id, run.id]);
      expect(await ids({ labelPrefix: 'run-1', limit: 10 })).toEqual([sub.id, run.id]);
      expect(await ids({ label: 'tenant-b', limit: 10 })).toEqual([other.id]);
      const first = await store.listBudgets({ within: root.id, limit: 2 });
      expect(first.data).toHaveLength(2);
      const rest = await store.listBudgets({ within: root.id, limit: 2, cursor: first.nextCursor ?? '' });
      expect(rest.data.map((b) => b.id)).toEqual([root.id]);
      expect(rest.nextCursor).toBeNull();
      expect(await store.getBudget('bud_missing')).toBeNull();
      // A budget past its expiry lists as expired, and no longer as active.
      const short = await issue({ label: 'short', expiresAt: h.now() + 1000 });
      h.advance(1000);
      expect(await ids({ status: 'expired', limit: 10 })).toEqual([short.id]);
      expect(await ids({ status: 'active', labelPrefix: 's', limit: 10 })).toEqual([]);
      await store.revokeBudget(other.id);
      expect(await ids({ status: 'revoked', limit: 10 })).toEqual([other.id]);
    });

    it('refuses a missing or inactive parent, a child that outlives it, and a ninth level, creating nothing', async () => {
      const store = h.store();
      const refused = async (overrides: Partial<NewBudget>) => {
        const result = await store.issueBudget(newBudget(overrides));
        return result.ok ? 'created' : result.reason;
      };
      expect(await refused({ parentId: 'bud_missing' })).toBe('parent_not_found');
      const root = await issue();
      expect(await refused({ parentId: root.id, expiresAt: root.expiresAt + 1 })).toBe('outlives_parent');
      let parent = root;
      for (let depth = 2; depth <= 8; depth += 1) parent = await issue({ parentId: parent.id, usdCap: null });
      expect(parent.path).toHaveLength(8);
      expect(await refused({ parentId: parent.id })).toBe('too_deep');
      const revoked = await issue();
      await store.revokeBudget(revoked.id);
      expect(await refused({ parentId: revoked.id })).toBe('parent_inactive');
      const short = await issue({ expiresAt: h.now() + 1000 });
      h.advance(1000);
      expect(await refused({ parentId: short.id, expiresAt: short.expiresAt })).toBe('parent_inactive');
      expect((await store.listBudgets({ within: root.id, limit: 20 })).data).toHaveLength(8);
    });

    it('admits a reservation only if the key and every level fit, and names the level that refused', async () => {
      const store = h.store();
      const root = await issue({ usdCap: 10 * USD });
      const mid = await issue({ parentId: root.id, usdCap: 6 * USD });
      const leaf = await issue({ parentId: mid.id, usdCap: null, maxUsdPerCall: 3 * USD });
      const key = await keyUnder(leaf.id, { usdCap: 100 * USD });
      const sibling = await keyUnder(root.id, { usdCap: 100 * USD });
      const perCall = await store.reserve({ keyId: key.id, amount: 4 * USD });
      expect(perCall).toMatchObject({ ok: false, code: 'per_call_limit_exceeded', budgetId: leaf.id });
      expect((await store.reserve({ keyId: key.id, amount: 3 * USD })).ok).toBe(true);
      expect((await store.reserve({ keyId: key.id, amount: 3 * USD })).ok).toBe(true);
      const midFull = await store.reserve({ keyId: key.id, amount: 1 });
      expect(midFull).toMatchObject({ ok: false, code: 'cap_exhausted', cap: 'usd_cap', budgetId: mid.id });
      expect((await store.reserve({ keyId: sibling.id, amount: 4 * USD })).ok).toBe(true);
      const rootFull = await store.reserve({ keyId: sibling.id, amount: 1 });
      expect(rootFull).toMatchObject({ ok: false, code: 'cap_exhausted', budgetId: root.id });
      expect(await store.getBudget(root.id)).toMatchObject({ reserved: 10 * USD, spent: 0 });
      expect(await store.getBudget(mid.id)).toMatchObject({ reserved: 6 * USD });
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 6 * USD, calls: 2 });
    });

    it('moves every level exactly as the key on settle, release, uncertain, resolve and abandon', async () => {
      const store = h.store();
      const root = await issue({ usdCap: 100 * USD, dailyUsdCap: 100 * USD });
      const leaf = await issue({ parentId: root.id, usdCap: 50 * USD });
      const key = await keyUnder(leaf.id);
      const reserve = async (amount: number, requestId?: string) => {
        const r = await store.reserve({ keyId: key.id, amount, instanceId: 'inst_a', requestId });
        if (!r.ok) throw new Error(r.code);
        return r.reservationId;
      };
      await store.settle({ reservationId: await reserve(10 * USD), amount: 7 * USD });
      await store.release({ reservationId: await reserve(5 * USD) });
      const uncertain = await reserve(3 * USD);
      await store.markUncertain({ reservationId: uncertain });
      await store.resolveUncertain({ reservationId: uncertain, outcome: 'settled', amount: 2 * USD });
      const lost = await reserve(4 * USD);
      await store.markUncertain({ reservationId: lost });
      await reserve(1 * USD, 'req_abandoned');
      await store.abandon({ requestId: 'req_abandoned', instanceId: 'inst_a' });
      await reserve(6 * USD);
      const expected = { spent: 13 * USD, reserved: 6 * USD, uncertain: 4 * USD, spentToday: 19 * USD };
      expect(await store.getKey(key.id)).toMatchObject(expected);
      expect(await store.getBudget(leaf.id)).toMatchObject(expected);
      expect(await store.getBudget(root.id)).toMatchObject(expected);
      // The reaper moves an in-flight reservation of a dead instance to uncertain on every level too.
      await store.heartbeat({ instanceId: 'inst_a', leaseMs: 10 });
      h.advance(11);
      expect(await store.reapExpired()).toBe(1);
      const reaped = { spent: 19 * USD, reserved: 0, uncertain: 10 * USD };
      expect(await store.getBudget(root.id)).toMatchObject(reaped);
      expect(await store.getBudget(leaf.id)).toMatchObject(reaped);
    });

    it('binds every descendant with a daily cap on the root, reset at midnight UTC', async () => {
      const store = h.store();
      const root = await issue({ usdCap: null, dailyUsdCap: 5 * USD, expiresAt: h.now() + 48 * HOUR });
      const a = await issue({ parentId: root.id, usdCap: null, expiresAt: root.expiresAt });
      const b = await issue({ parentId: a.id, usdCap: null, expiresAt: root.expiresAt });
      const keys = [
        await keyUnder(a.id, { expiresAt: root.expiresAt }),
        await keyUnder(b.id, { expiresAt: root.expiresAt }),
      ];
      const results = [];
      for (let i = 0; i < 8; i += 1) {
        results.push(await store.reserve({ keyId: keys[i % 2]?.id ?? '', amount: USD }));
      }
      expect(results.filter((r) => r.ok)).toHaveLength(5);
      expect(results.at(-1)).toMatchObject({
        code: 'cap_exhausted',
        cap: 'daily_usd_cap',
        budgetId: root.id,
      });
      h.advance(24 * HOUR);
      expect((await store.reserve({ keyId: keys[1]?.id ?? '', amount: USD })).ok).toBe(true);
      expect(await store.getBudget(root.id)).toMatchObject({ spentToday: USD, reserved: 6 * USD });
    });

    it('refuses to issue a key under a revoked or expired budget, or one it would outlive', async () => {
      const store = h.store();
      const leaf = await issue({ expiresAt: h.now() + HOUR });
      await expect(keyUnder(leaf.id, { expiresAt: h.now() + HOUR + 1 })).rejects.toMatchObject({
        code: 'parent_inactive',
      });
      const fits = await keyUnder(leaf.id, { expiresAt: h.now() + HOUR });
      expect(fits.budgetId).toBe(leaf.id);
      const revoked = await issue();
      await store.revokeBudget(revoked.id);
      await expect(keyUnder(revoked.id)).rejects.toMatchObject({ code: 'parent_inactive' });
      h.advance(HOUR);
      await expect(keyUnder(leaf.id, { expiresAt: h.now() })).rejects.toMatchObject({
        code: 'parent_inactive',
      });
      // The key expired with its budget: no call below an expired budget is admitted.
      expect(await store.reserve({ keyId: fits.id, amount: 0 })).toMatchObject({
        ok: false,
        code: 'key_expired',
      });
      expect((await store.listKeys({ budgetId: revoked.id, limit: 10 })).data).toEqual([]);
    });

    it('revokes a subtree, its keys and nothing else, once, and refuses every call below it afterwards', async () => {
      const store = h.store();
      const root = await issue();
      const mid = await issue({ parentId: root.id, usdCap: null });
      const leaf = await issue({ parentId: mid.id, usdCap: null });
      const sibling = await issue({ parentId: root.id, usdCap: null });
      const below = [await keyUnder(mid.id), await keyUnder(leaf.id), await keyUnder(leaf.id)];
      const beside = await keyUnder(sibling.id);
      const result = await store.revokeBudget(mid.id);
      expect(result).toMatchObject({ revokedKeys: 3, revokedBudgets: 2, budget: { status: 'revoked' } });
      expect(result?.budget.revokedAt).toBe(h.now());
      expect(await store.revokeBudget(mid.id)).toMatchObject({ revokedKeys: 0, revokedBudgets: 0 });
      expect(await store.revokeBudget('bud_missing')).toBeNull();
      expect((await store.getBudget(leaf.id))?.status).toBe('revoked');
      expect((await store.getBudget(root.id))?.status).toBe('active');
      for (const key of below) {
        expect((await store.getKey(key.id))?.status).toBe('revoked');
        expect(await store.reserve({ keyId: key.id, amount: 0 })).toMatchObject({
          ok: false,
          code: 'key_revoked',
        });
      }
      expect((await store.reserve({ keyId: beside.id, amount: USD })).ok).toBe(true);
    });

    it('scopes key lists, bulk revokes, audit queries and approvals to a subtree', async () => {
      const store = h.store();
      const root = await issue();
      const inside = await issue({ parentId: root.id, usdCap: null });
      const outside = await issue();
      const mine = await keyUnder(inside.id, { label: 'scoped' });
      const theirs = await keyUnder(outside.id, { label: 'scoped' });
      const plain = await store.issueKey(h.newKey({ label: 'scoped' }));
      const listed = await store.listKeys({ within: root.id, limit: 10 });
      expect(listed.data.map((k) => k.id)).toEqual([mine.id]);
      expect((await store.listKeys({ budgetId: outside.id, limit: 10 })).data.map((k) => k.id)).toEqual([
        theirs.id,
      ]);
      for (const key of [mine, theirs, plain]) {
        await store.appendAudit({
          ts: h.now(),
          keyId: key.id,
          label: 'scoped',
          vendor: 'stripe',
          method: 'POST',
          path: '/v1/payment_intents',
          decision: 'allowed',
          code: null,
          upstreamStatus: 200,
          costReserved: 0,
          costSettled: 0,
          settlement: 'settled',
          idempotencyKey: null,
          vendorRequestId: null,
          requestId: `req_${randomUUID()}`,
          latencyMs: 1,
        });
        await store.requestApproval({
          id: `apr_${randomUUID().replaceAll('-', '')}`,
          keyId: key.id,
          method: 'POST',
          path: '/v1/payment_intents',
          fingerprint: 'fp',
          account: null,
          amount: USD,
          ttlMs: HOUR,
          maxPending: 20,
        });
      }
      expect((await store.queryAudit({ within: root.id, limit: 10 })).data.map((r) => r.keyId)).toEqual([
        mine.id,
      ]);
      expect((await store.listApprovals({ within: root.id, limit: 10 })).data.map((a) => a.keyId)).toEqual([
        mine.id,
      ]);
      expect(await store.revokeKeys({ label: 'scoped', within: root.id })).toBe(1);
      expect((await store.getKey(theirs.id))?.status).toBe('active');
      expect((await store.getKey(plain.id))?.status).toBe('active');
    });

    it('stores issuers by token hash, lists and revokes them once', async () => {
      const store = h.store();
      const budget = await issue();
      const issuer = (overrides: Partial<NewIssuer> = {}): NewIssuer => ({
        id: `iss_${randomUUID().replaceAll('-', '')}`,
        tokenHash: createHash('sha256').update(randomUUID()).digest('hex'),
        budgetId: budget.id,
        label: 'agent-backend',
        vendors: ['stripe', 'twilio'],
        maxKeyUsdCap: 25 * USD,
        maxTtlMs: HOUR,
        allowedEndpoints: ['POST /v1/payment_intents'],
        createdAt: h.now(),
        expiresAt: null,
        ...overrides,
      });
      const a = await store.createIssuer(issuer());
      const b = await store.createIssuer(
        issuer({ vendors: null, allowedEndpoints: null, maxKeyUsdCap: null }),
      );
      expect(a).toMatchObject({ status: 'active', budgetPath: [budget.id], vendors: ['stripe', 'twilio'] });
      expect(b).toMatchObject({ vendors: null, allowedEndpoints: null, maxKeyUsdCap: null, maxTtlMs: HOUR });
      expect((await store.findIssuerByTokenHash(a.tokenHash))?.id).toBe(a.id);
      expect(await store.findIssuerByTokenHash('0'.repeat(64))).toBeNull();
      expect((await store.listIssuers({ budgetId: budget.id, limit: 10 })).data.map((i) => i.id)).toEqual([
        b.id,
        a.id,
      ]);
      const issuedByA = await store.issueKey(h.newKey({ budgetId: budget.id, issuerId: a.id }));
      const issuedByB = await store.issueKey(h.newKey({ budgetId: budget.id, issuerId: b.id }));
      expect(issuedByA.issuerId).toBe(a.id);
      const revoked = await store.revokeIssuer(a.id);
      expect(revoked).toMatchObject({ issuer: { status: 'revoked', revokedAt: h.now() }, revokedKeys: 1 });
      expect((await store.getKey(issuedByA.id))?.status).toBe('revoked');
      expect((await store.getKey(issuedByB.id))?.status).toBe('active');
      h.advance(5);
      const again = await store.revokeIssuer(a.id);
      expect(again).toMatchObject({ revokedKeys: 0, issuer: { revokedAt: revoked?.issuer.revokedAt } });
      expect(await store.revokeIssuer('iss_missing')).toBeNull();
      expect((await store.listIssuers({ status: 'active', limit: 10 })).data.map((i) => i.id)).toEqual([
        b.id,
      ]);
      const lapsing = await store.createIssuer(issuer({ expiresAt: h.now() + 10 }));
      h.advance(10);
      const listed = async (status: 'active' | 'expired') =>
        (await store.listIssuers({ status, limit: 10 })).data.map((i) => i.id);
      expect(await listed('expired')).toEqual([lapsing.id]);
      expect(await listed('active')).toEqual([b.id]);
      expect(await store.getIssuer('iss_missing')).toBeNull();
    });

    it('keeps a $50 run budget exact under 1,000 concurrent calls split across two $40 keys', async () => {
      const run = await issue({ usdCap: 50 * USD });
      const stripe = await keyUnder(run.id, { vendor: 'stripe', usdCap: 40 * USD });
      const twilio = await keyUnder(run.id, { vendor: 'twilio', usdCap: 40 * USD });
      const all = stores();
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          (all[i % all.length] as Store).reserve({
            keyId: (i % 2 === 0 ? stripe : twilio).id,
            amount: USD,
            budgeted: true,
          }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(50);
      const refused = results.filter((r) => !r.ok);
      expect(refused.every((r) => !r.ok && r.code === 'cap_exhausted')).toBe(true);
      const store = h.store();
      expect((await store.getBudget(run.id))?.reserved).toBe(50 * USD);
      const stripeHeld = (await store.getKey(stripe.id))?.reserved ?? 0;
      const twilioHeld = (await store.getKey(twilio.id))?.reserved ?? 0;
      const perKey = [stripeHeld, twilioHeld];
      expect(stripeHeld + twilioHeld).toBe(50 * USD);
      expect(Math.max(...perKey)).toBeLessThanOrEqual(40 * USD);
    });

    it('never passes any level of a three-level tree under 1,000 concurrent leaf calls', async () => {
      const tenant = await issue({ usdCap: 30 * USD });
      const runs = [
        await issue({ parentId: tenant.id, usdCap: 20 * USD }),
        await issue({ parentId: tenant.id, usdCap: 20 * USD }),
      ];
      const leaves = [];
      for (const run of runs) {
        for (let i = 0; i < 2; i += 1) leaves.push(await issue({ parentId: run.id, usdCap: 8 * USD }));
      }
      const keys: KeyRecord[] = [];
      for (const leaf of leaves) keys.push(await keyUnder(leaf.id, { usdCap: 100 * USD }));
      const all = stores();
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          (all[i % all.length] as Store).reserve({ keyId: keys[i % keys.length]?.id ?? '', amount: USD }),
        ),
      );
      const store = h.store();
      const admitted = results.filter((r) => r.ok).length;
      // Leaves allow 32, runs 40, the tenant 30: the tenant binds, exactly.
      expect(admitted).toBe(30);
      expect((await store.getBudget(tenant.id))?.reserved).toBe(30 * USD);
      for (const run of runs) expect((await store.getBudget(run.id))?.reserved).toBeLessThanOrEqual(20 * USD);
      for (const leaf of leaves)
        expect((await store.getBudget(leaf.id))?.reserved).toBeLessThanOrEqual(8 * USD);
    });

    it('admits no reservation below a budget that starts after its revoke has returned, under load', async () => {
      const root = await issue({ usdCap: 1000 * USD });
      const mid = await issue({ parentId: root.id, usdCap: null });
      const keys = [await keyUnder(mid.id), await keyUnder(mid.id)];
      const all = stores();
      const load = Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (all[i % all.length] as Store).reserve({ keyId: keys[i % 2]?.id ?? '', amount: 1 }),
        ),
      );
      await h.store().revokeBudget(mid.id);
      const after = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (all[i % all.length] as Store).reserve({ keyId: keys[i % 2]?.id ?? '', amount: 1 }),
        ),
      );
      expect(after.every((r) => !r.ok && r.code === 'key_revoked')).toBe(true);
      const during = await load;
      const admitted = during.filter((r) => r.ok).length;
      expect((await h.store().getBudget(mid.id))?.reserved).toBe(admitted);
    });
  });
}
