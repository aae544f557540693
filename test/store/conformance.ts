import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import type { NewKey, Store } from '../../src/store/types.js';
import { describeAbandonConformance } from './abandon-conformance.js';
import { describeApprovalConformance } from './approval-conformance.js';
import { describeBudgetConformance } from './budget-conformance.js';

const USD = 1_000_000;
const DAY = 86_400_000;

export interface StoreHarness {
  readonly store: Store;
  /** Another store instance over the same backing data (another connection or process), when there is one. */
  readonly peer?: Store;
  cleanup(): Promise<void>;
}

export interface ConformanceOptions {
  /** Builds a fresh, initialised, empty store whose clock reads `now()`. */
  readonly make: (now: () => number) => Promise<StoreHarness>;
}

/** One suite every Store implementation must pass, including the concurrency cases. */
export function describeStoreConformance(name: string, options: ConformanceOptions): void {
  describe(`Store conformance: ${name}`, () => {
    let time = Date.UTC(2026, 10, 22, 12, 0, 0);
    const now = () => time;
    let harness: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      time = Date.UTC(2026, 10, 22, 12, 0, 0);
      harness = await options.make(now);
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    function newKey(overrides: Partial<NewKey> = {}): NewKey {
      const token = `vk_${randomUUID()}`;
      return {
        id: `key_${randomUUID().replaceAll('-', '')}`,
        tokenHash: createHash('sha256').update(token).digest('hex'),
        vendor: 'stripe',
        label: 'run-1',
        metadata: { tenant: 't1' },
        connectedAccounts: [],
        usdCap: 50 * USD,
        dailyUsdCap: null,
        maxUsdPerCall: null,
        allowedEndpoints: ['POST /v1/payment_intents'],
        createdAt: time,
        expiresAt: time + 3_600_000,
        ...overrides,
      };
    }

    it('issues a key and finds it by id and by token hash', async () => {
      const key = newKey({ metadata: { tenant: 't9', run: 'r1' } });
      const issued = await store.issueKey(key);
      expect(issued).toMatchObject({ id: key.id, status: 'active', spent: 0, reserved: 0, calls: 0 });
      expect(await store.getKey(key.id)).toMatchObject({
        id: key.id,
        vendor: 'stripe',
        label: 'run-1',
        metadata: { tenant: 't9', run: 'r1' },
        usdCap: 50 * USD,
        allowedEndpoints: ['POST /v1/payment_intents'],
        expiresAt: key.expiresAt,
      });
      expect((await store.findKeyByTokenHash(key.tokenHash))?.id).toBe(key.id);
      expect(await store.findKeyByTokenHash('0'.repeat(64))).toBeNull();
      expect(await store.getKey('key_missing')).toBeNull();
    });

    it('reserves, settles and releases with exact integer accounting', async () => {
      const key = await store.issueKey(newKey());
      const a = await store.reserve({ keyId: key.id, amount: 5 * USD });
      const b = await store.reserve({ keyId: key.id, amount: 7 * USD });
      expect(a.ok && b.ok).toBe(true);
      if (!a.ok || !b.ok) return;
      expect(await store.getKey(key.id)).toMatchObject({
        reserved: 12 * USD,
        spent: 0,
        spentToday: 12 * USD,
        calls: 2,
      });
      await store.settle({ reservationId: a.reservationId, amount: 4_500_001 });
      await store.release({ reservationId: b.reservationId });
      expect(await store.getKey(key.id)).toMatchObject({
        reserved: 0,
        spent: 4_500_001,
        spentToday: 4_500_001,
      });
      // Settling or releasing twice changes nothing.
      await store.settle({ reservationId: a.reservationId, amount: 9 * USD });
      await store.release({ reservationId: a.reservationId });
      await store.release({ reservationId: b.reservationId });
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 0, spent: 4_500_001 });
    });

    it('keeps an uncertain reservation as spent, and lets a later success settle it', async () => {
      const key = await store.issueKey(newKey());
      const r = await store.reserve({ keyId: key.id, amount: 10 * USD });
      if (!r.ok) throw new Error('reserve failed');
      await store.markUncertain({ reservationId: r.reservationId });
      await store.release({ reservationId: r.reservationId });
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 0, spent: 10 * USD });
      await store.settle({ reservationId: r.reservationId, amount: 8 * USD });
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 0, spent: 8 * USD });
    });

    it('remembers which vendor objects a key created, and forgets released ones', async () => {
      const key = await store.issueKey(newKey());
      const other = await store.issueKey(newKey());
      const a = await store.reserve({ keyId: key.id, amount: USD });
      const b = await store.reserve({ keyId: key.id, amount: USD });
      if (!a.ok || !b.ok) throw new Error('reserve failed');
      expect(await store.hasObject({ keyId: key.id, objectId: 'pi_1' })).toBe(false);
      await store.settle({ reservationId: a.reservationId, amount: USD, objectId: 'pi_1' });
      expect(await store.hasObject({ keyId: key.id, objectId: 'pi_1' })).toBe(true);
      expect(await store.hasObject({ keyId: other.id, objectId: 'pi_1' })).toBe(false);
      await store.release({ reservationId: b.reservationId });
      expect(await store.hasObject({ keyId: key.id, objectId: 'pi_2' })).toBe(false);
    });

    it('refuses past the lifetime cap and counts in-flight reservations against it', async () => {
      const key = await store.issueKey(newKey({ usdCap: 10 * USD }));
      expect((await store.reserve({ keyId: key.id, amount: 6 * USD })).ok).toBe(true);
      const refused = await store.reserve({ keyId: key.id, amount: 5 * USD });
      expect(refused).toMatchObject({ ok: false, code: 'cap_exhausted', cap: 'usd_cap' });
      expect((await store.reserve({ keyId: key.id, amount: 4 * USD })).ok).toBe(true);
      expect((await store.reserve({ keyId: key.id, amount: 1 })).ok).toBe(false);
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 10 * USD, calls: 2 });
    });

    it('enforces the daily cap per UTC day and resets it at midnight, while usd_cap never resets', async () => {
      time = Date.UTC(2026, 10, 22, 23, 59, 0);
      const key = await store.issueKey(
        newKey({ usdCap: 25 * USD, dailyUsdCap: 10 * USD, expiresAt: time + 3 * DAY }),
      );
      const r = await store.reserve({ keyId: key.id, amount: 10 * USD });
      expect(r.ok).toBe(true);
      expect(await store.reserve({ keyId: key.id, amount: 1 })).toMatchObject({
        ok: false,
        cap: 'daily_usd_cap',
      });
      time = Date.UTC(2026, 10, 23, 0, 0, 1);
      expect((await store.getKey(key.id))?.spentToday).toBe(0);
      expect((await store.reserve({ keyId: key.id, amount: 10 * USD })).ok).toBe(true);
      // Settling yesterday's reservation must not disturb today's window.
      if (r.ok) await store.settle({ reservationId: r.reservationId, amount: 9 * USD });
      expect(await store.getKey(key.id)).toMatchObject({
        spentToday: 10 * USD,
        spent: 9 * USD,
        reserved: 10 * USD,
      });
      time = Date.UTC(2026, 10, 24, 0, 0, 1);
      expect(await store.reserve({ keyId: key.id, amount: 7 * USD })).toMatchObject({
        ok: false,
        cap: 'usd_cap',
      });
    });

    it('refuses a call above max_usd_per_call without touching spend', async () => {
      const key = await store.issueKey(
        newKey({ usdCap: null, dailyUsdCap: 100 * USD, maxUsdPerCall: 5 * USD }),
      );
      expect(await store.reserve({ keyId: key.id, amount: 5 * USD + 1 })).toMatchObject({
        ok: false,
        code: 'per_call_limit_exceeded',
      });
      expect((await store.reserve({ keyId: key.id, amount: 5 * USD })).ok).toBe(true);
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 5 * USD, calls: 1 });
    });

    it('refuses unknown, revoked and expired keys, even for free calls', async () => {
      expect(await store.reserve({ keyId: 'key_nope', amount: 0 })).toMatchObject({
        ok: false,
        code: 'key_invalid',
      });
      const revoked = await store.issueKey(newKey());
      const first = await store.revokeKey(revoked.id);
      expect(first).toMatchObject({ status: 'revoked', revokedAt: time });
      time += 1000;
      expect((await store.revokeKey(revoked.id))?.revokedAt).toBe(first?.revokedAt);
      expect(await store.reserve({ keyId: revoked.id, amount: 0 })).toMatchObject({
        ok: false,
        code: 'key_revoked',
      });
      const expiring = await store.issueKey(newKey({ expiresAt: time + 1000 }));
      expect((await store.reserve({ keyId: expiring.id, amount: 0 })).ok).toBe(true);
      time += 1000;
      expect(await store.reserve({ keyId: expiring.id, amount: 0 })).toMatchObject({
        ok: false,
        code: 'key_expired',
      });
      expect(await store.revokeKey('key_nope')).toBeNull();
    });

    it('reserves once per idempotency key and refuses the same key with a different body', async () => {
      const key = await store.issueKey(newKey());
      const claim = { key: 'idem-1', fingerprint: 'f1' };
      const first = await store.reserve({ keyId: key.id, amount: 5 * USD, idempotency: claim });
      expect(first).toMatchObject({
        ok: true,
        replay: false,
        key: { reserved: 5 * USD, metadata: { tenant: 't1' } },
      });
      // While the original is in flight, a copy must wait: it cannot know the outcome yet.
      expect(await store.reserve({ keyId: key.id, amount: 5 * USD, idempotency: claim })).toMatchObject({
        ok: false,
        code: 'idempotency_key_in_use',
      });
      expect(
        await store.reserve({
          keyId: key.id,
          amount: 5 * USD,
          idempotency: { key: 'idem-1', fingerprint: 'f2' },
        }),
      ).toMatchObject({ ok: false, code: 'idempotency_mismatch' });
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 5 * USD, calls: 1 });
      // Once settled, a copy is a replay of it and reserves nothing.
      if (first.ok) await store.settle({ reservationId: first.reservationId, amount: 5 * USD });
      const again = await store.reserve({ keyId: key.id, amount: 5 * USD, idempotency: claim });
      expect(again).toMatchObject({ ok: true, replay: true, key: { spent: 5 * USD, reserved: 0, calls: 1 } });
      if (first.ok && again.ok) expect(again.reservationId).toBe(first.reservationId);
      // The same idempotency key on another vault key is a different operation.
      const other = await store.issueKey(newKey());
      const elsewhere = await store.reserve({ keyId: other.id, amount: 5 * USD, idempotency: claim });
      expect(elsewhere).toMatchObject({ ok: true, replay: false });
      // A released claim may be tried again, and then reserves again.
      if (elsewhere.ok) await store.release({ reservationId: elsewhere.reservationId });
      const retried = await store.reserve({ keyId: other.id, amount: 5 * USD, idempotency: claim });
      expect(retried).toMatchObject({ ok: true, replay: false });
      expect(await store.getKey(other.id)).toMatchObject({ reserved: 5 * USD });
    });

    it('replays an uncertain claim, and a replay never releases what its original settled', async () => {
      const key = await store.issueKey(newKey());
      const claim = { key: 'idem-u', fingerprint: 'f' };
      const first = await store.reserve({ keyId: key.id, amount: 3 * USD, idempotency: claim });
      if (!first.ok) throw new Error('expected a reservation');
      await store.markUncertain({ reservationId: first.reservationId });
      const replay = await store.reserve({ keyId: key.id, amount: 3 * USD, idempotency: claim });
      expect(replay).toMatchObject({ ok: true, replay: true, reservationId: first.reservationId });
      await store.settle({ reservationId: first.reservationId, amount: 3 * USD });
      // Release and uncertain only act on a reservation still in flight: settled money stays spent.
      await store.release({ reservationId: first.reservationId });
      await store.markUncertain({ reservationId: first.reservationId });
      expect(await store.getKey(key.id)).toMatchObject({ spent: 3 * USD, reserved: 0 });
    });

    it('accepts any printable idempotency key, as vendors scope them', async () => {
      const key = await store.issueKey(newKey());
      const claim = { key: JSON.stringify(['acct_1', "ünïcødé 'quoted' \\ [x] 🚀"]), fingerprint: 'f' };
      const first = await store.reserve({ keyId: key.id, amount: USD, idempotency: claim });
      expect(first).toMatchObject({ ok: true, replay: false });
      if (first.ok) await store.settle({ reservationId: first.reservationId, amount: USD });
      expect(await store.reserve({ keyId: key.id, amount: USD, idempotency: claim })).toMatchObject({
        ok: true,
        replay: true,
      });
    });

    it('lists keys with filters and cursor pagination', async () => {
      for (let i = 0; i < 5; i += 1)
        await store.issueKey(newKey({ label: `batch-a-${i}`, vendor: 'stripe' }));
      await store.issueKey(newKey({ label: 'batch-b', vendor: 'twilio' }));
      const first = await store.listKeys({ labelPrefix: 'batch-a-', limit: 2 });
      expect(first.data.map((k) => k.label)).toEqual(['batch-a-4', 'batch-a-3']);
      expect(first.nextCursor).not.toBeNull();
      const second = await store.listKeys({
        labelPrefix: 'batch-a-',
        limit: 2,
        cursor: first.nextCursor ?? undefined,
      });
      expect(second.data.map((k) => k.label)).toEqual(['batch-a-2', 'batch-a-1']);
      const third = await store.listKeys({
        labelPrefix: 'batch-a-',
        limit: 2,
        cursor: second.nextCursor ?? undefined,
      });
      expect(third.data.map((k) => k.label)).toEqual(['batch-a-0']);
      expect(third.nextCursor).toBeNull();
      expect((await store.listKeys({ vendor: 'twilio', limit: 10 })).data.map((k) => k.label)).toEqual([
        'batch-b',
      ]);
      expect((await store.listKeys({ label: 'batch-a-1', limit: 10 })).data).toHaveLength(1);
      const id = first.data[0]?.id ?? '';
      await store.revokeKey(id);
      expect((await store.listKeys({ status: 'revoked', limit: 10 })).data.map((k) => k.id)).toEqual([id]);
    });

    it('revokes in bulk by label, label prefix and metadata, counting only newly revoked keys', async () => {
      await store.issueKey(newKey({ label: 'job-1', metadata: { tenant: 'a' } }));
      await store.issueKey(newKey({ label: 'job-2', metadata: { tenant: 'a', user: 'u1' } }));
      await store.issueKey(newKey({ label: 'other', metadata: { tenant: 'b' } }));
      await store.issueKey(newKey({ label: null, metadata: {} }));
      expect(await store.revokeKeys({ metadata: { tenant: 'a', user: 'u1' } })).toBe(1);
      expect(await store.revokeKeys({ labelPrefix: 'job-' })).toBe(1);
      expect(await store.revokeKeys({ labelPrefix: 'job-' })).toBe(0);
      expect(await store.revokeKeys({ label: 'other' })).toBe(1);
      expect((await store.listKeys({ status: 'active', limit: 10 })).data).toHaveLength(1);
    });

    const auditRow = (keyId: string | null, requestId: string, decision: 'allowed' | 'denied') => ({
      ts: time,
      keyId,
      label: 'run-1',
      vendor: 'stripe',
      method: 'POST',
      path: '/v1/payment_intents',
      decision,
      code: decision === 'denied' ? 'cap_exhausted' : null,
      upstreamStatus: null,
      costReserved: null,
      costSettled: null,
      settlement: null,
      idempotencyKey: null,
      vendorRequestId: null,
      requestId,
      latencyMs: 1,
    });

    it('adds one audit row per request id, however often it is replayed, and counts a denial once', async () => {
      const key = await store.issueKey(newKey());
      const first = await store.appendAudit(auditRow(key.id, 'req_replayed', 'denied'));
      const again = await store.appendAudit(auditRow(key.id, 'req_replayed', 'denied'));
      expect(again.id).toBe(first.id);
      const res = await store.reserve({ keyId: key.id, amount: USD });
      if (!res.ok) throw new Error('expected a reservation');
      const settleRow = { ...auditRow(key.id, 'req_settle', 'allowed'), settlement: 'settled' as const };
      await store.settle({ reservationId: res.reservationId, amount: USD, audit: settleRow });
      await store.settle({ reservationId: res.reservationId, amount: USD, audit: settleRow });
      const rows = await store.queryAudit({ keyId: key.id, limit: 10 });
      expect(rows.data.map((r) => r.requestId).sort()).toEqual(['req_replayed', 'req_settle']);
      expect(await store.getKey(key.id)).toMatchObject({ deniedCalls: 1, spent: USD, reserved: 0 });
    });

    it('keeps uncertain spend apart, and resolves it as settled or released exactly once', async () => {
      const key = await store.issueKey(newKey({ usdCap: 10 * USD, dailyUsdCap: 10 * USD }));
      const a = await store.reserve({ keyId: key.id, amount: 3 * USD });
      const b = await store.reserve({ keyId: key.id, amount: 2 * USD });
      if (!a.ok || !b.ok) throw new Error('expected reservations');
      await store.markUncertain({ reservationId: a.reservationId });
      await store.markUncertain({ reservationId: b.reservationId });
      expect(await store.getKey(key.id)).toMatchObject({ spent: 5 * USD, uncertain: 5 * USD, reserved: 0 });
      const listed = await store.listReservations({ keyId: key.id, status: 'uncertain', limit: 10 });
      expect(listed.map((r) => r.id).sort()).toEqual([a.reservationId, b.reservationId].sort());
      const resolved = await store.resolveUncertain({
        reservationId: a.reservationId,
        outcome: 'settled',
        amount: 2.5 * USD,
        audit: { ...auditRow(key.id, 'req_resolve_a', 'allowed'), settlement: 'settled' },
      });
      expect(resolved).toEqual({ ok: true, keyId: key.id, amount: 2.5 * USD });
      expect(
        await store.resolveUncertain({ reservationId: b.reservationId, outcome: 'released' }),
      ).toMatchObject({
        ok: true,
        amount: 0,
      });
      expect(await store.resolveUncertain({ reservationId: b.reservationId, outcome: 'settled' })).toEqual({
        ok: false,
        reason: 'not_uncertain',
        status: 'released',
      });
      expect(await store.resolveUncertain({ reservationId: 'res_missing', outcome: 'settled' })).toEqual({
        ok: false,
        reason: 'not_found',
      });
      expect(await store.getKey(key.id)).toMatchObject({
        spent: 2.5 * USD,
        spentToday: 2.5 * USD,
        uncertain: 0,
        reserved: 0,
      });
      // A settle of an uncertain reservation (an SDK retry that got the answer) also clears it.
      const c = await store.reserve({ keyId: key.id, amount: USD });
      if (!c.ok) throw new Error('expected a reservation');
      await store.markUncertain({ reservationId: c.reservationId });
      await store.settle({ reservationId: c.reservationId, amount: USD });
      expect(await store.getKey(key.id)).toMatchObject({ spent: 3.5 * USD, uncertain: 0 });
    });

    it("reaps a lapsed lease's reservations as uncertain, once, with the call's own audit row", async () => {
      const key = await store.issueKey(newKey());
      await store.heartbeat({ instanceId: 'inst_dead', leaseMs: 1000 });
      await store.heartbeat({ instanceId: 'inst_live', leaseMs: 60_000 });
      const dead = await store.reserve({
        keyId: key.id,
        amount: 2 * USD,
        instanceId: 'inst_dead',
        requestId: 'req_dead',
      });
      const live = await store.reserve({
        keyId: key.id,
        amount: USD,
        instanceId: 'inst_live',
        requestId: 'req_live',
      });
      if (!dead.ok || !live.ok) throw new Error('expected reservations');
      expect(await store.reapExpired()).toBe(0);
      time += 2000;
      expect(await store.reapExpired()).toBe(1);
      expect(await store.reapExpired()).toBe(0);
      expect(await store.getKey(key.id)).toMatchObject({ reserved: USD, uncertain: 2 * USD, spent: 2 * USD });
      const reaped = (await store.queryAudit({ keyId: key.id, limit: 10 })).data;
      expect(reaped).toHaveLength(1);
      expect(reaped[0]).toMatchObject({
        requestId: 'req_dead',
        code: 'reservation_reaped',
        settlement: 'uncertain',
      });
      // The call's real outcome turns up later (the dead instance's journal): it replaces the provisional row.
      await store.settle({
        reservationId: dead.reservationId,
        amount: 2 * USD,
        audit: { ...auditRow(key.id, 'req_dead', 'allowed'), settlement: 'settled', upstreamStatus: 200 },
      });
      const rows = (await store.queryAudit({ keyId: key.id, limit: 10 })).data;
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        requestId: 'req_dead',
        code: null,
        settlement: 'settled',
        upstreamStatus: 200,
      });
      expect(await store.getKey(key.id)).toMatchObject({ reserved: USD, uncertain: 0, spent: 2 * USD });
      // A live lease is renewed and never reaped.
      await store.heartbeat({ instanceId: 'inst_live', leaseMs: 60_000 });
      time += 30_000;
      expect(await store.reapExpired()).toBe(0);
    });

    it('lets an idempotency claim lapse after 23 hours, before the vendor forgets the key', async () => {
      const key = await store.issueKey(newKey({ usdCap: 10 * USD, expiresAt: time + 2 * DAY }));
      const claim = { key: 'idem-old', fingerprint: 'f' };
      const first = await store.reserve({ keyId: key.id, amount: 2 * USD, idempotency: claim });
      if (!first.ok) throw new Error('expected a reservation');
      await store.settle({ reservationId: first.reservationId, amount: 2 * USD });
      time += 22 * 3600_000;
      expect(await store.reserve({ keyId: key.id, amount: 2 * USD, idempotency: claim })).toMatchObject({
        ok: true,
        replay: true,
      });
      time += 3600_000;
      // The vendor may now run it again as a new request: so it must reserve again.
      const later = await store.reserve({ keyId: key.id, amount: 2 * USD, idempotency: claim });
      expect(later).toMatchObject({ ok: true, replay: false });
      if (later.ok) expect(later.reservationId).not.toBe(first.reservationId);
      expect(await store.getKey(key.id)).toMatchObject({ spent: 2 * USD, reserved: 2 * USD, calls: 2 });
    });

    it('gives a retried released claim a fresh reservation id, so a late finish of the first cannot touch it', async () => {
      const key = await store.issueKey(newKey());
      const claim = { key: 'idem-fresh', fingerprint: 'f' };
      const first = await store.reserve({ keyId: key.id, amount: 2 * USD, idempotency: claim });
      if (!first.ok) throw new Error('expected a reservation');
      await store.release({ reservationId: first.reservationId });
      const retry = await store.reserve({ keyId: key.id, amount: 2 * USD, idempotency: claim });
      if (!retry.ok) throw new Error('expected a reservation');
      expect(retry.reservationId).not.toBe(first.reservationId);
      // A replayed release of the first attempt (a journal entry applied twice) changes nothing.
      await store.release({ reservationId: first.reservationId });
      await store.markUncertain({ reservationId: first.reservationId });
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 2 * USD });
    });

    it('appends and queries the audit log; a denied row counts against the key', async () => {
      const key = await store.issueKey(newKey());
      const base = {
        keyId: key.id,
        label: 'run-1',
        vendor: 'stripe',
        method: 'POST',
        path: '/v1/payment_intents',
        upstreamStatus: null,
        costReserved: null,
        costSettled: null,
        settlement: null,
        idempotencyKey: null,
        vendorRequestId: null,
        latencyMs: 1,
      } as const;
      for (let i = 0; i < 3; i += 1) {
        await store.appendAudit({
          ...base,
          ts: time + i,
          decision: 'allowed',
          code: null,
          requestId: `req_${i}`,
        });
      }
      await store.appendAudit({
        ...base,
        ts: time + 10,
        decision: 'denied',
        code: 'cap_exhausted',
        requestId: 'req_d',
      });
      await store.appendAudit({
        ...base,
        keyId: null,
        label: null,
        ts: time + 11,
        decision: 'denied',
        code: 'key_invalid',
        requestId: 'req_x',
      });
      expect((await store.getKey(key.id))?.deniedCalls).toBe(1);
      const denied = await store.queryAudit({ keyId: key.id, decision: 'denied', limit: 10 });
      expect(denied.data.map((r) => r.code)).toEqual(['cap_exhausted']);
      const page1 = await store.queryAudit({ label: 'run-1', limit: 2 });
      expect(page1.data.map((r) => r.requestId)).toEqual(['req_d', 'req_2']);
      const page2 = await store.queryAudit({
        label: 'run-1',
        limit: 2,
        cursor: page1.nextCursor ?? undefined,
      });
      expect(page2.data.map((r) => r.requestId)).toEqual(['req_1', 'req_0']);
      expect(page2.nextCursor).toBeNull();
      const window = await store.queryAudit({ since: time + 1, until: time + 10, limit: 10 });
      expect(window.data.map((r) => r.requestId)).toEqual(['req_2', 'req_1']);
      expect((await store.queryAudit({ labelPrefix: 'run', vendor: 'stripe', limit: 10 })).data).toHaveLength(
        4,
      );
    });

    it('appends the audit row in the same step as the settlement, even when the settlement is a no-op', async () => {
      const key = await store.issueKey(newKey());
      const row = (requestId: string, settlement: 'settled' | 'released' | 'uncertain') => ({
        ts: time,
        keyId: key.id,
        label: 'run-1',
        vendor: 'stripe',
        method: 'POST',
        path: '/v1/payment_intents',
        decision: 'allowed' as const,
        code: null,
        upstreamStatus: 200,
        costReserved: USD,
        costSettled: USD,
        settlement,
        idempotencyKey: null,
        vendorRequestId: 'req_1',
        requestId,
        latencyMs: 3.4,
      });
      const a = await store.reserve({ keyId: key.id, amount: USD });
      const b = await store.reserve({ keyId: key.id, amount: USD });
      const c = await store.reserve({ keyId: key.id, amount: USD });
      if (!a.ok || !b.ok || !c.ok) throw new Error('reserve failed');
      await store.settle({ reservationId: a.reservationId, amount: USD, audit: row('req_a', 'settled') });
      await store.release({ reservationId: b.reservationId, audit: row('req_b', 'released') });
      await store.markUncertain({ reservationId: c.reservationId, audit: row('req_c', 'uncertain') });
      await store.settle({
        reservationId: a.reservationId,
        amount: 9 * USD,
        audit: row('req_a2', 'settled'),
      });
      expect(await store.getKey(key.id)).toMatchObject({ spent: 2 * USD, reserved: 0 });
      const audit = await store.queryAudit({ keyId: key.id, limit: 10 });
      expect(audit.data.map((r) => [r.requestId, r.settlement, r.latencyMs])).toEqual([
        ['req_a2', 'settled', 3],
        ['req_c', 'uncertain', 3],
        ['req_b', 'released', 3],
        ['req_a', 'settled', 3],
      ]);
    });

    it('admits exactly 10 of 1,000 concurrent $5 reservations against a $50 cap', async () => {
      const key = await store.issueKey(newKey({ usdCap: 50 * USD }));
      const stores = harness.peer ? [store, harness.peer] : [store];
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          (stores[i % stores.length] as Store).reserve({ keyId: key.id, amount: 5 * USD }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      expect(results.filter((r) => !r.ok && r.code === 'cap_exhausted')).toHaveLength(990);
      const after = await store.getKey(key.id);
      expect(after?.reserved).toBe(50 * USD);
      expect(after?.calls).toBe(10);
    });

    it('reserves once for 200 concurrent calls with one idempotency key', async () => {
      const key = await store.issueKey(newKey({ usdCap: 50 * USD }));
      const stores = harness.peer ? [store, harness.peer] : [store];
      const claim = { key: 'same', fingerprint: 'body' };
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (stores[i % stores.length] as Store).reserve({
            keyId: key.id,
            amount: 5 * USD,
            idempotency: claim,
          }),
        ),
      );
      // Exactly one reserves; every other copy sees it in flight and is told to retry, none replays early.
      expect(results.filter((r) => r.ok && !r.replay)).toHaveLength(1);
      expect(results.filter((r) => r.ok && r.replay)).toHaveLength(0);
      expect(results.filter((r) => !r.ok && r.code === 'idempotency_key_in_use')).toHaveLength(199);
      expect((await store.getKey(key.id))?.reserved).toBe(5 * USD);
    });

    it('never admits a reservation that starts after a concurrent revoke has returned', async () => {
      const key = await store.issueKey(newKey({ usdCap: 1000 * USD }));
      const other = harness.peer ?? store;
      const before = await Promise.all(
        Array.from({ length: 20 }, () => store.reserve({ keyId: key.id, amount: 1 })),
      );
      expect(before.every((r) => r.ok)).toBe(true);
      await store.revokeKey(key.id);
      const after = await Promise.all(
        Array.from({ length: 50 }, () => other.reserve({ keyId: key.id, amount: 0 })),
      );
      expect(after.every((r) => !r.ok && r.code === 'key_revoked')).toBe(true);
    });

    describeAbandonConformance({
      store: () => store,
      newKey,
      now,
      advance: (ms) => {
        time += ms;
      },
    });
    describeBudgetConformance({
      store: () => store,
      peer: () => harness.peer,
      newKey,
      now,
      advance: (ms) => {
        time += ms;
      },
    });
    describeApprovalConformance({
      store: () => store,
      peer: () => harness.peer,
      newKey,
      advance: (ms) => {
        time += ms;
      },
    });
  });
}
