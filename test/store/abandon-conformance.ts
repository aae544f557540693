import { describe, expect, it } from 'vitest';
import type { NewAuditRow, NewKey, Store } from '../../src/store/types.js';

const USD = 1_000_000;

export interface AbandonHarness {
  store(): Store;
  newKey(overrides?: Partial<NewKey>): NewKey;
  now(): number;
  advance(ms: number): void;
}

/**
 * A reservation the ledger committed but whose answer the proxy never got: the proxy refused the call
 * without forwarding it, so `abandon` gives the money back, once, and only for that instance's call.
 */
export function describeAbandonConformance(h: AbandonHarness): void {
  describe('abandoned reservations', () => {
    const audit = (keyId: string, requestId: string): NewAuditRow => ({
      ts: h.now(),
      keyId,
      label: null,
      vendor: 'stripe',
      method: 'POST',
      path: '/v1/payment_intents',
      decision: 'denied',
      code: 'ledger_unavailable',
      upstreamStatus: null,
      costReserved: null,
      costSettled: null,
      settlement: null,
      idempotencyKey: null,
      vendorRequestId: null,
      requestId,
      latencyMs: 5,
    });

    it('releases the call in flight, with its audit row, and only once', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey({ usdCap: 10 * USD, dailyUsdCap: 10 * USD }));
      const kept = await store.reserve({
        keyId: key.id,
        amount: 2 * USD,
        instanceId: 'i1',
        requestId: 'req_kept',
      });
      const lost = await store.reserve({
        keyId: key.id,
        amount: 3 * USD,
        instanceId: 'i1',
        requestId: 'req_lost',
      });
      expect(kept.ok && lost.ok).toBe(true);
      await store.abandon({ requestId: 'req_lost', instanceId: 'other', audit: audit(key.id, 'req_other') });
      expect((await store.getKey(key.id))?.reserved).toBe(5 * USD);
      await store.abandon({ requestId: 'req_lost', instanceId: 'i1', audit: audit(key.id, 'req_lost') });
      await store.abandon({ requestId: 'req_lost', instanceId: 'i1', audit: audit(key.id, 'req_lost') });
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 2 * USD, spent: 0, spentToday: 2 * USD });
      const rows = await store.queryAudit({ keyId: key.id, limit: 10 });
      expect(rows.data.filter((r) => r.requestId === 'req_lost')).toHaveLength(1);
      // The money is back: $8 more fits the $10 cap beside the $2 still in flight.
      expect((await store.reserve({ keyId: key.id, amount: 8 * USD })).ok).toBe(true);
    });

    it('releases one the reaper kept as uncertain, and leaves settled ones alone', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey({ usdCap: 10 * USD }));
      await store.heartbeat({ instanceId: 'dead', leaseMs: 1000 });
      const lost = await store.reserve({
        keyId: key.id,
        amount: 3 * USD,
        instanceId: 'dead',
        requestId: 'req_reaped',
      });
      const done = await store.reserve({
        keyId: key.id,
        amount: 4 * USD,
        instanceId: 'dead',
        requestId: 'req_done',
      });
      if (!lost.ok || !done.ok) throw new Error('not reserved');
      await store.settle({ reservationId: done.reservationId, amount: 4 * USD });
      h.advance(2000);
      expect(await store.reapExpired()).toBe(1);
      expect((await store.getKey(key.id))?.uncertain).toBe(3 * USD);
      await store.abandon({
        requestId: 'req_reaped',
        instanceId: 'dead',
        audit: audit(key.id, 'req_reaped'),
      });
      await store.abandon({ requestId: 'req_done', instanceId: 'dead' });
      expect(await store.getKey(key.id)).toMatchObject({ uncertain: 0, reserved: 0, spent: 4 * USD });
      // The abandon's row replaces the reaper's provisional one: one row per call.
      const rows = (await store.queryAudit({ keyId: key.id, limit: 10 })).data.filter(
        (r) => r.requestId === 'req_reaped',
      );
      expect(rows.map((r) => r.code)).toEqual(['ledger_unavailable']);
    });
  });
}
