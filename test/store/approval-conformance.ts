import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NewKey, Store } from '../../src/store/types.js';

const USD = 1_000_000;
const TTL = 600_000;

/** What the approval cases need from the store conformance suite that runs them. */
export interface ApprovalHarness {
  store(): Store;
  /** Another instance over the same data, when the store has one. */
  peer(): Store | undefined;
  newKey(overrides?: Partial<NewKey>): NewKey;
  advance(ms: number): void;
}

const newApproval = (keyId: string, fingerprint: string, maxPending = 20) => ({
  id: `apr_${randomUUID().replaceAll('-', '')}`,
  keyId,
  method: 'POST',
  path: '/v1/payment_intents',
  fingerprint,
  account: null,
  amount: 30 * USD,
  ttlMs: TTL,
  maxPending,
});
const hash = (grant: string) => createHash('sha256').update(grant).digest('hex');
const newGrant = () => `apv_${randomUUID().replaceAll('-', '')}`;

/** Approval above an amount, on every store: pending, decided once, a grant spent once and only as granted. */
export function describeApprovalConformance(h: ApprovalHarness): void {
  describe('approvals', () => {
    async function pendingFor(store: Store, keyId: string, fingerprint = 'fp-30') {
      const requested = await store.requestApproval(newApproval(keyId, fingerprint));
      if (!requested.ok) throw new Error(`no approval: ${requested.reason}`);
      return requested.approval;
    }

    async function approved(store: Store, keyId: string, fingerprint = 'fp-30') {
      const approval = await pendingFor(store, keyId, fingerprint);
      const grant = newGrant();
      const decided = await store.decideApproval({
        id: approval.id,
        decision: 'approved',
        grantHash: hash(grant),
        grantTtlMs: TTL,
      });
      expect(decided.ok).toBe(true);
      return { approval, grant };
    }

    it('records one pending approval per key and request, and lists it by status, key and label', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey({ label: 'approvals-run' }));
      const first = await pendingFor(store, key.id);
      const again = await pendingFor(h.peer() ?? store, key.id);
      expect(again.id).toBe(first.id);
      expect(first).toMatchObject({
        keyId: key.id,
        label: 'approvals-run',
        vendor: 'stripe',
        status: 'pending',
        amount: 30 * USD,
        method: 'POST',
        path: '/v1/payment_intents',
        decidedAt: null,
      });
      const other = await pendingFor(store, key.id, 'fp-other');
      expect(other.id).not.toBe(first.id);
      const pending = await store.listApprovals({ status: 'pending', keyId: key.id, limit: 10 });
      expect(pending.data.map((a) => a.id)).toEqual([other.id, first.id]);
      const byLabel = await store.listApprovals({ label: 'approvals-run', limit: 1 });
      expect(byLabel.data.map((a) => a.id)).toEqual([other.id]);
      const next = await store.listApprovals({
        label: 'approvals-run',
        limit: 1,
        cursor: byLabel.nextCursor ?? '',
      });
      expect(next.data.map((a) => a.id)).toEqual([first.id]);
      expect(await store.requestApproval(newApproval('key_missing', 'fp-30'))).toEqual({
        ok: false,
        reason: 'key_not_found',
      });
    });

    it('keeps at most maxPending approvals waiting per key, and still finds the one already asked for', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey());
      for (let i = 0; i < 3; i += 1) await pendingFor(store, key.id, `fp-${i}`);
      const fourth = await store.requestApproval(newApproval(key.id, 'fp-new', 3));
      expect(fourth).toEqual({ ok: false, reason: 'too_many_pending' });
      const again = await store.requestApproval(newApproval(key.id, 'fp-1', 3));
      expect(again.ok).toBe(true);
      const other = await store.issueKey(h.newKey());
      expect((await store.requestApproval(newApproval(other.id, 'fp-new', 3))).ok).toBe(true);
      // Lapsed approvals no longer count.
      h.advance(TTL);
      expect((await store.requestApproval(newApproval(key.id, 'fp-new', 3))).ok).toBe(true);
    });

    it('expires an undecided approval, and a later call asks again', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey());
      const first = await pendingFor(store, key.id);
      h.advance(TTL);
      expect((await store.getApproval(first.id))?.status).toBe('expired');
      const decided = await store.decideApproval({
        id: first.id,
        decision: 'approved',
        grantHash: hash(newGrant()),
        grantTtlMs: TTL,
      });
      expect(decided).toMatchObject({ ok: false, reason: 'not_pending' });
      const second = await pendingFor(store, key.id);
      expect(second.id).not.toBe(first.id);
      expect(
        (await store.listApprovals({ status: 'expired', keyId: key.id, limit: 10 })).data.map((a) => a.id),
      ).toEqual([first.id]);
    });

    it('decides once: a second approve or a deny after it is refused, and a denied one cannot be approved', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey());
      const { approval } = await approved(store, key.id);
      const twice = await (h.peer() ?? store).decideApproval({
        id: approval.id,
        decision: 'approved',
        grantHash: hash(newGrant()),
        grantTtlMs: TTL,
      });
      expect(twice).toMatchObject({ ok: false, reason: 'not_pending', approval: { status: 'approved' } });
      expect(await store.decideApproval({ id: approval.id, decision: 'denied' })).toMatchObject({
        ok: false,
        reason: 'not_pending',
      });
      const other = await pendingFor(store, key.id, 'fp-deny');
      expect(await store.decideApproval({ id: other.id, decision: 'denied' })).toMatchObject({
        ok: true,
        approval: { status: 'denied' },
      });
      expect(
        await store.decideApproval({
          id: other.id,
          decision: 'approved',
          grantHash: hash(newGrant()),
          grantTtlMs: TTL,
        }),
      ).toMatchObject({ ok: false, reason: 'not_pending', approval: { status: 'denied' } });
      expect(await store.decideApproval({ id: 'apr_missing', decision: 'denied' })).toEqual({
        ok: false,
        reason: 'not_found',
      });
    });

    it('admits a call above the threshold only with its grant, once', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey({ usdCap: 100 * USD }));
      const none = await store.reserve({
        keyId: key.id,
        amount: 30 * USD,
        approval: { fingerprint: 'fp-30', grantHash: null },
      });
      expect(none).toMatchObject({ ok: false, code: 'approval_required' });
      const { approval, grant } = await approved(store, key.id);
      const fake = await store.reserve({
        keyId: key.id,
        amount: 30 * USD,
        approval: { fingerprint: 'fp-30', grantHash: hash(newGrant()) },
      });
      expect(fake).toMatchObject({ ok: false, code: 'approval_invalid' });
      const otherRequest = await store.reserve({
        keyId: key.id,
        amount: 30 * USD,
        approval: { fingerprint: 'fp-40', grantHash: hash(grant) },
      });
      expect(otherRequest).toMatchObject({ ok: false, code: 'approval_invalid' });
      const used = await store.reserve({
        keyId: key.id,
        amount: 30 * USD,
        approval: { fingerprint: 'fp-30', grantHash: hash(grant) },
      });
      expect(used.ok).toBe(true);
      const replayed = await store.reserve({
        keyId: key.id,
        amount: 30 * USD,
        approval: { fingerprint: 'fp-30', grantHash: hash(grant) },
      });
      expect(replayed).toMatchObject({ ok: false, code: 'approval_invalid' });
      expect(await store.getApproval(approval.id)).toMatchObject({
        status: 'used',
        reservationId: used.ok ? used.reservationId : 'none',
      });
      expect((await store.getKey(key.id))?.reserved).toBe(30 * USD);
    });

    it('binds a grant to its key, and refuses it after it expires', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey());
      const other = await store.issueKey(h.newKey());
      const { grant } = await approved(store, key.id);
      const foreign = await store.reserve({
        keyId: other.id,
        amount: 30 * USD,
        approval: { fingerprint: 'fp-30', grantHash: hash(grant) },
      });
      expect(foreign).toMatchObject({ ok: false, code: 'approval_invalid' });
      h.advance(TTL);
      const late = await store.reserve({
        keyId: key.id,
        amount: 30 * USD,
        approval: { fingerprint: 'fp-30', grantHash: hash(grant) },
      });
      expect(late).toMatchObject({ ok: false, code: 'approval_invalid' });
      expect((await store.getKey(key.id))?.reserved).toBe(0);
    });

    it('names the cap, not approval_required, for a call that could not go through anyway', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey({ usdCap: 20 * USD, maxUsdPerCall: 100 * USD }));
      const overCap = await store.reserve({
        keyId: key.id,
        amount: 30 * USD,
        approval: { fingerprint: 'fp-30', grantHash: null },
      });
      expect(overCap).toMatchObject({ ok: false, code: 'cap_exhausted' });
      const overPerCall = await store.reserve({
        keyId: key.id,
        amount: 200 * USD,
        approval: { fingerprint: 'fp-200', grantHash: null },
      });
      expect(overPerCall).toMatchObject({ ok: false, code: 'per_call_limit_exceeded' });
    });

    it('leaves the grant unused when a cap refuses the call, and never lifts a cap', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey({ usdCap: 20 * USD }));
      const { approval, grant } = await approved(store, key.id);
      const capped = await store.reserve({
        keyId: key.id,
        amount: 30 * USD,
        approval: { fingerprint: 'fp-30', grantHash: hash(grant) },
      });
      expect(capped).toMatchObject({ ok: false, code: 'cap_exhausted' });
      expect((await store.getApproval(approval.id))?.status).toBe('approved');
      await store.revokeKey(key.id);
      const revoked = await store.reserve({
        keyId: key.id,
        amount: 1,
        approval: { fingerprint: 'fp-30', grantHash: hash(grant) },
      });
      expect(revoked).toMatchObject({ ok: false, code: 'key_revoked' });
    });

    it('replays an idempotent call that already went through without spending its grant again', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey({ usdCap: 100 * USD }));
      const { grant } = await approved(store, key.id);
      const claim = { key: 'idem-1', fingerprint: 'fp-30' };
      const approval = { fingerprint: 'fp-30', grantHash: hash(grant) };
      const first = await store.reserve({ keyId: key.id, amount: 30 * USD, idempotency: claim, approval });
      expect(first.ok).toBe(true);
      if (!first.ok) return;
      const inFlight = await store.reserve({ keyId: key.id, amount: 30 * USD, idempotency: claim, approval });
      expect(inFlight).toMatchObject({ ok: false, code: 'idempotency_key_in_use' });
      await store.settle({ reservationId: first.reservationId, amount: 30 * USD });
      const replay = await store.reserve({ keyId: key.id, amount: 30 * USD, idempotency: claim, approval });
      expect(replay).toMatchObject({ ok: true, replay: true, reservationId: first.reservationId });
      const noGrant = await store.reserve({
        keyId: key.id,
        amount: 30 * USD,
        idempotency: claim,
        approval: { fingerprint: 'fp-30', grantHash: null },
      });
      expect(noGrant).toMatchObject({ ok: true, replay: true });
      const fresh = await store.reserve({
        keyId: key.id,
        amount: 30 * USD,
        idempotency: { key: 'idem-2', fingerprint: 'fp-30' },
        approval,
      });
      expect(fresh).toMatchObject({ ok: false, code: 'approval_invalid' });
      expect((await store.getKey(key.id))?.spent).toBe(30 * USD);
    });

    it('lets 100 concurrent calls racing on one grant reserve exactly once', async () => {
      const store = h.store();
      const key = await store.issueKey(h.newKey({ usdCap: 1000 * USD }));
      const { grant } = await approved(store, key.id);
      const stores = [store, h.peer() ?? store];
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (stores[i % 2] as Store).reserve({
            keyId: key.id,
            amount: 30 * USD,
            approval: { fingerprint: 'fp-30', grantHash: hash(grant) },
          }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.code === 'approval_invalid')).toHaveLength(99);
      expect((await store.getKey(key.id))?.reserved).toBe(30 * USD);
    });
  });
}
