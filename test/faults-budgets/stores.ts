import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../src/store/memory-store.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { NewBudget, NewKey, Store } from '../../src/store/types.js';
import { dropSchema, pgTestUrl, uniqueSchema } from '../helpers/postgres.js';
import { checkPostgres, checkSqlite, checkViaApi } from './checker.js';

export const USD = 1_000_000;
export const HOUR = 3_600_000;

/** A store, a second instance over the same data when there is one, a clock, and the ledger checker. */
export interface Rig {
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  readonly store: Store;
  /** The other instance (another connection / pool); the store itself for memory. */
  readonly peer: Store;
  readonly clock: { time: number };
  /** The SQLite file, or the PostgreSQL schema; null for memory. */
  readonly location: string | null;
  /** Every violation of the ledger's books (empty when they balance). */
  check(options?: { capsExact?: boolean }): Promise<string[]>;
  budget(overrides?: Partial<NewBudget>): Promise<string>;
  key(budgetId: string | null, overrides?: Partial<NewKey>): Promise<string>;
  close(): Promise<void>;
}

export type RigKind = Rig['kind'];

export function rigKinds(): RigKind[] {
  return pgTestUrl() === undefined ? ['memory', 'sqlite'] : ['memory', 'sqlite', 'postgres'];
}

export async function makeRig(kind: RigKind, start: number): Promise<Rig> {
  const clock = { time: start };
  const now = () => clock.time;
  const keys: string[] = [];
  const budgets: string[] = [];
  let store: Store;
  let peer: Store;
  let check: Rig['check'];
  let cleanup: () => Promise<void>;
  let location: string | null = null;
  if (kind === 'memory') {
    store = new MemoryStore({ now });
    peer = store;
    await store.init();
    check = () => checkViaApi(store, { keys, budgets });
    cleanup = () => store.close();
  } else if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sg-faults-budgets-'));
    const filename = join(dir, 'ledger.db');
    location = filename;
    store = new SqliteStore({ filename, now });
    peer = new SqliteStore({ filename, now });
    await store.init();
    await peer.init();
    check = async (options) => {
      const api = await checkViaApi(store, { keys, budgets });
      return [...checkSqlite(filename, options).violations, ...api];
    };
    cleanup = async () => {
      await store.close();
      await peer.close();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const url = pgTestUrl();
    if (url === undefined) throw new Error('no SPENDGATE_TEST_PG_URL');
    const schema = uniqueSchema();
    location = schema;
    const options = { connectionString: url, now, schema, connectTimeoutMs: 15_000 };
    store = new PostgresStore(options);
    peer = new PostgresStore(options);
    await store.init();
    await peer.init();
    check = async (opts) => {
      const api = await checkViaApi(store, { keys, budgets });
      return [...(await checkPostgres(url, schema, opts)).violations, ...api];
    };
    cleanup = async () => {
      await store.close();
      await peer.close();
      await dropSchema(url, schema);
    };
  }
  return {
    kind,
    store,
    peer,
    clock,
    location,
    check,
    async budget(overrides = {}) {
      const result = await store.issueBudget({
        id: `bud_${randomUUID().replaceAll('-', '')}`,
        parentId: null,
        label: 'fb',
        metadata: {},
        usdCap: null,
        dailyUsdCap: null,
        maxUsdPerCall: null,
        createdAt: clock.time,
        expiresAt: clock.time + 48 * HOUR,
        ...overrides,
      });
      if (!result.ok) throw new Error(`budget refused: ${result.reason}`);
      budgets.push(result.budget.id);
      return result.budget.id;
    },
    async key(budgetId, overrides = {}) {
      const key = await store.issueKey({
        id: `key_${randomUUID().replaceAll('-', '')}`,
        tokenHash: createHash('sha256').update(randomUUID()).digest('hex'),
        vendor: 'stripe',
        label: 'fb',
        metadata: {},
        connectedAccounts: [],
        usdCap: null,
        dailyUsdCap: null,
        maxUsdPerCall: null,
        allowedEndpoints: ['POST /v1/payment_intents'],
        budgetId,
        createdAt: clock.time,
        expiresAt: clock.time + 24 * HOUR,
        ...overrides,
      });
      keys.push(key.id);
      return key.id;
    },
    close: cleanup,
  };
}
