import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { NewKey } from '../../src/store/types.js';

const USD = 1_000_000;

/**
 * SQLite group commit: the writes asked for in one turn of the event loop share one transaction (one fsync),
 * each in its own savepoint. These cases are about the grouping itself; the conformance suite checks that
 * every verdict is as exact as with one transaction per write.
 */
describe('SQLite group commit', () => {
  let dir: string;
  let store: SqliteStore;
  let peer: SqliteStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spendgate-group-'));
    store = new SqliteStore({ filename: join(dir, 'ledger.db') });
    peer = new SqliteStore({ filename: join(dir, 'ledger.db') });
    await store.init();
    await peer.init();
  });
  afterEach(async () => {
    await store.close();
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newKey = (usdCap = 50 * USD): NewKey => ({
    id: `key_${randomUUID().replaceAll('-', '')}`,
    tokenHash: createHash('sha256').update(randomUUID()).digest('hex'),
    vendor: 'stripe',
    label: 'group',
    metadata: {},
    connectedAccounts: [],
    usdCap,
    dailyUsdCap: null,
    maxUsdPerCall: null,
    allowedEndpoints: ['POST /v1/payment_intents'],
    createdAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
  });

  it('keeps each verdict exact inside one group: 30 same-tick $5 calls on a $50 cap admit 10', async () => {
    const key = await store.issueKey(newKey());
    const results = await Promise.all(
      Array.from({ length: 30 }, () => store.reserve({ keyId: key.id, amount: 5 * USD })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results.filter((r) => !r.ok && r.code === 'cap_exhausted')).toHaveLength(20);
    // Resolved means committed: another connection on the file sees all of it at once.
    expect((await peer.getKey(key.id))?.reserved).toBe(50 * USD);
  });

  it('fails one write of a group alone: the others in the same transaction still commit', async () => {
    const key = await store.issueKey(newKey());
    const approval = {
      id: 'apr_duplicate',
      keyId: key.id,
      method: 'POST',
      path: '/v1/payment_intents',
      account: null,
      amount: 30 * USD,
      ttlMs: 60_000,
      maxPending: 20,
    };
    await store.requestApproval({ ...approval, fingerprint: 'fp-1' });
    // Same tick: a reservation, then a write that breaks a unique constraint (the approval id), then another.
    const [before, duplicate, after] = await Promise.allSettled([
      store.reserve({ keyId: key.id, amount: 5 * USD }),
      store.requestApproval({ ...approval, fingerprint: 'fp-2' }),
      store.reserve({ keyId: key.id, amount: 7 * USD }),
    ]);
    expect(before).toMatchObject({ status: 'fulfilled', value: { ok: true } });
    expect(duplicate.status).toBe('rejected');
    expect(after).toMatchObject({ status: 'fulfilled', value: { ok: true } });
    expect((await peer.getKey(key.id))?.reserved).toBe(12 * USD);
    expect((await peer.listApprovals({ keyId: key.id, limit: 10 })).data.map((a) => a.fingerprint)).toEqual([
      'fp-1',
    ]);
  });

  it('commits what was asked for before close, and reads see this process’s own writes at once', async () => {
    const key = await store.issueKey(newKey());
    const pending = store.reserve({ keyId: key.id, amount: 3 * USD });
    // An admin read in the same tick as the write still sees it.
    expect((await store.getKey(key.id))?.reserved).toBe(3 * USD);
    await expect(pending).resolves.toMatchObject({ ok: true });
    const late = store.reserve({ keyId: key.id, amount: 4 * USD });
    await store.close();
    await expect(late).resolves.toMatchObject({ ok: true });
    expect((await peer.getKey(key.id))?.reserved).toBe(7 * USD);
    store = new SqliteStore({ filename: join(dir, 'ledger.db') });
    await store.init();
  });
});
