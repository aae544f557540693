import { createHash, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReserveResult, Store } from '../../src/store/types.js';
import { HOUR, makeRig, rigKinds, USD, type Rig } from './stores.js';

/**
 * Budgets under adversarial concurrency, through the Store API of every store (memory; two SQLite
 * connections on one file; two PostgreSQL pools on one schema). After every scenario the ledger checker
 * re-adds every level from the reservations: a level whose totals differ from the sum of its subtree's
 * reservations has lost or double-counted money.
 */
const T0 = Date.UTC(2026, 5, 1, 12);
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

const ok = (r: ReserveResult): Extract<ReserveResult, { ok: true }> => {
  if (!r.ok) throw new Error(`refused: ${r.code}${r.budgetId ? ` by ${r.budgetId}` : ''}`);
  return r;
};

async function grantFor(store: Store, keyId: string, fingerprint: string, amount: number): Promise<string> {
  const requested = await store.requestApproval({
    id: `apr_${randomUUID().replaceAll('-', '')}`,
    keyId,
    method: 'POST',
    path: '/v1/payment_intents',
    fingerprint,
    account: null,
    amount,
    ttlMs: HOUR,
    maxPending: 20,
  });
  if (!requested.ok) throw new Error(`no approval: ${requested.reason}`);
  const grantHash = sha(`apv_${randomUUID()}`);
  const decided = await store.decideApproval({
    id: requested.approval.id,
    decision: 'approved',
    grantHash,
    grantTtlMs: HOUR,
  });
  if (!decided.ok) throw new Error('not decided');
  return grantHash;
}

for (const kind of rigKinds()) {
  describe(`budget races on the ${kind} store`, () => {
    let rig: Rig;
    afterEach(async () => {
      await rig?.close();
    });
    const open = async (start = T0) => {
      rig = await makeRig(kind, start);
      return rig;
    };
    const both = (i: number) => (i % 2 === 0 ? rig.store : rig.peer);

    it('reserves once for one Idempotency-Key sent 60 times at once under a budget chain', async () => {
      await open();
      const root = await rig.budget({ usdCap: 10 * USD });
      const mid = await rig.budget({ parentId: root, usdCap: 5 * USD });
      const key = await rig.key(mid);
      const claim = { key: 'idem-1', fingerprint: 'fp-1' };
      const burst = () =>
        Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            both(i).reserve({ keyId: key, amount: USD, idempotency: claim, budgeted: true }),
          ),
        );
      const first = await burst();
      const fresh = first.filter((r) => r.ok && !r.replay);
      expect(fresh).toHaveLength(1);
      expect(first.filter((r) => !r.ok).every((r) => !r.ok && r.code === 'idempotency_key_in_use')).toBe(
        true,
      );
      expect(await rig.check()).toEqual([]);
      const { reservationId } = ok(fresh[0] as ReserveResult);
      // The journal may replay a settle: twice, from both instances at once, it counts once.
      await Promise.all([
        rig.store.settle({ reservationId, amount: USD }),
        rig.peer.settle({ reservationId, amount: USD }),
      ]);
      const replays = await burst();
      expect(replays.every((r) => r.ok && r.replay && r.reservationId === reservationId)).toBe(true);
      for (const id of [root, mid]) {
        expect(await rig.store.getBudget(id)).toMatchObject({ spent: USD, reserved: 0 });
      }
      // A released claim retried concurrently: exactly one fresh reservation, the old one gone from the sums.
      const claim2 = { key: 'idem-2', fingerprint: 'fp-2' };
      const r2 = ok(await rig.store.reserve({ keyId: key, amount: 2 * USD, idempotency: claim2 }));
      await rig.store.release({ reservationId: r2.reservationId });
      const retried = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          both(i).reserve({ keyId: key, amount: 2 * USD, idempotency: claim2, budgeted: true }),
        ),
      );
      expect(retried.filter((r) => r.ok && !r.replay)).toHaveLength(1);
      expect(await rig.store.getBudget(mid)).toMatchObject({ spent: USD, reserved: 2 * USD });
      expect(await rig.check()).toEqual([]);
    });

    it('refuses a released claim retried while the budget is full, and reserves it once room is back', async () => {
      await open();
      const root = await rig.budget({ usdCap: 4 * USD });
      const a = await rig.key(root);
      const b = await rig.key(root);
      const claim = { key: 'idem-full', fingerprint: 'fp' };
      const first = ok(await rig.store.reserve({ keyId: a, amount: 3 * USD, idempotency: claim }));
      await rig.store.release({ reservationId: first.reservationId });
      const filler = ok(await rig.store.reserve({ keyId: b, amount: 2 * USD }));
      const refused = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          both(i).reserve({ keyId: a, amount: 3 * USD, idempotency: claim, budgeted: true }),
        ),
      );
      expect(refused.every((r) => !r.ok && r.code === 'cap_exhausted' && r.budgetId === root)).toBe(true);
      expect(await rig.check()).toEqual([]);
      await rig.store.release({ reservationId: filler.reservationId });
      const again = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          both(i).reserve({ keyId: a, amount: 3 * USD, idempotency: claim, budgeted: true }),
        ),
      );
      expect(again.filter((r) => r.ok && !r.replay)).toHaveLength(1);
      expect(await rig.store.getBudget(root)).toMatchObject({ reserved: 3 * USD, spent: 0 });
      expect(await rig.check()).toEqual([]);
    });

    it('spends one grant once under a budget, and leaves it unused when a level refuses', async () => {
      await open();
      const root = await rig.budget({ usdCap: 5 * USD });
      const leaf = await rig.budget({ parentId: root, usdCap: null });
      const key = await rig.key(leaf, { approvalAboveUsd: 2 * USD });
      const other = await rig.key(root);
      const grantHash = await grantFor(rig.store, key, 'fp-3', 3 * USD);
      const approval = { fingerprint: 'fp-3', grantHash };
      const raced = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          both(i).reserve({ keyId: key, amount: 3 * USD, approval, budgeted: true }),
        ),
      );
      expect(raced.filter((r) => r.ok)).toHaveLength(1);
      const used = ok(raced.find((r) => r.ok) as ReserveResult);
      // Room for 2 left; a second grant for 3 is refused by the root and stays usable.
      const second = await grantFor(rig.store, key, 'fp-3b', 3 * USD);
      const blocked = await rig.peer.reserve({
        keyId: key,
        amount: 3 * USD,
        approval: { fingerprint: 'fp-3b', grantHash: second },
        budgeted: true,
      });
      expect(blocked).toMatchObject({ ok: false, code: 'cap_exhausted', budgetId: root });
      expect(ok(await rig.store.reserve({ keyId: other, amount: 2 * USD })).ok).toBe(true);
      await rig.store.release({ reservationId: used.reservationId });
      const later = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          both(i).reserve({
            keyId: key,
            amount: 3 * USD,
            approval: { fingerprint: 'fp-3b', grantHash: second },
            budgeted: true,
          }),
        ),
      );
      expect(later.filter((r) => r.ok)).toHaveLength(1);
      expect(await rig.store.getBudget(root)).toMatchObject({ reserved: 5 * USD });
      expect(await rig.check()).toEqual([]);
    });

    it('keeps every level exact while a subtree revoke races reserves, settles, releases and marks', async () => {
      await open();
      const root = await rig.budget({ usdCap: 1000 * USD });
      const mid = await rig.budget({ parentId: root });
      const leaf = await rig.budget({ parentId: mid, usdCap: 500 * USD });
      const keys = [await rig.key(leaf), await rig.key(leaf), await rig.key(mid)];
      const beside = await rig.key(root);
      const held: string[] = [];
      for (let i = 0; i < 40; i += 1) {
        held.push(ok(await both(i).reserve({ keyId: keys[i % 3] ?? '', amount: USD + i })).reservationId);
      }
      const finishes = held.slice(0, 30).map((reservationId, i) => {
        const store = both(i + 1);
        if (i % 3 === 0) return store.settle({ reservationId, amount: USD / 2 });
        if (i % 3 === 1) return store.release({ reservationId });
        return store.markUncertain({ reservationId });
      });
      const racing = Array.from({ length: 80 }, (_, i) =>
        both(i).reserve({
          keyId: i % 5 === 0 ? beside : (keys[i % 3] ?? ''),
          amount: 1000 + i,
          budgeted: true,
        }),
      );
      const revoked = await rig.store.revokeBudget(mid);
      const after = await Promise.all(
        keys.map((keyId, i) => both(i).reserve({ keyId, amount: 0, budgeted: true })),
      );
      await Promise.all(finishes);
      const raced = await Promise.all(racing);
      expect(revoked?.revokedBudgets).toBe(2);
      expect(after.every((r) => !r.ok && r.code === 'key_revoked')).toBe(true);
      expect(raced.filter((r, i) => i % 5 === 0 && !r.ok)).toEqual([]);
      expect(await rig.check()).toEqual([]);
      // Finishing what was in flight when the revoke landed still moves every level, the revoked ones too.
      const uncertain = held.slice(0, 30).filter((_, i) => i % 3 === 2);
      await Promise.all(
        uncertain.map((reservationId, i) =>
          both(i).resolveUncertain({
            reservationId,
            outcome: i % 2 === 0 ? 'released' : 'settled',
            amount: i % 2 === 0 ? undefined : 7,
          }),
        ),
      );
      await Promise.all(held.slice(30).map((reservationId, i) => both(i).release({ reservationId })));
      for (const r of raced) if (r.ok) await rig.store.release({ reservationId: r.reservationId });
      expect(await rig.check()).toEqual([]);
      for (const id of [root, mid, leaf]) {
        expect(await rig.store.getBudget(id)).toMatchObject({ reserved: 0 });
      }
    });

    it('gives money back to every level when a reservation ends after its budget was revoked', async () => {
      await open();
      const root = await rig.budget({ usdCap: 100 * USD, dailyUsdCap: 50 * USD });
      const mid = await rig.budget({ parentId: root, usdCap: 40 * USD });
      const leaf = await rig.budget({ parentId: mid, dailyUsdCap: 30 * USD });
      const key = await rig.key(leaf);
      const instanceId = 'inst_fb';
      await rig.store.heartbeat({ instanceId, leaseMs: 60_000 });
      const reserve = async (amount: number, requestId?: string) =>
        ok(await rig.store.reserve({ keyId: key, amount, instanceId, requestId, budgeted: true }))
          .reservationId;
      const toRelease = await reserve(5 * USD);
      const toSettle = await reserve(4 * USD);
      const toResolveReleased = await reserve(3 * USD);
      const toResolveSettled = await reserve(2 * USD);
      const toReap = await reserve(6 * USD);
      await reserve(1 * USD, 'req_fb_abandon');
      await rig.store.markUncertain({ reservationId: toResolveReleased });
      await rig.store.markUncertain({ reservationId: toResolveSettled });
      await rig.store.revokeBudget(root);
      await rig.store.release({ reservationId: toRelease });
      await rig.peer.settle({ reservationId: toSettle, amount: 4 * USD });
      expect(
        await rig.store.resolveUncertain({ reservationId: toResolveReleased, outcome: 'released' }),
      ).toMatchObject({
        ok: true,
      });
      expect(
        await rig.peer.resolveUncertain({ reservationId: toResolveSettled, outcome: 'settled', amount: USD }),
      ).toMatchObject({ ok: true });
      await rig.store.abandon({ requestId: 'req_fb_abandon', instanceId });
      await rig.store.heartbeat({ instanceId, leaseMs: 1 });
      rig.clock.time += 2;
      expect(await rig.peer.reapExpired()).toBe(1);
      const expected = { spent: 11 * USD, reserved: 0, uncertain: 6 * USD, spentToday: 11 * USD };
      expect(await rig.store.getKey(key)).toMatchObject(expected);
      for (const id of [root, mid, leaf]) expect(await rig.store.getBudget(id)).toMatchObject(expected);
      expect(await rig.check()).toEqual([]);
      // And the reaped one, resolved after the revoke, too.
      expect(await rig.store.resolveUncertain({ reservationId: toReap, outcome: 'released' })).toMatchObject({
        ok: true,
      });
      for (const id of [root, mid, leaf])
        expect(await rig.store.getBudget(id)).toMatchObject({ spent: 5 * USD, uncertain: 0 });
      expect(await rig.check()).toEqual([]);
    });

    it('rolls every level over at UTC midnight, each by its own day, and keeps day totals exact', async () => {
      const midnight = Date.UTC(2026, 5, 2);
      await open(midnight - 1000);
      const root = await rig.budget({ dailyUsdCap: 10 * USD, expiresAt: midnight + 48 * HOUR });
      const mid = await rig.budget({ parentId: root, dailyUsdCap: 6 * USD, expiresAt: midnight + 48 * HOUR });
      const k1 = await rig.key(mid, { expiresAt: midnight + 24 * HOUR });
      const k2 = await rig.key(root, { expiresAt: midnight + 24 * HOUR });
      const late1 = ok(await rig.store.reserve({ keyId: k1, amount: 5 * USD, budgeted: true }));
      const late2 = ok(await rig.peer.reserve({ keyId: k2, amount: 4 * USD, budgeted: true }));
      expect(await rig.store.reserve({ keyId: k2, amount: 2 * USD, budgeted: true })).toMatchObject({
        ok: false,
        cap: 'daily_usd_cap',
        budgetId: root,
      });
      rig.clock.time = midnight - 1;
      expect(await rig.check()).toEqual([]);
      rig.clock.time = midnight;
      // The new day: the root's window restarts; k1's reservation of yesterday is still in flight.
      const early2 = ok(await rig.store.reserve({ keyId: k2, amount: 3 * USD, budgeted: true }));
      expect(await rig.store.getBudget(root)).toMatchObject({ spentToday: 3 * USD, reserved: 12 * USD });
      expect(await rig.store.getBudget(mid)).toMatchObject({ spentToday: 0 });
      // Yesterday's reservations end today: today's figures do not move, yesterday's do.
      await rig.peer.release({ reservationId: late1.reservationId });
      await rig.store.settle({ reservationId: late2.reservationId, amount: 4.5 * USD });
      expect(await rig.store.getBudget(root)).toMatchObject({ spentToday: 3 * USD });
      expect(await rig.check()).toEqual([]);
      const k1today = await Promise.all(
        Array.from({ length: 10 }, (_, i) => both(i).reserve({ keyId: k1, amount: USD, budgeted: true })),
      );
      // mid allows 6 today, the root 10 - 3 = 7: mid binds.
      expect(k1today.filter((r) => r.ok)).toHaveLength(6);
      const k2today = await Promise.all(
        Array.from({ length: 5 }, (_, i) => both(i).reserve({ keyId: k2, amount: USD, budgeted: true })),
      );
      expect(k2today.filter((r) => r.ok)).toHaveLength(1);
      expect(await rig.store.getBudget(root)).toMatchObject({ spentToday: 10 * USD });
      await rig.store.settle({ reservationId: early2.reservationId, amount: 2 * USD });
      expect(await rig.store.getBudget(root)).toMatchObject({ spentToday: 9 * USD });
      expect(await rig.check({ capsExact: false })).toEqual([]);
    });

    it('admits 0 at a full budget, refuses 0 below a revoked or expired one, and keeps 0 exact', async () => {
      await open();
      const root = await rig.budget({ usdCap: 3 * USD, expiresAt: T0 + 2 * HOUR });
      const leaf = await rig.budget({ parentId: root, maxUsdPerCall: USD, expiresAt: T0 + HOUR });
      const key = await rig.key(leaf, { expiresAt: T0 + HOUR });
      const beside = await rig.key(root, { expiresAt: T0 + 2 * HOUR });
      ok(await rig.store.reserve({ keyId: beside, amount: 3 * USD }));
      const zeros = await Promise.all(
        Array.from({ length: 20 }, (_, i) => both(i).reserve({ keyId: key, amount: 0, budgeted: true })),
      );
      expect(zeros.every((r) => r.ok)).toBe(true);
      expect(await rig.store.reserve({ keyId: key, amount: 1, budgeted: true })).toMatchObject({
        ok: false,
        code: 'cap_exhausted',
        budgetId: root,
      });
      for (const [i, r] of zeros.entries()) {
        const { reservationId } = ok(r);
        if (i % 2 === 0) await rig.store.settle({ reservationId, amount: 0 });
        else await rig.peer.release({ reservationId });
      }
      expect(await rig.store.getKey(key)).toMatchObject({ calls: 20, spent: 0, reserved: 0 });
      rig.clock.time = T0 + HOUR;
      expect(await rig.store.reserve({ keyId: key, amount: 0, budgeted: true })).toMatchObject({
        ok: false,
        code: 'key_expired',
      });
      await rig.store.revokeBudget(root);
      expect(await rig.store.reserve({ keyId: beside, amount: 0, budgeted: true })).toMatchObject({
        ok: false,
        code: 'key_revoked',
      });
      expect(await rig.check()).toEqual([]);
    });

    it('keeps a reaped claim counted once a replay of it was forwarded, whatever its abandon says', async () => {
      // The proxy's sequence (see pg-replay-abandon.test.ts): instance A's reserve committed but its answer
      // was lost, so A refused the call and will abandon it; A's lease lapsed and the reaper made the
      // reservation uncertain; the SDK's retry (same Idempotency-Key) through another instance is a replay,
      // which that instance forwards. The vendor may now have moved the money. A's abandon must not give it
      // back, on the key or on any level, and a later settle of the replay must still count.
      await open();
      const root = await rig.budget({ usdCap: 10 * USD });
      const leaf = await rig.budget({ parentId: root, usdCap: 10 * USD });
      const key = await rig.key(leaf);
      const claim = { key: 'tool-call-1', fingerprint: 'fp-pay-10' };
      await rig.store.heartbeat({ instanceId: 'inst_a', leaseMs: 1000 });
      const lost = ok(
        await rig.store.reserve({
          keyId: key,
          amount: 10 * USD,
          idempotency: claim,
          instanceId: 'inst_a',
          requestId: 'req_a_lost',
          budgeted: true,
        }),
      );
      rig.clock.time += 1001;
      expect(await rig.peer.reapExpired()).toBe(1);
      const replay = await rig.peer.reserve({
        keyId: key,
        amount: 10 * USD,
        idempotency: claim,
        instanceId: 'inst_b',
        requestId: 'req_b_retry',
        budgeted: true,
      });
      expect(replay).toMatchObject({ ok: true, replay: true, reservationId: lost.reservationId });
      // Forwarded by B. A's abandon lands before B's outcome does.
      await rig.store.abandon({ requestId: 'req_a_lost', instanceId: 'inst_a' });
      await rig.peer.settle({ reservationId: lost.reservationId, amount: 10 * USD });
      expect(await rig.check()).toEqual([]);
      const levels = await Promise.all([root, leaf].map((id) => rig.store.getBudget(id)));
      const next = await rig.store.reserve({ keyId: key, amount: 10 * USD, budgeted: true });
      expect(
        {
          spent: levels.map((b) => b?.spent),
          nextCallAdmitted: next.ok,
        },
        'the $10 the replay moved stays counted on every level, and the $10 cap admits nothing more',
      ).toEqual({ spent: [10 * USD, 10 * USD], nextCallAdmitted: false });
    });

    it('keeps the books while settles, releases and the reaper race over the same reservations', async () => {
      await open();
      const root = await rig.budget({ usdCap: 10_000 * USD });
      const mids = [await rig.budget({ parentId: root }), await rig.budget({ parentId: root })];
      const keys = [await rig.key(mids[0] ?? ''), await rig.key(mids[1] ?? ''), await rig.key(root)];
      await rig.store.heartbeat({ instanceId: 'inst_dead', leaseMs: 1_000 });
      const held: string[] = [];
      for (let i = 0; i < 60; i += 1) {
        const r = await both(i).reserve({
          keyId: keys[i % 3] ?? '',
          amount: USD + i,
          instanceId: 'inst_dead',
          requestId: `req_race_${i}`,
        });
        held.push(ok(r).reservationId);
      }
      rig.clock.time += 1_001;
      const work: Promise<unknown>[] = [rig.store.reapExpired(), rig.peer.reapExpired()];
      held.forEach((reservationId, i) => {
        const store = both(i);
        if (i % 4 === 0) work.push(store.settle({ reservationId, amount: USD }));
        if (i % 4 === 1) work.push(store.release({ reservationId }), both(i + 1).release({ reservationId }));
        if (i % 4 === 2) work.push(store.markUncertain({ reservationId }));
        if (i % 4 === 3)
          work.push(
            store.abandon({ requestId: `req_race_${i}`, instanceId: 'inst_dead' }),
            store.settle({ reservationId, amount: 2 }),
          );
      });
      work.push(rig.store.reapExpired());
      const settled = await Promise.allSettled(work);
      // A reaper that lost a deadlock is fine (it retries); money must balance either way.
      const failures = settled.filter((s) => s.status === 'rejected');
      expect(
        failures.length,
        String(failures.map((f) => (f as PromiseRejectedResult).reason)),
      ).toBeLessThanOrEqual(2);
      await rig.store.reapExpired();
      expect(await rig.check({ capsExact: false })).toEqual([]);
      for (const id of [root, ...mids]) expect(await rig.store.getBudget(id)).toMatchObject({ reserved: 0 });
    });
  });
}
