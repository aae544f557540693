import type pg from 'pg';

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Versioned PostgreSQL migrations, applied in order; `schema_migrations` records which versions a database
 * has. Never edit a released entry: add a new one. Money and epoch-millisecond instants are BIGINT (exact
 * integers); `day` is the UTC calendar date the daily cap counts in.
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
    CREATE TABLE keys (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      token_hash TEXT NOT NULL UNIQUE,
      vendor TEXT NOT NULL,
      label TEXT,
      metadata JSONB NOT NULL,
      usd_cap BIGINT,
      daily_usd_cap BIGINT,
      max_usd_per_call BIGINT,
      allowed_endpoints JSONB NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
      revoked_at BIGINT,
      committed BIGINT NOT NULL DEFAULT 0,
      reserved BIGINT NOT NULL DEFAULT 0,
      day DATE NOT NULL,
      day_committed BIGINT NOT NULL DEFAULT 0,
      calls BIGINT NOT NULL DEFAULT 0,
      denied_calls BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX keys_label ON keys (label);
    CREATE INDEX keys_metadata ON keys USING gin (metadata jsonb_path_ops);
    CREATE TABLE reservations (
      id TEXT PRIMARY KEY,
      key_id TEXT NOT NULL REFERENCES keys (id),
      amount BIGINT NOT NULL,
      day DATE NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('reserved', 'settled', 'released', 'uncertain')),
      idempotency_key TEXT,
      fingerprint TEXT,
      object_id TEXT,
      created_at BIGINT NOT NULL,
      -- The last line of defence for idempotency: one reservation per claim, whatever the code above does.
      UNIQUE (key_id, idempotency_key)
    );
    CREATE INDEX reservations_object ON reservations (key_id, object_id);
    CREATE TABLE audit (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      ts BIGINT NOT NULL,
      key_id TEXT,
      label TEXT,
      vendor TEXT,
      method TEXT NOT NULL,
      path TEXT NOT NULL,
      decision TEXT NOT NULL,
      code TEXT,
      upstream_status INTEGER,
      cost_reserved BIGINT,
      cost_settled BIGINT,
      settlement TEXT,
      idempotency_key TEXT,
      vendor_request_id TEXT,
      request_id TEXT NOT NULL,
      latency_ms INTEGER NOT NULL
    );
    CREATE INDEX audit_key ON audit (key_id, id);
    CREATE INDEX audit_label ON audit (label, id);
    CREATE INDEX audit_ts ON audit (ts);
    `,
  },
];

/**
 * Brings the schema up to date. Must run inside a transaction (the caller's): the transaction-scoped advisory
 * lock makes several instances starting at once take turns, so each migration runs exactly once, and a
 * failed migration rolls back with its version row.
 *
 * @param schema the schema every connection's `search_path` names, or undefined for the server default.
 * @returns the versions this call applied.
 */
export async function migratePostgres(client: pg.ClientBase, schema: string | undefined): Promise<number[]> {
  // Taken before CREATE SCHEMA: concurrent `CREATE SCHEMA IF NOT EXISTS` can otherwise fail on a unique index.
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('spendgate.migrate'), hashtext($1::text))`, [
    schema ?? 'spendgate:default',
  ]);
  if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  await client.query(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
  const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
  const applied = new Set(done.rows.map((row) => row.version));
  const ran: number[] = [];
  for (const migration of POSTGRES_MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    await client.query(migration.sql);
    await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
      migration.version,
      migration.name,
    ]);
    ran.push(migration.version);
  }
  return ran;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
