import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { capRefusal } from './cap-check.js';
import type { Clock } from './clock.js';
import { NOW, TODAY } from './postgres-clock.js';
import { postgresApprovals, type Query } from './postgres-approvals.js';
import { utcDay } from './clock.js';
import { IDEMPOTENCY_WINDOW_MS } from './idempotency-window.js';
import { int, intOrNull, type Int } from './ledger-int.js';
import { importPeer } from '../run/peer-import.js';
import { migratePostgres } from './postgres-schema.js';
import { REAPED, REPLACE_REAPED } from './reaped.js';
import { budgetGoneError, decodePath } from './budget-chain.js';
import { postgresBudgets, BUDGET_MOVE } from './postgres-budgets.js';
import { batchParams, RESERVE_BATCH, ReserveBatcher, type ClaimRow } from './postgres-reserve-batch.js';
import type {
  AbandonInput,
  ApprovalCheck,
  ApprovalQuery,
  ApprovalRecord,
  DecideInput,
  DecideResult,
  NewApproval,
  RequestApprovalResult,
  AuditQuery,
  AuditRow,
  BudgetQuery,
  BudgetRecord,
  BulkRevokeFilter,
  IdempotencyClaim,
  IssueBudgetResult,
  IssuerQuery,
  IssuerRecord,
  NewBudget,
  NewIssuer,
  RevokeBudgetResult,
  KeyQuery,
  KeyRecord,
  KeyStatus,
  NewAuditRow,
  NewKey,
  Page,
  ReserveInput,
  ReserveResult,
  Settlement,
  SettleInput,
  FinishInput,
  ReservationQuery,
  ReservationRecord,
  ResolveInput,
  ResolveResult,
  Store,
} from './types.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly connectionString: string;
  /**
   * When given, every time decision (expiry, the daily window, `revokedAt`) uses it: tests move time. When
   * absent, the database's clock decides, so proxy instances with skewed clocks still agree.
   */
  readonly now?: Clock;
  /** The most connections this instance opens. Default 10. */
  readonly poolMax?: number;
  /** How long one statement (lock waits included) may run, in ms. Default 5000. */
  readonly statementTimeoutMs?: number;
  /** How long to wait for a connection, new or pooled, in ms. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** A schema (lowercase identifier) to keep every table in, created if missing. Default: the server's. */
  readonly schema?: string;
  /** Shown in `pg_stat_activity`. Default `spendgate`. */
  readonly applicationName?: string;
  /** Told when an idle pooled connection dies (e.g. a server restart); pg has already discarded it. */
  readonly onPoolError?: (error: Error) => void;
  /**
   * Group commit: reservations asked for in the same turn of the event loop (keys without a budget, calls
   * without an approval grant) go to the ledger as one statement. Default true.
   */
  readonly batchReservations?: boolean;
}

/** pg hands BIGINT back as a string, since it may exceed 2^53; this store only ever writes safe integers. */
interface KeyRow {
  seq: Int;
  id: string;
  token_hash: string;
  vendor: string;
  label: string | null;
  metadata: Record<string, string>;
  usd_cap: Int | null;
  daily_usd_cap: Int | null;
  max_usd_per_call: Int | null;
  allowed_endpoints: string[];
  connected_accounts: string[];
  approval_above_usd: Int | null;
  budget_id: string | null;
  budget_path: string | null;
  issuer_id: string | null;
  created_at: Int;
  expires_at: Int;
  status: KeyStatus;
  revoked_at: Int | null;
  committed: Int;
  reserved: Int;
  uncertain: Int;
  calls: Int;
  denied_calls: Int;
  spent_today: Int;
  expired: boolean;
}

interface AuditDbRow {
  id: string;
  ts: Int;
  key_id: string | null;
  label: string | null;
  vendor: string | null;
  method: string;
  path: string;
  decision: AuditRow['decision'];
  code: string | null;
  upstream_status: number | null;
  cost_reserved: Int | null;
  cost_settled: Int | null;
  settlement: Settlement | null;
  idempotency_key: string | null;
  vendor_request_id: string | null;
  request_id: string;
  latency_ms: number;
}

/** Key columns plus the two clock-relative facts, computed by the same clock as the decision. */
const KEY_COLUMNS = `seq, id, token_hash, vendor, label, metadata, usd_cap, daily_usd_cap, max_usd_per_call,
  allowed_endpoints, connected_accounts, approval_above_usd, budget_id, budget_path, issuer_id, created_at, expires_at,
  status,
  revoked_at, committed, reserved, uncertain,
  calls, denied_calls,
  CASE WHEN day = ${TODAY} THEN day_committed ELSE 0 END AS spent_today, expires_at <= ${NOW} AS expired`;

/**
 * The whole allow decision and the spend change in one statement: every rule is in the WHERE clause, so
 * concurrent reservations serialise on the key's row lock and PostgreSQL re-checks the rules against the
 * latest row before each one applies. The reservation row is written by the same statement, or not at all.
 * $2 key id, $3 amount, $4 reservation id, $5/$6 idempotency key and fingerprint. A released claim's row
 * is reused (ON CONFLICT on its id).
 */
const RESERVE = `
  WITH upd AS (
    UPDATE keys SET
      committed = committed + $3::bigint,
      reserved = reserved + $3::bigint,
      day_committed = CASE WHEN day = ${TODAY} THEN day_committed + $3::bigint ELSE $3::bigint END,
      day = ${TODAY},
      calls = calls + 1
    WHERE id = $2::text AND status = 'active' AND expires_at > ${NOW} AND budget_path IS NULL
      AND NOT EXISTS (SELECT 1 FROM abandoned a WHERE a.request_id = $8::text AND a.instance_id = $7::text)
      AND (max_usd_per_call IS NULL OR $3::bigint <= max_usd_per_call)
      AND (usd_cap IS NULL OR committed + $3::bigint <= usd_cap)
      AND (daily_usd_cap IS NULL
           OR (CASE WHEN day = ${TODAY} THEN day_committed ELSE 0 END) + $3::bigint <= daily_usd_cap)
    RETURNING ${KEY_COLUMNS}
  ), ins AS (
    INSERT INTO reservations (id, key_id, amount, day, status, idempotency_key, fingerprint, created_at,
      instance_id, request_id)
    SELECT $4::text, upd.id, $3::bigint, ${TODAY}, 'reserved', $5::text, $6::text, ${NOW}, $7::text, $8::text
    FROM upd
    ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, day = excluded.day, status = 'reserved'
  )
  SELECT * FROM upd`;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The ids of every key in the subtree of the budget at placeholder `p`, through budget_keys. */
const KEYS_WITHIN = (p: string) =>
  `SELECT bk.key_id FROM budget_keys bk JOIN budgets b ON b.id = bk.budget_id
   WHERE strpos(b.path, '/' || ${p}::text || '/') > 0`;

/**
 * The ledger for several proxy instances: PostgreSQL through a pg Pool. Each spend change is one statement,
 * or one transaction that locks the rows it reads. A failed connection or statement rejects the call (the
 * proxy answers 503); the pool replaces dead connections by itself, and no key state is cached.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly #options: PostgresStoreOptions;
  #pool: pg.Pool | undefined;

  constructor(options: PostgresStoreOptions) {
    if (options.schema !== undefined && !IDENTIFIER.test(options.schema)) {
      throw new TypeError(`schema must be a lowercase SQL identifier, got ${JSON.stringify(options.schema)}`);
    }
    this.#options = options;
  }

  /** Opens the pool and migrates. Safe to call again after a failure (say, the database was not up yet). */
  async init(): Promise<void> {
    // Imported here rather than at the top, so that merely importing this module never needs pg installed.
    const { default: driver } = await importPeer(() => import('pg'), {
      entry: 'The PostgreSQL ledger',
      packages: ['pg'],
      install: 'pg',
    });
    this.#pool ??= this.#createPool(driver.Pool);
    await this.#transaction((client) => migratePostgres(client, this.#options.schema));
  }

  async ping(): Promise<void> {
    await this.#db.query('SELECT 1');
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  async issueKey(key: NewKey): Promise<KeyRecord> {
    const { rows } = await this.#q<KeyRow>(
      `WITH ins AS (
         INSERT INTO keys (id, token_hash, vendor, label, metadata, usd_cap, daily_usd_cap, max_usd_per_call,
           allowed_endpoints, connected_accounts, created_at, expires_at, day, approval_above_usd, budget_id,
           budget_path, issuer_id)
         SELECT $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13, $14::date, $15, $16::text,
           (SELECT path FROM budgets WHERE id = $16::text), $17::text
         -- The budget must be active, unexpired and outlive the key. FOR SHARE holds it so: a concurrent
         -- revoke either comes first (no key), or waits for this insert and then revokes the key too.
         WHERE $16::text IS NULL OR EXISTS (
           SELECT 1 FROM budgets WHERE id = $16::text AND status = 'active' AND expires_at > ${NOW}
             AND expires_at >= $13::bigint FOR SHARE)
         RETURNING ${KEY_COLUMNS}
       ), held AS (
         INSERT INTO budget_keys (budget_id, key_id) SELECT budget_id, id FROM ins WHERE budget_id IS NOT NULL
       )
       SELECT * FROM ins`,
      [
        this.#clock(),
        key.id,
        key.tokenHash,
        key.vendor,
        key.label,
        // Stringified by hand: pg would send a JS array as a PostgreSQL array, not JSON.
        JSON.stringify(key.metadata),
        key.usdCap,
        key.dailyUsdCap,
        key.maxUsdPerCall,
        JSON.stringify(key.allowedEndpoints),
        JSON.stringify(key.connectedAccounts),
        key.createdAt,
        key.expiresAt,
        utcDay(key.createdAt),
        key.approvalAboveUsd ?? null,
        key.budgetId ?? null,
        key.issuerId ?? null,
      ],
    );
    if (rows.length === 0 && key.budgetId) throw budgetGoneError(key.budgetId);
    return toRecord(one(rows));
  }

  async getKey(id: string): Promise<KeyRecord | null> {
    return this.#keyWhere('id = $2::text', id);
  }

  async findKeyByTokenHash(tokenHash: string): Promise<KeyRecord | null> {
    return this.#keyWhere('token_hash = $2::text', tokenHash);
  }

  async listKeys(query: KeyQuery): Promise<Page<KeyRecord>> {
    const where = new Conditions([this.#clock()]);
    if (!where.cursor(query.cursor, (p) => `seq < ${p}::numeric`)) return { data: [], nextCursor: null };
    where.add(query.label, (p) => `label = ${p}::text`);
    where.add(query.labelPrefix, (p) => `starts_with(label, ${p}::text)`);
    where.add(query.status, (p) => `status = ${p}::text`);
    where.add(query.vendor, (p) => `vendor = ${p}::text`);
    where.add(query.budgetId, (p) => `budget_id = ${p}::text`);
    where.add(query.within, (p) => `id IN (${KEYS_WITHIN(p)})`);
    const limit = where.param(query.limit + 1);
    const { rows } = await this.#q<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM keys ${where.sql} ORDER BY seq DESC LIMIT ${limit}::int`,
      where.params,
    );
    return toPage(rows, query.limit, (row) => String(row.seq), toRecord);
  }

  async revokeKey(id: string): Promise<KeyRecord | null> {
    const clock = this.#clock();
    // Two statements on purpose: a CTE's fallback SELECT would read its snapshot, from before a concurrent
    // revoke that this UPDATE waited for, and report the key as still active.
    await this.#q(
      `UPDATE keys SET status = 'revoked', revoked_at = ${NOW} WHERE id = $2::text AND status <> 'revoked'`,
      [clock, id],
    );
    return this.#keyWhere('id = $2::text', id, clock);
  }

  async revokeKeys(filter: BulkRevokeFilter): Promise<number> {
    const where = new Conditions([this.#clock()]);
    where.add('active', (p) => `status = ${p}::text`);
    where.add(filter.label, (p) => `label = ${p}::text`);
    where.add(filter.labelPrefix, (p) => `starts_with(label, ${p}::text)`);
    where.add(filter.metadata && JSON.stringify(filter.metadata), (p) => `metadata @> ${p}::jsonb`);
    where.add(filter.within, (p) => `id IN (${KEYS_WITHIN(p)})`);
    const result = await this.#q(
      `UPDATE keys SET status = 'revoked', revoked_at = ${NOW} ${where.sql}`,
      where.params,
    );
    return result.rowCount ?? 0;
  }

  readonly #batcher = new ReserveBatcher<KeyRow>(async (items) => {
    const { rows } = await this.#q<ClaimRow<KeyRow>>(RESERVE_BATCH, [this.#clock(), ...batchParams(items)]);
    return rows;
  });

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    if (input.approval) return this.#reserveApproved(input, input.approval);
    if (!input.budgeted && this.#options.batchReservations !== false) {
      const row = await this.#batcher.add({ input, reservationId: newReservationId() });
      // A key with a budget (the hint was missing) is handed back untouched: it reserves on its own.
      if (row.outcome === 'budgeted') return this.#reserveClaim(input, input.idempotency, this.#pooled);
      return this.#claimOutcome(input, row, this.#pooled, this.#clock());
    }
    // A key under a budget reserves through the function that also locks and checks its chain.
    if (input.idempotency || input.budgeted)
      return this.#reserveClaim(input, input.idempotency, this.#pooled);
    return this.#reservePlain(input, this.#pooled);
  }

  async #reservePlain(input: ReserveInput, q: Query, clock = this.#clock()): Promise<ReserveResult> {
    const id = newReservationId();
    const { rows } = await q<KeyRow>(RESERVE, [
      clock,
      input.keyId,
      input.amount,
      id,
      null,
      null,
      input.instanceId ?? null,
      input.requestId ?? null,
    ]);
    const updated = rows[0];
    if (updated) return { ok: true, reservationId: id, replay: false, key: toRecord(updated) };
    const row = await this.#keyRow('id = $2::text', input.keyId, clock, q);
    // RESERVE leaves keys under a budget alone; one reached here without the hint goes the budget way.
    if (row?.budget_path) return this.#reserveClaim(input, undefined, q, clock);
    // Refused: the decision is already made. This read only names the reason.
    return this.#refusal(row, input.amount, clock, q);
  }

  /**
   * A call above its key's approval threshold, in one transaction. The key's row is locked first: every
   * grant belongs to one key, so this serialises every use of a grant (and every claim on the key) across
   * instances, and the grant is read only after the lock. It is marked used in the same transaction as the
   * reservation, so two calls racing on one grant reserve once, and a call a cap refuses leaves it unused.
   */
  async #reserveApproved(input: ReserveInput, approval: ApprovalCheck): Promise<ReserveResult> {
    return this.#transaction(async (client) => {
      const q: Query = (text, values) => client.query(named(text, values));
      // One instant for every step: with the database clock, separate statements would each read their own
      // time, and a claim could be live for the replay check yet lapsed for the reservation.
      const clock = this.#clock() ?? (await this.#databaseNow(q));
      const row = await this.#keyRow('id = $2::text FOR UPDATE', input.keyId, clock, q);
      if (!row) return { ok: false, code: 'key_invalid', key: null };
      const claim = input.idempotency;
      // A live claim is a replay, a copy in flight or a mismatch: nothing new is reserved, so no grant is due.
      if (claim && (await this.#hasLiveClaim(q, input.keyId, claim.key, clock))) {
        return this.#reserveClaim(input, claim, q, clock);
      }
      // Status and caps first: a person is never asked about a call that could not go through anyway.
      const blocked = await this.#refusalIfAny(row, input.amount, clock, q);
      if (blocked) return blocked;
      const grant = await postgresApprovals.check(q, input.keyId, approval, clock);
      if (!grant.ok) return { ok: false, code: grant.code, key: toRecord(row) };
      const result =
        claim || row.budget_path
          ? await this.#reserveClaim(input, claim, q, clock)
          : await this.#reservePlain(input, q, clock);
      if (result.ok && !result.replay)
        await postgresApprovals.markUsed(q, grant.id, result.reservationId, clock);
      return result;
    });
  }

  async #databaseNow(q: Query): Promise<number> {
    const { rows } = await q<{ now: Int }>(`SELECT ${NOW} AS now`, [null]);
    return Number(rows[0]?.now);
  }

  async #hasLiveClaim(
    q: Query,
    keyId: string,
    idempotencyKey: string,
    clock: number | null,
  ): Promise<boolean> {
    const { rows } = await q(
      `SELECT 1 FROM reservations WHERE key_id = $2 AND idempotency_key = $3 AND status <> 'released'
         AND created_at > ${NOW} - ${IDEMPOTENCY_WINDOW_MS}`,
      [clock, keyId, idempotencyKey],
    );
    return rows.length > 0;
  }

  async settle(input: SettleInput): Promise<void> {
    // One statement, one round trip. FOR UPDATE pins the reservation until commit; a concurrent release, mark
    // or second settle waits, re-reads the row, finds it settled and matches nothing.
    const audit = input.audit ? `${auditCtes(4)}, ` : '';
    await this.#q(
      `WITH ${audit}old AS (
         SELECT id, key_id, amount, day, status FROM reservations
         WHERE id = $1::text AND status IN ('reserved', 'uncertain') FOR UPDATE
       ), res AS (
         UPDATE reservations r SET status = 'settled', amount = $2::bigint, object_id = COALESCE($3::text, r.object_id)
         FROM old WHERE r.id = old.id
         RETURNING old.key_id, old.amount AS held, old.day, old.status AS old_status
       ), kupd AS (
         UPDATE keys k SET
           committed = k.committed + ($2::bigint - res.held),
           reserved = k.reserved - CASE WHEN res.old_status = 'reserved' THEN res.held ELSE 0 END,
           uncertain = k.uncertain - CASE WHEN res.old_status = 'uncertain' THEN res.held ELSE 0 END,
           day_committed = CASE WHEN k.day = res.day
                                THEN greatest(0, k.day_committed + ($2::bigint - res.held))
                                ELSE k.day_committed END
         FROM res WHERE k.id = res.key_id
         RETURNING k.budget_path, res.day, $2::bigint - res.held AS d_committed,
           -CASE WHEN res.old_status = 'reserved' THEN res.held ELSE 0 END AS d_reserved,
           -CASE WHEN res.old_status = 'uncertain' THEN res.held ELSE 0 END AS d_uncertain
       )
       ${BUDGET_MOVE('kupd')}`,
      [
        input.reservationId,
        input.amount,
        input.objectId ?? null,
        ...(input.audit ? auditParams(input.audit) : []),
      ],
    );
  }

  async abandon(input: AbandonInput): Promise<void> {
    // One statement. An in-flight reservation is found through the in-flight index by instance; one the
    // reaper made uncertain through the reaper's own record of it (the reaped table), so that no index is
    // added to reservations: every index there is a relation the hot settle statement must lock, and past 16
    // PostgreSQL leaves its fast-path locks. FOR UPDATE makes a concurrent settle or reap wait, then find the
    // row gone from its state.
    const audit = input.audit ? `${auditCtes(3)}, ` : '';
    await this.#q(
      `WITH ${audit}tomb AS (
         -- A reserve of this call still on its way to the database is refused when it arrives.
         INSERT INTO abandoned (request_id, instance_id, at)
         VALUES ($1::text, $2::text, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint)
         ON CONFLICT (request_id) DO NOTHING
       ), old AS (
         SELECT id, key_id, amount, day, status FROM reservations
         WHERE (status = 'reserved' AND instance_id = $2::text AND request_id = $1::text)
            OR (status = 'uncertain' AND instance_id = $2::text
                AND id = (SELECT reservation_id FROM reaped WHERE request_id = $1::text))
         FOR UPDATE
       ), res AS (
         UPDATE reservations r SET status = 'released' FROM old WHERE r.id = old.id
         RETURNING old.key_id, old.amount AS held, old.day, old.status AS old_status
       ), kupd AS (
         UPDATE keys k SET
           committed = k.committed - res.held,
           reserved = k.reserved - CASE WHEN res.old_status = 'reserved' THEN res.held ELSE 0 END,
           uncertain = k.uncertain - CASE WHEN res.old_status = 'uncertain' THEN res.held ELSE 0 END,
           day_committed = CASE WHEN k.day = res.day THEN greatest(0, k.day_committed - res.held)
                                ELSE k.day_committed END
         FROM res WHERE k.id = res.key_id
         RETURNING k.budget_path, res.day, -res.held AS d_committed,
           -CASE WHEN res.old_status = 'reserved' THEN res.held ELSE 0 END AS d_reserved,
           -CASE WHEN res.old_status = 'uncertain' THEN res.held ELSE 0 END AS d_uncertain
       )
       ${BUDGET_MOVE('kupd')}`,
      [input.requestId, input.instanceId, ...(input.audit ? auditParams(input.audit) : [])],
    );
  }

  async hasObject(input: { readonly keyId: string; readonly objectId: string }): Promise<boolean> {
    const { rows } = await this.#q(
      `SELECT 1 FROM reservations WHERE key_id = $1::text AND object_id = $2::text AND status <> 'released' LIMIT 1`,
      [input.keyId, input.objectId],
    );
    return rows.length > 0;
  }

  async release(input: FinishInput): Promise<void> {
    // One statement: the status change is the guard (only one caller moves it off 'reserved'), and amount and
    // day never change while a reservation is in flight, so RETURNING gives the values to give back.
    const audit = input.audit ? `${auditCtes(2)}, ` : '';
    await this.#q(
      `WITH ${audit}res AS (
         UPDATE reservations SET status = 'released' WHERE id = $1::text AND status = 'reserved'
         RETURNING key_id, amount, day
       ), kupd AS (
         UPDATE keys k SET
           committed = k.committed - res.amount,
           reserved = k.reserved - res.amount,
           day_committed = CASE WHEN k.day = res.day THEN greatest(0, k.day_committed - res.amount) ELSE k.day_committed END
         FROM res WHERE k.id = res.key_id
         RETURNING k.budget_path, res.day, -res.amount AS d_committed, -res.amount AS d_reserved,
           0::bigint AS d_uncertain
       )
       ${BUDGET_MOVE('kupd')}`,
      [input.reservationId, ...(input.audit ? auditParams(input.audit) : [])],
    );
  }

  async markUncertain(input: FinishInput): Promise<void> {
    const audit = input.audit ? `${auditCtes(2)}, ` : '';
    await this.#q(
      `WITH ${audit}res AS (
         UPDATE reservations SET status = 'uncertain' WHERE id = $1::text AND status = 'reserved'
         RETURNING key_id, amount
       ), kupd AS (
         UPDATE keys k SET reserved = k.reserved - res.amount, uncertain = k.uncertain + res.amount
         FROM res WHERE k.id = res.key_id
         RETURNING k.budget_path, NULL::date AS day, 0::bigint AS d_committed, -res.amount AS d_reserved,
           res.amount AS d_uncertain
       )
       ${BUDGET_MOVE('kupd')}`,
      [input.reservationId, ...(input.audit ? auditParams(input.audit) : [])],
    );
  }

  async appendAudit(row: NewAuditRow): Promise<AuditRow> {
    // The denied count and the row land together or not at all; a replayed row (same request id) neither.
    const { rows } = await this.#q<{ id: string }>(
      `WITH ${auditCtes(1)} SELECT id::text AS id FROM audit_ins
       UNION ALL SELECT id::text FROM audit WHERE request_id = $15::text AND NOT EXISTS (SELECT 1 FROM audit_ins)`,
      auditParams(row),
    );
    return { ...row, id: one(rows).id };
  }

  async resolveUncertain(input: ResolveInput): Promise<ResolveResult> {
    const audit = input.audit ? `${auditCtes(4)}, ` : '';
    const { rows } = await this.#q<{ key_id: string; amount: Int }>(
      `WITH ${audit}old AS (
         SELECT id, key_id, amount, day FROM reservations WHERE id = $1::text AND status = 'uncertain' FOR UPDATE
       ), res AS (
         UPDATE reservations r SET status = $2::text,
           amount = CASE WHEN $2::text = 'released' THEN 0 ELSE COALESCE($3::bigint, old.amount) END
         FROM old WHERE r.id = old.id
         RETURNING old.key_id, old.amount AS held, old.day, r.amount
       ), upd AS (
         UPDATE keys k SET
           committed = k.committed + (res.amount - res.held),
           uncertain = k.uncertain - res.held,
           day_committed = CASE WHEN k.day = res.day THEN greatest(0, k.day_committed + (res.amount - res.held))
                                ELSE k.day_committed END
         FROM res WHERE k.id = res.key_id
         RETURNING k.budget_path, res.day, res.amount - res.held AS d_committed, 0::bigint AS d_reserved,
           -res.held AS d_uncertain
       ), bud AS (${BUDGET_MOVE('upd')})
       SELECT key_id, amount FROM res, bud`,
      [
        input.reservationId,
        input.outcome,
        input.amount ?? null,
        ...(input.audit ? auditParams(input.audit) : []),
      ],
    );
    const done = rows[0];
    if (done) return { ok: true, keyId: done.key_id, amount: int(done.amount) };
    const found = await this.#q<{ status: Settlement }>(
      'SELECT status FROM reservations WHERE id = $1::text',
      [input.reservationId],
    );
    const status = found.rows[0]?.status;
    return status === undefined
      ? { ok: false, reason: 'not_found' }
      : { ok: false, reason: 'not_uncertain', status };
  }

  async heartbeat(input: { readonly instanceId: string; readonly leaseMs: number }): Promise<void> {
    await this.#q(
      `INSERT INTO instances (id, expires_at) VALUES ($2::text, ${NOW} + $3::bigint)
       ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`,
      [this.#clock(), input.instanceId, input.leaseMs],
    );
  }

  async reapExpired(): Promise<number> {
    // One statement, so one transaction: the advisory lock lets one reaper work at a time across instances,
    // and SKIP LOCKED leaves alone a reservation that its (live, slow) instance is settling right now.
    const { rows } = await this.#q<{ reaped: Int }>(
      `WITH lock AS (SELECT pg_try_advisory_xact_lock(hashtext('spendgate.reaper')) AS held),
       stale AS (
         SELECT r.id FROM reservations r, lock
         WHERE lock.held AND r.status = 'reserved' AND r.instance_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = r.instance_id AND i.expires_at > ${NOW})
         FOR UPDATE OF r SKIP LOCKED
       ), res AS (
         UPDATE reservations r SET status = 'uncertain' FROM stale WHERE r.id = stale.id
         RETURNING r.id, r.key_id, r.amount, r.request_id
       ), per_key AS (
         SELECT key_id, sum(amount)::bigint AS amount FROM res GROUP BY key_id
       ), upd AS (
         UPDATE keys k SET reserved = k.reserved - p.amount, uncertain = k.uncertain + p.amount
         FROM per_key p WHERE k.id = p.key_id
         RETURNING k.budget_path, NULL::date AS day, 0::bigint AS d_committed, -p.amount AS d_reserved,
           p.amount AS d_uncertain
       ), bud AS (${BUDGET_MOVE('upd')}), ins AS (
         INSERT INTO audit (ts, key_id, label, vendor, method, path, decision, code, upstream_status,
           cost_reserved, cost_settled, settlement, idempotency_key, vendor_request_id, request_id, latency_ms)
         SELECT ${NOW}, res.key_id, k.label, k.vendor, 'POST', '(reservation ' || res.id || ')', 'allowed',
           '${REAPED}', NULL, res.amount, res.amount, 'uncertain', NULL, NULL,
           COALESCE(res.request_id, 'req_sg_reaped_' || res.id), 0
         FROM res JOIN keys k ON k.id = res.key_id
         ON CONFLICT (request_id) DO NOTHING
       ), pruned AS (
         DELETE FROM abandoned WHERE (SELECT held FROM lock) AND at < ${NOW} - 86400000
       ), remembered AS (
         INSERT INTO reaped (request_id, reservation_id)
         SELECT res.request_id, res.id FROM res WHERE res.request_id IS NOT NULL
         ON CONFLICT (request_id) DO NOTHING
       )
       SELECT (SELECT count(*) FROM res)::bigint AS reaped FROM bud`,
      [this.#clock()],
    );
    return int(one(rows).reaped);
  }

  async listReservations(query: ReservationQuery): Promise<ReservationRecord[]> {
    const { rows } = await this.#q<{
      id: string;
      key_id: string;
      amount: Int;
      status: Settlement;
      created_at: Int;
    }>(
      `SELECT id, key_id, amount, status, created_at FROM reservations
       WHERE ($1::text IS NULL OR key_id = $1::text) AND ($2::text IS NULL OR status = $2::text)
       ORDER BY created_at LIMIT $3::int`,
      [query.keyId ?? null, query.status ?? null, query.limit],
    );
    return rows.map((r) => ({
      id: r.id,
      keyId: r.key_id,
      amount: int(r.amount),
      status: r.status,
      createdAt: int(r.created_at),
    }));
  }

  async queryAudit(query: AuditQuery): Promise<Page<AuditRow>> {
    const where = new Conditions([]);
    if (!where.cursor(query.cursor, (p) => `id < ${p}::numeric`)) return { data: [], nextCursor: null };
    where.add(query.keyId, (p) => `key_id = ${p}::text`);
    where.add(query.label, (p) => `label = ${p}::text`);
    where.add(query.labelPrefix, (p) => `starts_with(label, ${p}::text)`);
    where.add(query.vendor, (p) => `vendor = ${p}::text`);
    where.add(query.decision, (p) => `decision = ${p}::text`);
    where.add(query.since, (p) => `ts >= ${p}::bigint`);
    where.add(query.until, (p) => `ts < ${p}::bigint`);
    where.add(query.within, (p) => `key_id IN (${KEYS_WITHIN(p)})`);
    const limit = where.param(query.limit + 1);
    const { rows } = await this.#q<AuditDbRow>(
      `SELECT id::text AS id, ts, key_id, label, vendor, method, path, decision, code, upstream_status,
         cost_reserved, cost_settled, settlement, idempotency_key, vendor_request_id, request_id, latency_ms
       FROM audit ${where.sql} ORDER BY id DESC LIMIT ${limit}::int`,
      where.params,
    );
    return toPage(rows, query.limit, (row) => row.id, toAuditRow);
  }

  /**
   * The idempotent path, in one transaction. Locking the key row first serialises every claim on this key
   * (across pools and instances), and the claim is read only after the lock is held, so it sees any claim
   * committed by whoever held the lock before: exactly one caller reserves, the rest replay. The unique
   * (key_id, idempotency_key) constraint backs this up.
   */
  async #reserveClaim(
    input: ReserveInput,
    claim: IdempotencyClaim | undefined,
    q: Query,
    clock = this.#clock(),
  ): Promise<ReserveResult> {
    // One round trip: sg_reserve_claim (migration 2) locks the key row, reads the claim after the lock, and
    // reserves with the same rules as RESERVE.
    const { rows } = await q<{
      outcome: string;
      reservation_id: string | null;
      key_row: KeyRow | null;
    }>(
      `SELECT outcome, reservation_id, key_row
       FROM sg_reserve_claim($1::bigint, $2::text, $3::bigint, $4::text, $5::text, $6::text, $7::text, $8::text)`,
      [
        clock,
        input.keyId,
        input.amount,
        newReservationId(),
        claim?.key ?? null,
        claim?.fingerprint ?? null,
        input.instanceId ?? null,
        input.requestId ?? null,
      ],
    );
    return this.#claimOutcome(input, rows[0], q, clock);
  }

  /** What `sg_reserve_claim` decided, as a ReserveResult; a refusal's reason is read afterwards. */
  async #claimOutcome(
    input: ReserveInput,
    result: Omit<ClaimRow<KeyRow>, 'ord'> | undefined,
    q: Query,
    clock: number | null,
  ): Promise<ReserveResult> {
    if (!result || result.outcome === 'key_invalid') return { ok: false, code: 'key_invalid', key: null };
    if (
      (result.outcome === 'reserved' || result.outcome === 'replay') &&
      result.reservation_id &&
      result.key_row
    ) {
      const key = toRecord(result.key_row);
      return { ok: true, reservationId: result.reservation_id, replay: result.outcome === 'replay', key };
    }
    // Refused: the decision is made; this read only names the reason.
    const row = await this.#keyRow('id = $2::text', input.keyId, clock, q);
    if (!row) return { ok: false, code: 'key_invalid', key: null };
    if (result.outcome === 'idempotency_mismatch')
      return { ok: false, code: 'idempotency_mismatch', key: toRecord(row) };
    if (result.outcome === 'in_flight')
      return { ok: false, code: 'idempotency_key_in_use', key: toRecord(row) };
    return this.#refusal(row, input.amount, clock, q);
  }

  /**
   * Why a reservation was refused. The decision is made; this only names the reason. No reason left means the
   * rows changed since the refusal (say, a release): the refusal still stands.
   */
  async #refusal(
    row: KeyRow | undefined,
    amount: number,
    clock: number | null,
    q: Query,
  ): Promise<ReserveResult> {
    return (
      (await this.#refusalIfAny(row, amount, clock, q)) ?? {
        ok: false,
        code: 'cap_exhausted',
        key: row ? toRecord(row) : null,
      }
    );
  }

  /** The key's own refusal, else the first level of its budget chain that refuses, else `null`. */
  async #refusalIfAny(
    row: KeyRow | undefined,
    amount: number,
    clock: number | null,
    q: Query,
  ): Promise<Extract<ReserveResult, { ok: false }> | null> {
    const own = refusalIfAny(row, amount);
    if (own || !row?.budget_path) return own;
    const chain = await postgresBudgets.diagnose(q, decodePath(row.budget_path), amount, clock);
    return chain && { ok: false, ...chain, key: toRecord(row) };
  }

  async issueBudget(budget: NewBudget): Promise<IssueBudgetResult> {
    const clock = this.#clock();
    return this.#transaction((client) =>
      postgresBudgets.issue((text, values) => client.query(named(text, values)), budget, clock),
    );
  }

  async getBudget(id: string): Promise<BudgetRecord | null> {
    return postgresBudgets.get(this.#pooled, id, this.#clock());
  }

  async listBudgets(query: BudgetQuery): Promise<Page<BudgetRecord>> {
    return postgresBudgets.list(this.#pooled, query, this.#clock());
  }

  async revokeBudget(id: string): Promise<RevokeBudgetResult | null> {
    return postgresBudgets.revoke(this.#pooled, id, this.#clock());
  }

  async createIssuer(issuer: NewIssuer): Promise<IssuerRecord> {
    return postgresBudgets.createIssuer(this.#pooled, issuer);
  }

  async getIssuer(id: string): Promise<IssuerRecord | null> {
    return postgresBudgets.getIssuer(this.#pooled, 'i.id', id);
  }

  async findIssuerByTokenHash(tokenHash: string): Promise<IssuerRecord | null> {
    return postgresBudgets.getIssuer(this.#pooled, 'i.token_hash', tokenHash);
  }

  async listIssuers(query: IssuerQuery): Promise<Page<IssuerRecord>> {
    return postgresBudgets.listIssuers(this.#pooled, query, this.#clock());
  }

  async revokeIssuer(id: string): Promise<{ issuer: IssuerRecord; revokedKeys: number } | null> {
    return postgresBudgets.revokeIssuer(this.#pooled, id, this.#clock());
  }

  async #keyWhere(condition: string, value: string, clock = this.#clock()): Promise<KeyRecord | null> {
    const row = await this.#keyRow(condition, value, clock);
    return row ? toRecord(row) : null;
  }

  async #keyRow(
    condition: string,
    value: string,
    clock: number | null,
    q: Query = this.#pooled,
  ): Promise<KeyRow | undefined> {
    const { rows } = await q<KeyRow>(`SELECT ${KEY_COLUMNS} FROM keys WHERE ${condition}`, [clock, value]);
    return rows[0];
  }

  /**
   * Runs one statement as a named prepared statement: PostgreSQL parses and plans each text once per
   * connection instead of on every call, which matters for the reservation CTE on the hot path.
   */
  /** `#q` as a value, for the steps that run on the pool or on a transaction's client alike. */
  readonly #pooled: Query = (text, values) => this.#q(text, values);

  async requestApproval(input: NewApproval): Promise<RequestApprovalResult> {
    const clock = this.#clock();
    return this.#transaction((client) =>
      postgresApprovals.request((text, values) => client.query(named(text, values)), input, clock),
    );
  }

  async getApproval(id: string): Promise<ApprovalRecord | null> {
    return postgresApprovals.get(this.#pooled, id, this.#clock());
  }

  async listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    return postgresApprovals.list(this.#pooled, query, this.#clock());
  }

  async decideApproval(input: DecideInput): Promise<DecideResult> {
    return postgresApprovals.decide(this.#pooled, input, this.#clock());
  }

  #q<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.#db.query<R>(named(text, values));
  }

  /**
   * Runs `work` between BEGIN and COMMIT on one pooled connection. On any failure the connection is closed
   * instead of rolled back: the server aborts the transaction when the socket goes, and a ROLLBACK could
   * itself wait on a connection that stopped answering.
   */
  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    // pg-pool detaches its own error listener while a client is checked out; without this one, a backend
    // that dies between two statements would be an unhandled 'error' event and take the process down. The
    // statement in flight (or the next one) rejects anyway, so the listener only has to exist. It is attached
    // inside the callback form of connect(): awaiting the promise form leaves a microtask in which a FATAL
    // arriving in the same socket read as the previous reply finds no listener and crashes the process.
    const ignore = (): void => {};
    const client = await new Promise<pg.PoolClient>((resolve, reject) => {
      this.#db.connect((err, connected, done) => {
        if (err || !connected) {
          reject(err ?? new Error('no PostgreSQL client'));
          return;
        }
        connected.on('error', ignore);
        void done;
        resolve(connected);
      });
    });
    let failed = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      client.off('error', ignore);
      client.release(failed);
    }
  }

  #createPool(Pool: typeof pg.Pool): pg.Pool {
    const statementTimeoutMs = this.#options.statementTimeoutMs ?? 5000;
    const pool = new Pool({
      connectionString: this.#options.connectionString,
      max: this.#options.poolMax ?? 10,
      // Bounds both opening a connection (TCP and startup) and waiting for a free one.
      connectionTimeoutMillis: this.#options.connectTimeoutMs ?? 2000,
      statement_timeout: statementTimeoutMs,
      // The client-side deadline for a server that stops answering without closing the socket (a silent
      // partition, where PostgreSQL never sees the query and statement_timeout cannot fire). It equals the
      // statement timeout, so every ledger operation has one documented deadline.
      query_timeout: statementTimeoutMs,
      // A transaction stranded mid-way would otherwise hold its key's row lock until the connection dies.
      idle_in_transaction_session_timeout: statementTimeoutMs * 2,
      keepAlive: true,
      application_name: this.#options.applicationName ?? 'spendgate',
      ...(this.#options.schema !== undefined ? { options: `-c search_path=${this.#options.schema}` } : {}),
    });
    // An idle connection whose backend dies emits 'error' on the pool; unhandled, that would crash the
    // process. pg has already dropped the connection and opens a new one on the next call.
    pool.on('error', (error) => this.#options.onPoolError?.(error));
    return pool;
  }

  get #db(): pg.Pool {
    if (!this.#pool) throw new Error('PostgresStore used before init() or after close()');
    return this.#pool;
  }

  #clock(): number | null {
    // Floored: a fractional clock reading would not cast to BIGINT.
    return this.#options.now ? Math.floor(this.#options.now()) : null;
  }
}

/** AND-ed conditions with numbered parameters, after any leading ones (such as the clock at $1). */
class Conditions {
  readonly params: unknown[];
  readonly #clauses: string[] = [];

  constructor(leading: unknown[]) {
    this.params = [...leading];
  }

  /** Adds a parameter and returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(value: unknown, clause: (placeholder: string) => string): void {
    if (value !== undefined) this.#clauses.push(clause(this.param(value)));
  }

  /** Adds the page cursor; false when it cannot match anything (the other stores return an empty page). */
  cursor(cursor: string | undefined, clause: (placeholder: string) => string): boolean {
    if (cursor === undefined) return true;
    const position = Number(cursor);
    if (!Number.isFinite(position)) return false;
    this.add(position, clause);
    return true;
  }

  get sql(): string {
    return this.#clauses.length > 0 ? `WHERE ${this.#clauses.join(' AND ')}` : '';
  }
}

/** Why a reservation would be refused (status, expiry, per-call limit, caps), or `null` when it fits. */
function refusalIfAny(row: KeyRow | undefined, amount: number): Extract<ReserveResult, { ok: false }> | null {
  if (!row) return { ok: false, code: 'key_invalid', key: null };
  const key = toRecord(row);
  if (row.status === 'revoked') return { ok: false, code: 'key_revoked', key };
  if (row.expired) return { ok: false, code: 'key_expired', key };
  const cap = capRefusal({
    amount,
    committed: int(row.committed),
    dayCommitted: int(row.spent_today),
    usdCap: intOrNull(row.usd_cap),
    dailyUsdCap: intOrNull(row.daily_usd_cap),
    maxUsdPerCall: intOrNull(row.max_usd_per_call),
  });
  return cap ? { ok: false, ...cap, key } : null;
}

function toRecord(row: KeyRow): KeyRecord {
  const committed = int(row.committed);
  const reserved = int(row.reserved);
  return {
    id: row.id,
    tokenHash: row.token_hash,
    vendor: row.vendor,
    label: row.label,
    metadata: row.metadata,
    usdCap: intOrNull(row.usd_cap),
    dailyUsdCap: intOrNull(row.daily_usd_cap),
    maxUsdPerCall: intOrNull(row.max_usd_per_call),
    allowedEndpoints: row.allowed_endpoints,
    connectedAccounts: row.connected_accounts,
    approvalAboveUsd: intOrNull(row.approval_above_usd),
    budgetId: row.budget_id,
    issuerId: row.issuer_id,
    budgetPath: decodePath(row.budget_path),
    createdAt: int(row.created_at),
    expiresAt: int(row.expires_at),
    status: row.status,
    revokedAt: intOrNull(row.revoked_at),
    spent: committed - reserved,
    reserved,
    uncertain: int(row.uncertain),
    spentToday: int(row.spent_today),
    calls: int(row.calls),
    deniedCalls: int(row.denied_calls),
  };
}

function toAuditRow(row: AuditDbRow): AuditRow {
  return {
    id: row.id,
    ts: int(row.ts),
    keyId: row.key_id,
    label: row.label,
    vendor: row.vendor,
    method: row.method,
    path: row.path,
    decision: row.decision,
    code: row.code,
    upstreamStatus: row.upstream_status,
    costReserved: intOrNull(row.cost_reserved),
    costSettled: intOrNull(row.cost_settled),
    settlement: row.settlement,
    idempotencyKey: row.idempotency_key,
    vendorRequestId: row.vendor_request_id,
    requestId: row.request_id,
    latencyMs: row.latency_ms,
  };
}

function toPage<R, T>(rows: R[], limit: number, cursorOf: (row: R) => string, map: (row: R) => T): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: page.map(map),
    nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null,
  };
}

function one<T>(rows: T[]): T {
  const row = rows[0];
  if (row === undefined) throw new Error('expected a row from PostgreSQL, got none');
  return row;
}

function newReservationId(): string {
  return `res_${randomUUID().replaceAll('-', '')}`;
}

/**
 * Common table expressions that append one audit row and count a denial against its key, with parameters
 * numbered from `first`. Data-modifying CTEs run whether or not the main statement matches anything, so the
 * row is written even when the settlement it accompanies turns out to be a no-op.
 */
function auditCtes(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `audit_ins AS (
      INSERT INTO audit (ts, key_id, label, vendor, method, path, decision, code, upstream_status,
        cost_reserved, cost_settled, settlement, idempotency_key, vendor_request_id, request_id, latency_ms)
      VALUES (${p(0)}::bigint, ${p(1)}::text, ${p(2)}::text, ${p(3)}::text, ${p(4)}::text, ${p(5)}::text,
        ${p(6)}::text, ${p(7)}::text, ${p(8)}::int, ${p(9)}::bigint, ${p(10)}::bigint, ${p(11)}::text,
        ${p(12)}::text, ${p(13)}::text, ${p(14)}::text, ${p(15)}::int)
      ON CONFLICT (request_id) DO UPDATE SET ${REPLACE_REAPED}
      RETURNING id
    ), audit_denied AS (
      UPDATE keys SET denied_calls = denied_calls + 1
      WHERE ${p(6)}::text = 'denied' AND id = ${p(1)}::text AND EXISTS (SELECT 1 FROM audit_ins)
    )`;
}

function auditParams(row: NewAuditRow): unknown[] {
  return [
    row.ts,
    row.keyId,
    row.label,
    row.vendor,
    row.method,
    row.path,
    row.decision,
    row.code,
    row.upstreamStatus,
    row.costReserved,
    row.costSettled,
    row.settlement,
    row.idempotencyKey,
    row.vendorRequestId,
    row.requestId,
    Math.round(row.latencyMs),
  ];
}

const statementNames = new Map<string, string>();

/** A query config for a named prepared statement (see `#q`). */
function named(text: string, values: unknown[]): pg.QueryConfig {
  return { name: statementName(text), text, values };
}

/** A stable name per SQL text, for prepared statements. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `sg_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}
