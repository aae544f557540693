import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres-store.js';
import type { NewKey, ReserveResult } from '../../src/store/types.js';
import { describeWithPostgres, dropSchema, uniqueSchema } from '../helpers/postgres.js';
import { checkPostgres } from './checker.js';

/**
 * `sg_revoke_budget` (migration 5) revokes a subtree's keys in two passes: every key it can see, then,
 * after locking the budgets, the keys inserted meanwhile, `FOR UPDATE ... SKIP LOCKED`. A key that a
 * reservation holds at that moment is skipped. Found by this test: such a key stayed `active` for good under a
 * revoked budget. Now the reservation that held it revokes it when it finds its chain revoked; the DELETE's
 * `revoked_keys` still cannot count it. Docs: "DELETE /v1/budgets/{id} … the budget, every budget below it and every key under any
 * of them, in one atomic step."
 */
const USD = 1_000_000;

describeWithPostgres('a budget revoke racing a key issued and used at once (PostgreSQL)', (url) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const newKey = (budgetId: string, now: number): NewKey => ({
    id: `key_${randomUUID().replaceAll('-', '')}`,
    tokenHash: createHash('sha256').update(randomUUID()).digest('hex'),
    vendor: 'stripe',
    label: 'revoke-race',
    metadata: {},
    connectedAccounts: [],
    usdCap: null,
    dailyUsdCap: null,
    maxUsdPerCall: null,
    allowedEndpoints: ['POST /v1/payment_intents'],
    budgetId,
    createdAt: now,
    expiresAt: now + 3_600_000,
  });

  const open = async () => {
    const schema = uniqueSchema();
    const applicationName = `sg_fb_revoke_${randomUUID().slice(0, 8)}`;
    const store = new PostgresStore({ connectionString: url, schema, applicationName });
    await store.init();
    const admin = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await admin.connect();
    // pg_stat_activity is a snapshot per transaction: the watcher needs a connection of its own.
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    cleanups.push(async () => {
      await watcher.end();
      await admin.end();
      await store.close();
      await dropSchema(url, schema);
    });
    const root = await store.issueBudget({
      id: `bud_${randomUUID().replaceAll('-', '')}`,
      parentId: null,
      label: 'root',
      metadata: {},
      usdCap: 100 * USD,
      dailyUsdCap: null,
      maxUsdPerCall: null,
      createdAt: Date.now(),
      expiresAt: Date.now() + 7_200_000,
    });
    if (!root.ok) throw new Error(root.reason);
    /** Waits (bounded) until `n` of the store's backends wait on a lock. */
    const waitingOnLocks = async (n: number) => {
      for (let i = 0; i < 100; i += 1) {
        const { rows } = await watcher.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [applicationName],
        );
        if ((rows[0] as { n: number }).n >= n) return;
        await sleep(50);
      }
      const { rows } = await watcher.query(
        `SELECT state, wait_event_type, wait_event, left(query, 80) AS q FROM pg_stat_activity WHERE application_name = $1`,
        [applicationName],
      );
      throw new Error(`never saw ${n} backends waiting on a lock: ${JSON.stringify(rows)}`);
    };
    return { store, admin, schema, budgetId: root.budget.id, waitingOnLocks };
  };

  it('leaves a key active under its revoked budget when a reservation held it during the revoke', async () => {
    const { store, admin, schema, budgetId, waitingOnLocks } = await open();
    const before = await store.issueKey(newKey(budgetId, Date.now()));
    // Something holds the budget row FOR SHARE for a moment: a key being issued under it (issueKey's own
    // FOR SHARE), or a child budget being created. The revoke's first pass runs, then waits for it.
    await admin.query('BEGIN');
    await admin.query('SELECT 1 FROM budgets WHERE id = $1 FOR SHARE', [budgetId]);
    const revoking = store.revokeBudget(budgetId);
    await waitingOnLocks(1);
    // A key issued now (FOR SHARE is compatible with FOR SHARE) is invisible to the first pass; an agent
    // uses it at once: the reservation locks the key row, then queues for the budget rows.
    const fresh = await store.issueKey(newKey(budgetId, Date.now()));
    const reserving: Promise<ReserveResult> = store.reserve({ keyId: fresh.id, amount: USD, budgeted: true });
    await waitingOnLocks(2);
    await admin.query('COMMIT');
    const revoked = await revoking;
    const reserved = await reserving;
    // Refused; the key itself now reads revoked (the reservation revoked it on finding its chain revoked).
    expect(reserved).toMatchObject({ ok: false, code: 'key_revoked' });
    expect((await store.getBudget(budgetId))?.status).toBe('revoked');
    expect((await store.getKey(before.id))?.status).toBe('revoked');
    expect((await checkPostgres(url, schema)).violations).toEqual([]);
    // Every key under a revoked budget ends revoked: the one the revoke skipped (a reservation held it) is
    // revoked by that reservation, which found its chain revoked. The DELETE's own count cannot include it.
    const freshNow = await store.getKey(fresh.id);
    expect(freshNow?.status, 'the key issued during the revoke, held by a reservation').toBe('revoked');
    expect(revoked?.revokedKeys).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
