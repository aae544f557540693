import type { Clock } from './clock.js';
import type { Store } from './types.js';

export interface CreateStoreOptions {
  /** `:memory:` (in-process), a SQLite file path, or a `postgres://` / `postgresql://` URL. */
  readonly db: string;
  readonly now?: Clock;
  /** PostgreSQL only: the most connections one proxy instance opens. */
  readonly poolMax?: number;
  /** PostgreSQL only: how long one statement may run, and how long to wait for a connection, in ms. */
  readonly statementTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** PostgreSQL only: the schema for spendgate's tables. */
  readonly schema?: string;
  /** PostgreSQL only: told about connections the pool lost (the store recovers by itself). */
  readonly onPoolError?: (error: Error) => void;
}

/**
 * Picks and initialises the ledger named by `SPENDGATE_DB`. Drivers are imported lazily, so a SQLite user
 * never needs `pg` installed.
 */
export async function createStore(options: CreateStoreOptions): Promise<Store> {
  let store: Store;
  if (/^postgres(ql)?:\/\//i.test(options.db)) {
    const { PostgresStore } = await import('./postgres-store.js');
    store = new PostgresStore({
      connectionString: options.db,
      ...(options.now ? { now: options.now } : {}),
      ...(options.poolMax !== undefined ? { poolMax: options.poolMax } : {}),
      ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
      ...(options.onPoolError ? { onPoolError: options.onPoolError } : {}),
    });
  } else if (options.db === 'memory' || options.db === 'memory:') {
    const { MemoryStore } = await import('./memory-store.js');
    store = new MemoryStore(options.now ? { now: options.now } : {});
  } else {
    const { SqliteStore } = await import('./sqlite-store.js');
    store = new SqliteStore({ filename: options.db, ...(options.now ? { now: options.now } : {}) });
  }
  await store.init();
  return store;
}
