import { IDEMPOTENCY_WINDOW_MS } from './idempotency-window.js';
import { BUDGETS_MIGRATION } from './postgres-budget-schema.js';
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
  {
    version: 2,
    name: 'reserve claim function',
    // The idempotent reservation in one round trip. Inside a PL/pgSQL function each statement takes a fresh
    // snapshot, so the claim is read only after the key's row lock is held: a claim committed by whoever held
    // the lock before is seen, which one SQL statement (one snapshot) could not guarantee.
    sql: `
    -- The key as the store reports it (the columns of KEY_COLUMNS), read with a fresh snapshot.
    CREATE FUNCTION sg_key_json(p_key_id TEXT, p_now BIGINT, p_today DATE) RETURNS JSON
    LANGUAGE sql STABLE SET search_path FROM CURRENT AS $fn$
      SELECT row_to_json(k) FROM (
        SELECT seq, id, token_hash, vendor, label, metadata, usd_cap, daily_usd_cap, max_usd_per_call,
          allowed_endpoints, created_at, expires_at, status, revoked_at, committed, reserved, calls, denied_calls,
          CASE WHEN day = p_today THEN day_committed ELSE 0 END AS spent_today, expires_at <= p_now AS expired
        FROM keys WHERE id = p_key_id
      ) k
    $fn$;
    CREATE FUNCTION sg_reserve_claim(p_clock BIGINT, p_key_id TEXT, p_amount BIGINT, p_reservation_id TEXT,
                                     p_idempotency_key TEXT, p_fingerprint TEXT)
    RETURNS TABLE (outcome TEXT, reservation_id TEXT, key_row JSON)
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
    DECLARE
      v_now BIGINT := COALESCE(p_clock, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint);
      v_today DATE := DATE '1970-01-01' + (v_now / 86400000)::int;
      v_id TEXT := p_reservation_id;
      k RECORD;
      r RECORD;
    BEGIN
      SELECT status, expires_at INTO k FROM keys WHERE id = p_key_id FOR UPDATE;
      IF NOT FOUND THEN
        RETURN QUERY SELECT 'key_invalid'::text, NULL::text, NULL::json;
        RETURN;
      END IF;
      SELECT id, status, fingerprint INTO r FROM reservations
        WHERE key_id = p_key_id AND idempotency_key = p_idempotency_key;
      IF FOUND THEN
        -- Status and expiry first: a replay must not outlive a revoke.
        IF k.status = 'revoked' OR k.expires_at <= v_now THEN
          RETURN QUERY SELECT 'refused'::text, NULL::text, NULL::json;
          RETURN;
        END IF;
        IF r.fingerprint IS DISTINCT FROM p_fingerprint THEN
          RETURN QUERY SELECT 'idempotency_mismatch'::text, NULL::text, NULL::json;
          RETURN;
        END IF;
        IF r.status <> 'released' THEN
          RETURN QUERY SELECT 'replay'::text, r.id, sg_key_json(p_key_id, v_now, v_today);
          RETURN;
        END IF;
        v_id := r.id;
      END IF;
      UPDATE keys SET
        committed = committed + p_amount,
        reserved = reserved + p_amount,
        day_committed = CASE WHEN day = v_today THEN day_committed + p_amount ELSE p_amount END,
        day = v_today,
        calls = calls + 1
      WHERE id = p_key_id AND status = 'active' AND expires_at > v_now
        AND (max_usd_per_call IS NULL OR p_amount <= max_usd_per_call)
        AND (usd_cap IS NULL OR committed + p_amount <= usd_cap)
        AND (daily_usd_cap IS NULL
             OR (CASE WHEN day = v_today THEN day_committed ELSE 0 END) + p_amount <= daily_usd_cap);
      IF NOT FOUND THEN
        RETURN QUERY SELECT 'refused'::text, NULL::text, NULL::json;
        RETURN;
      END IF;
      INSERT INTO reservations (id, key_id, amount, day, status, idempotency_key, fingerprint, created_at)
      VALUES (v_id, p_key_id, p_amount, v_today, 'reserved', p_idempotency_key, p_fingerprint, v_now)
      ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, day = excluded.day, status = 'reserved';
      RETURN QUERY SELECT 'reserved'::text, v_id, sg_key_json(p_key_id, v_now, v_today);
    END
    $fn$;
    `,
  },
  {
    version: 3,
    name: 'connected accounts and in-flight idempotency claims',
    sql: `
    ALTER TABLE keys ADD COLUMN connected_accounts JSONB NOT NULL DEFAULT '[]'::jsonb;
    -- Spend that may or may not have moved, kept against the cap and shown apart.
    ALTER TABLE keys ADD COLUMN uncertain BIGINT NOT NULL DEFAULT 0;
    UPDATE keys k SET uncertain = COALESCE(
      (SELECT sum(amount) FROM reservations r WHERE r.key_id = k.id AND r.status = 'uncertain'), 0);
    -- One row per proxied call: journal replays insert with ON CONFLICT DO NOTHING on this.
    CREATE UNIQUE INDEX audit_request ON audit (request_id);
    -- A settlement touches keys, reservations and audit with every index of each in one statement. Past 16
    -- relations PostgreSQL leaves its per-backend fast-path locks for the shared lock table, whose LWLock
    -- then shows up as a wait under load. audit_request takes audit_ts's place: a time window is read newest
    -- first along the primary key instead.
    DROP INDEX IF EXISTS audit_ts;

    -- Leases: a reservation in flight belongs to an instance, and lapses with the instance's lease.
    ALTER TABLE reservations ADD COLUMN instance_id TEXT;
    ALTER TABLE reservations ADD COLUMN request_id TEXT;
    CREATE INDEX reservations_in_flight ON reservations (instance_id) WHERE status = 'reserved';
    CREATE TABLE instances (id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
    DROP FUNCTION sg_reserve_claim(BIGINT, TEXT, BIGINT, TEXT, TEXT, TEXT);
    CREATE OR REPLACE FUNCTION sg_key_json(p_key_id TEXT, p_now BIGINT, p_today DATE) RETURNS JSON
    LANGUAGE sql STABLE SET search_path FROM CURRENT AS $fn$
      SELECT row_to_json(k) FROM (
        SELECT seq, id, token_hash, vendor, label, metadata, usd_cap, daily_usd_cap, max_usd_per_call,
          allowed_endpoints, connected_accounts, created_at, expires_at, status, revoked_at, committed, reserved,
          uncertain, calls, denied_calls,
          CASE WHEN day = p_today THEN day_committed ELSE 0 END AS spent_today, expires_at <= p_now AS expired
        FROM keys WHERE id = p_key_id
      ) k
    $fn$;
    CREATE FUNCTION sg_reserve_claim(p_clock BIGINT, p_key_id TEXT, p_amount BIGINT, p_reservation_id TEXT,
                                     p_idempotency_key TEXT, p_fingerprint TEXT,
                                     p_instance_id TEXT, p_request_id TEXT)
    RETURNS TABLE (outcome TEXT, reservation_id TEXT, key_row JSON)
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
    DECLARE
      v_now BIGINT := COALESCE(p_clock, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint);
      v_today DATE := DATE '1970-01-01' + (v_now / 86400000)::int;
      v_id TEXT := p_reservation_id;
      v_claimed BOOLEAN;
      k RECORD;
      r RECORD;
    BEGIN
      SELECT status, expires_at INTO k FROM keys WHERE id = p_key_id FOR UPDATE;
      IF NOT FOUND THEN
        RETURN QUERY SELECT 'key_invalid'::text, NULL::text, NULL::json;
        RETURN;
      END IF;
      SELECT id, status, fingerprint, created_at INTO r FROM reservations
        WHERE key_id = p_key_id AND idempotency_key = p_idempotency_key;
      v_claimed := FOUND;
      -- A claim older than the vendor's memory of it is no claim: the repeat is a new operation, so it
      -- reserves again.
      IF v_claimed AND r.created_at <= v_now - ${IDEMPOTENCY_WINDOW_MS} THEN
        UPDATE reservations SET idempotency_key = NULL WHERE id = r.id;
        v_claimed := false;
      END IF;
      IF v_claimed THEN
        -- Status and expiry first: a replay must not outlive a revoke.
        IF k.status = 'revoked' OR k.expires_at <= v_now THEN
          RETURN QUERY SELECT 'refused'::text, NULL::text, NULL::json;
          RETURN;
        END IF;
        IF r.fingerprint IS DISTINCT FROM p_fingerprint THEN
          RETURN QUERY SELECT 'idempotency_mismatch'::text, NULL::text, NULL::json;
          RETURN;
        END IF;
        -- A copy must never overtake its original: until the first call's outcome is recorded, answer
        -- as Stripe does (409 idempotency_key_in_use) and let the client retry into an ordinary replay.
        IF r.status = 'reserved' THEN
          RETURN QUERY SELECT 'in_flight'::text, NULL::text, NULL::json;
          RETURN;
        END IF;
        IF r.status <> 'released' THEN
          RETURN QUERY SELECT 'replay'::text, r.id, sg_key_json(p_key_id, v_now, v_today);
          RETURN;
        END IF;
        -- A released claim gets a fresh reservation: every attempt has its own id, so a late, replayed
        -- finish of an earlier attempt (the journal's) can never touch this one.
        DELETE FROM reservations WHERE id = r.id;
      END IF;
      UPDATE keys SET
        committed = committed + p_amount,
        reserved = reserved + p_amount,
        day_committed = CASE WHEN day = v_today THEN day_committed + p_amount ELSE p_amount END,
        day = v_today,
        calls = calls + 1
      WHERE id = p_key_id AND status = 'active' AND expires_at > v_now
        AND (max_usd_per_call IS NULL OR p_amount <= max_usd_per_call)
        AND (usd_cap IS NULL OR committed + p_amount <= usd_cap)
        AND (daily_usd_cap IS NULL
             OR (CASE WHEN day = v_today THEN day_committed ELSE 0 END) + p_amount <= daily_usd_cap);
      IF NOT FOUND THEN
        RETURN QUERY SELECT 'refused'::text, NULL::text, NULL::json;
        RETURN;
      END IF;
      INSERT INTO reservations (id, key_id, amount, day, status, idempotency_key, fingerprint, created_at,
                                instance_id, request_id)
      VALUES (v_id, p_key_id, p_amount, v_today, 'reserved', p_idempotency_key, p_fingerprint, v_now,
              p_instance_id, p_request_id);
      RETURN QUERY SELECT 'reserved'::text, v_id, sg_key_json(p_key_id, v_now, v_today);
    END
    $fn$;
    `,
  },
  {
    version: 4,
    name: 'approvals',
    sql: `
    -- Approval above an amount: a call estimated above this needs a person's single-use grant.
    ALTER TABLE keys ADD COLUMN approval_above_usd BIGINT;
    CREATE TABLE approvals (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      key_id TEXT NOT NULL,
      method TEXT NOT NULL,
      path TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      account TEXT,
      amount BIGINT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      decided_at BIGINT,
      used_at BIGINT,
      reservation_id TEXT,
      -- Only the grant's hash: the grant itself is shown once, to whoever approved.
      grant_hash TEXT UNIQUE
    );
    CREATE INDEX approvals_pending ON approvals (key_id, fingerprint) WHERE status = 'pending';
    CREATE INDEX approvals_key ON approvals (key_id, seq);
    -- What the reaper made uncertain, by request id: an abandoned call finds its reservation here. Not an
    -- index on reservations, which would be one more relation for the hot settle statement to lock.
    CREATE TABLE reaped (request_id TEXT PRIMARY KEY, reservation_id TEXT NOT NULL);
    CREATE OR REPLACE FUNCTION sg_key_json(p_key_id TEXT, p_now BIGINT, p_today DATE) RETURNS JSON
    LANGUAGE sql STABLE SET search_path FROM CURRENT AS $fn$
      SELECT row_to_json(k) FROM (
        SELECT seq, id, token_hash, vendor, label, metadata, usd_cap, daily_usd_cap, max_usd_per_call,
          allowed_endpoints, connected_accounts, approval_above_usd, created_at, expires_at, status, revoked_at,
          committed, reserved, uncertain, calls, denied_calls,
          CASE WHEN day = p_today THEN day_committed ELSE 0 END AS spent_today, expires_at <= p_now AS expired
        FROM keys WHERE id = p_key_id
      ) k
    $fn$;
    `,
  },
  BUDGETS_MIGRATION,
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
