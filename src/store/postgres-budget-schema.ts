import { IDEMPOTENCY_WINDOW_MS } from './idempotency-window.js';

/**
 * Migration 5: budgets (pots that keys and child budgets draw from) and issuer tokens.
 *
 * Lock order, everywhere: a key's row first, then the budgets of its chain root first (depth, then id).
 * A reservation locks one key and then its chain; a settlement its reservation, its key, then the chain; a
 * subtree revoke every key below it (by id) and then the budgets (by depth, id); the reaper every key it
 * touches and then, in one call, every budget above them. With one global order no two of them can wait
 * on each other in a cycle, so none can deadlock.
 */
export const BUDGETS_MIGRATION = {
  version: 5,
  name: 'budgets and issuer tokens',
  sql: `
    CREATE TABLE budgets (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      parent_id TEXT,
      -- /root/…/self/, fixed at creation: the tree cannot hold a cycle.
      path TEXT NOT NULL,
      depth INTEGER NOT NULL CHECK (depth BETWEEN 1 AND 8),
      label TEXT,
      metadata JSONB NOT NULL,
      usd_cap BIGINT,
      daily_usd_cap BIGINT,
      max_usd_per_call BIGINT,
      approval_above_usd BIGINT,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
      revoked_at BIGINT,
      committed BIGINT NOT NULL DEFAULT 0,
      reserved BIGINT NOT NULL DEFAULT 0,
      uncertain BIGINT NOT NULL DEFAULT 0,
      day DATE NOT NULL,
      day_committed BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX budgets_parent ON budgets (parent_id);
    CREATE INDEX budgets_label ON budgets (label);
    ALTER TABLE keys ADD COLUMN budget_id TEXT;
    ALTER TABLE keys ADD COLUMN budget_path TEXT;
    -- The issuer whose token issued a key: revoking the issuer revokes its keys. No index (see budget_keys);
    -- a revoke of an issuer scans keys, and is rare.
    ALTER TABLE keys ADD COLUMN issuer_id TEXT;
    -- Which keys a budget holds, for revokes, counts and scoped lists. Not an index on keys: every index
    -- there is one more relation for the hot reservation and settlement statements to lock.
    CREATE TABLE budget_keys (budget_id TEXT NOT NULL, key_id TEXT NOT NULL, PRIMARY KEY (budget_id, key_id));
    -- Calls an instance refused and abandoned: a reserve of one of them that reaches the database only later
    -- (its bytes held up in a partition, past the statement timeout's reach) is refused when it runs,
    -- instead of holding money that no call will ever settle. The reaper prunes rows older than a day.
    CREATE TABLE abandoned (request_id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, at BIGINT NOT NULL);
    CREATE TABLE issuers (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      token_hash TEXT NOT NULL UNIQUE,
      budget_id TEXT NOT NULL,
      label TEXT,
      vendors JSONB,
      max_key_usd_cap BIGINT,
      max_ttl_ms BIGINT,
      allowed_endpoints JSONB,
      created_at BIGINT NOT NULL,
      expires_at BIGINT,
      status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
      revoked_at BIGINT
    );

    CREATE OR REPLACE FUNCTION sg_key_json(p_key_id TEXT, p_now BIGINT, p_today DATE) RETURNS JSON
    LANGUAGE sql STABLE SET search_path FROM CURRENT AS $fn$
      SELECT row_to_json(k) FROM (
        SELECT seq, id, token_hash, vendor, label, metadata, usd_cap, daily_usd_cap, max_usd_per_call,
          allowed_endpoints, connected_accounts, approval_above_usd, budget_id, budget_path, issuer_id, created_at,
          expires_at, status, revoked_at, committed, reserved, uncertain, calls, denied_calls,
          CASE WHEN day = p_today THEN day_committed ELSE 0 END AS spent_today, expires_at <= p_now AS expired
        FROM keys WHERE id = p_key_id
      ) k
    $fn$;

    -- Moves money between the totals of every budget above some keys, as their reservations end: one entry
    -- per key (its path, the reservation's day, and the three deltas). Every budget named is locked first,
    -- in the global order, then updated once with the sum of its moves.
    CREATE FUNCTION sg_budget_move(p_paths TEXT[], p_days DATE[], p_committed BIGINT[], p_reserved BIGINT[],
                                   p_uncertain BIGINT[]) RETURNS VOID
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
    BEGIN
      IF p_paths IS NULL THEN
        RETURN;
      END IF;
      PERFORM 1 FROM budgets
        WHERE id IN (SELECT unnest(string_to_array(btrim(p, '/'), '/')) FROM unnest(p_paths) AS p)
        ORDER BY depth, id FOR UPDATE;
      WITH mv AS (
        SELECT unnest(string_to_array(btrim(t.path, '/'), '/')) AS id, t.day, t.committed, t.reserved, t.uncertain
        FROM unnest(p_paths, p_days, p_committed, p_reserved, p_uncertain)
          AS t (path, day, committed, reserved, uncertain)
      ), agg AS (
        SELECT mv.id, sum(mv.committed)::bigint AS committed, sum(mv.reserved)::bigint AS reserved,
          sum(mv.uncertain)::bigint AS uncertain,
          sum(CASE WHEN mv.day = b.day THEN mv.committed ELSE 0 END)::bigint AS today
        FROM mv JOIN budgets b ON b.id = mv.id GROUP BY mv.id
      )
      UPDATE budgets b SET
        committed = b.committed + agg.committed,
        reserved = b.reserved + agg.reserved,
        uncertain = b.uncertain + agg.uncertain,
        day_committed = greatest(0, b.day_committed + agg.today)
      FROM agg WHERE b.id = agg.id;
    END
    $fn$;

    -- Revokes a budget, its subtree and every key below, keys first (by id), then budgets (by depth, id).
    CREATE FUNCTION sg_revoke_budget(p_clock BIGINT, p_id TEXT)
    RETURNS TABLE (found BOOLEAN, revoked_budgets BIGINT, revoked_keys BIGINT)
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
    DECLARE
      v_now BIGINT := COALESCE(p_clock, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint);
      v_pattern TEXT := '/' || p_id || '/';
      v_keys BIGINT;
      v_late BIGINT;
      v_budgets BIGINT;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM budgets WHERE id = p_id) THEN
        RETURN QUERY SELECT false, 0::bigint, 0::bigint;
        RETURN;
      END IF;
      PERFORM 1 FROM keys WHERE id IN (
          SELECT bk.key_id FROM budget_keys bk JOIN budgets b ON b.id = bk.budget_id
          WHERE strpos(b.path, v_pattern) > 0)
        ORDER BY id FOR UPDATE;
      UPDATE keys SET status = 'revoked', revoked_at = v_now
        WHERE status <> 'revoked' AND id IN (
          SELECT bk.key_id FROM budget_keys bk JOIN budgets b ON b.id = bk.budget_id
          WHERE strpos(b.path, v_pattern) > 0);
      GET DIAGNOSTICS v_keys = ROW_COUNT;
      PERFORM 1 FROM budgets WHERE strpos(path, v_pattern) > 0 ORDER BY depth, id FOR UPDATE;
      UPDATE budgets SET status = 'revoked', revoked_at = v_now
        WHERE strpos(path, v_pattern) > 0 AND status <> 'revoked';
      GET DIAGNOSTICS v_budgets = ROW_COUNT;
      -- A key inserted while this ran held its budget FOR SHARE, so the lock above waited for it to commit:
      -- this second pass, a new snapshot, sees it. SKIP LOCKED keeps the one global lock order (a key that a
      -- reservation holds right now is left alone; that reservation then finds its budget revoked and refuses).
      UPDATE keys SET status = 'revoked', revoked_at = v_now
        WHERE id IN (
          SELECT k.id FROM keys k WHERE k.status <> 'revoked' AND k.id IN (
            SELECT bk.key_id FROM budget_keys bk JOIN budgets b ON b.id = bk.budget_id
            WHERE strpos(b.path, v_pattern) > 0)
          FOR UPDATE OF k SKIP LOCKED);
      GET DIAGNOSTICS v_late = ROW_COUNT;
      RETURN QUERY SELECT true, v_budgets, v_keys + v_late;
    END
    $fn$;

    -- The reservation for a claim or for a key with a budget, in one round trip: as in migration 3, plus the
    -- key's budget chain, locked root first after the key, checked level by level, and incremented with it.
    CREATE OR REPLACE FUNCTION sg_reserve_claim(p_clock BIGINT, p_key_id TEXT, p_amount BIGINT,
                                                p_reservation_id TEXT, p_idempotency_key TEXT,
                                                p_fingerprint TEXT, p_instance_id TEXT, p_request_id TEXT)
    RETURNS TABLE (outcome TEXT, reservation_id TEXT, key_row JSON)
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
    DECLARE
      v_now BIGINT := COALESCE(p_clock, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint);
      v_today DATE := DATE '1970-01-01' + (v_now / 86400000)::int;
      v_id TEXT := p_reservation_id;
      v_claimed BOOLEAN;
      v_ids TEXT[];
      v_levels INT := 0;
      k RECORD;
      r RECORD;
      b RECORD;
    BEGIN
      SELECT status, expires_at, budget_path INTO k FROM keys WHERE id = p_key_id FOR UPDATE;
      IF NOT FOUND THEN
        RETURN QUERY SELECT 'key_invalid'::text, NULL::text, NULL::json;
        RETURN;
      END IF;
      -- After the key's lock: an abandon of this very call, committed before, is seen here.
      IF p_request_id IS NOT NULL AND EXISTS (
          SELECT 1 FROM abandoned WHERE request_id = p_request_id AND instance_id = p_instance_id) THEN
        RETURN QUERY SELECT 'refused'::text, NULL::text, NULL::json;
        RETURN;
      END IF;
      SELECT id, status, fingerprint, created_at INTO r FROM reservations
        WHERE key_id = p_key_id AND idempotency_key = p_idempotency_key;
      v_claimed := FOUND;
      IF v_claimed AND r.created_at <= v_now - ${IDEMPOTENCY_WINDOW_MS} THEN
        UPDATE reservations SET idempotency_key = NULL WHERE id = r.id;
        v_claimed := false;
      END IF;
      IF v_claimed THEN
        IF k.status = 'revoked' OR k.expires_at <= v_now THEN
          RETURN QUERY SELECT 'refused'::text, NULL::text, NULL::json;
          RETURN;
        END IF;
        IF r.fingerprint IS DISTINCT FROM p_fingerprint THEN
          RETURN QUERY SELECT 'idempotency_mismatch'::text, NULL::text, NULL::json;
          RETURN;
        END IF;
        IF r.status = 'reserved' THEN
          RETURN QUERY SELECT 'in_flight'::text, NULL::text, NULL::json;
          RETURN;
        END IF;
        IF r.status <> 'released' THEN
          -- The replay forwards the call again: the original instance's abandon must not release it now.
          UPDATE reservations SET instance_id = NULL WHERE id = r.id AND instance_id IS NOT NULL;
          RETURN QUERY SELECT 'replay'::text, r.id, sg_key_json(p_key_id, v_now, v_today);
          RETURN;
        END IF;
        DELETE FROM reservations WHERE id = r.id;
      END IF;
      IF k.budget_path IS NOT NULL THEN
        v_ids := string_to_array(btrim(k.budget_path, '/'), '/');
        FOR b IN SELECT status, expires_at, committed, day, day_committed, usd_cap, daily_usd_cap, max_usd_per_call
                 FROM budgets WHERE id = ANY (v_ids) ORDER BY depth, id FOR UPDATE LOOP
          v_levels := v_levels + 1;
          -- A revoked level revokes the key too (it holds the key's lock): a key that a revoke skipped while
          -- this very reservation held it (sg_revoke_budget's SKIP LOCKED pass) does not stay active.
          IF b.status <> 'active' THEN
            UPDATE keys SET status = 'revoked', revoked_at = v_now WHERE id = p_key_id AND status <> 'revoked';
            RETURN QUERY SELECT 'refused'::text, NULL::text, NULL::json;
            RETURN;
          END IF;
          IF b.expires_at <= v_now
             OR (b.max_usd_per_call IS NOT NULL AND p_amount > b.max_usd_per_call)
             OR (b.usd_cap IS NOT NULL AND b.committed + p_amount > b.usd_cap)
             OR (b.daily_usd_cap IS NOT NULL
                 AND (CASE WHEN b.day = v_today THEN b.day_committed ELSE 0 END) + p_amount > b.daily_usd_cap) THEN
            RETURN QUERY SELECT 'refused'::text, NULL::text, NULL::json;
            RETURN;
          END IF;
        END LOOP;
        -- A level that is gone refuses: a chain is never partly checked.
        IF v_levels <> cardinality(v_ids) THEN
          RETURN QUERY SELECT 'refused'::text, NULL::text, NULL::json;
          RETURN;
        END IF;
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
      IF v_ids IS NOT NULL THEN
        UPDATE budgets SET
          committed = committed + p_amount,
          reserved = reserved + p_amount,
          day_committed = CASE WHEN day = v_today THEN day_committed + p_amount ELSE p_amount END,
          day = v_today
        WHERE id = ANY (v_ids);
      END IF;
      INSERT INTO reservations (id, key_id, amount, day, status, idempotency_key, fingerprint, created_at,
                                instance_id, request_id)
      VALUES (v_id, p_key_id, p_amount, v_today, 'reserved', p_idempotency_key, p_fingerprint, v_now,
              p_instance_id, p_request_id);
      RETURN QUERY SELECT 'reserved'::text, v_id, sg_key_json(p_key_id, v_now, v_today);
    END
    $fn$;

    -- One item of a batch of reservations (postgres-reserve-batch.ts): a key with a budget is sent back
    -- ('budgeted') untouched, to reserve on its own, so that a batch locks keys only, in its one sorted
    -- order. budget_path never changes, so reading it without the row lock is safe.
    CREATE FUNCTION sg_reserve_unbudgeted(p_clock BIGINT, p_key_id TEXT, p_amount BIGINT,
                                          p_reservation_id TEXT, p_idempotency_key TEXT,
                                          p_fingerprint TEXT, p_instance_id TEXT, p_request_id TEXT)
    RETURNS TABLE (outcome TEXT, reservation_id TEXT, key_row JSON)
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
    BEGIN
      IF EXISTS (SELECT 1 FROM keys WHERE id = p_key_id AND budget_path IS NOT NULL) THEN
        RETURN QUERY SELECT 'budgeted'::text, NULL::text, NULL::json;
        RETURN;
      END IF;
      RETURN QUERY SELECT * FROM sg_reserve_claim(p_clock, p_key_id, p_amount, p_reservation_id,
        p_idempotency_key, p_fingerprint, p_instance_id, p_request_id);
    END
    $fn$;
    `,
};
