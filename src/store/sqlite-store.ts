import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type { Clock } from './clock.js';
import { systemClock, utcDay } from './clock.js';
import { capRefusal } from './cap-check.js';
import { IDEMPOTENCY_WINDOW_MS } from './idempotency-window.js';
import { reapedAuditRow, REPLACE_REAPED } from './reaped.js';
import { importPeer, type PeerSpec } from '../run/peer-import.js';
import { sqliteApprovals } from './sqlite-approvals.js';
import { sqliteBudgets } from './sqlite-budgets.js';
import { budgetGoneError, decodePath } from './budget-chain.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';
import type {
  AbandonInput,
  ApprovalQuery,
  ApprovalRecord,
  DecideInput,
  DecideResult,
  NewApproval,
  RequestApprovalResult,
  ReserveRefusal,
  AuditQuery,
  AuditRow,
  BudgetQuery,
  BudgetRecord,
  BulkRevokeFilter,
  IssueBudgetResult,
  IssuerQuery,
  IssuerRecord,
  KeyQuery,
  NewBudget,
  NewIssuer,
  RevokeBudgetResult,
  KeyRecord,
  NewAuditRow,
  NewKey,
  Page,
  ReserveInput,
  ReserveResult,
  SettleInput,
  FinishInput,
  ReservationQuery,
  ReservationRecord,
  ResolveInput,
  ResolveResult,
  Settlement,
  Store,
} from './types.js';

/** The driver is an optional peer of spendgate: the agent tools never need it. */
const SQLITE_PEER: PeerSpec = {
  entry: 'The SQLite ledger',
  packages: ['better-sqlite3'],
  install: 'better-sqlite3 (or start the proxy with: npx @spendgate/proxy serve)',
};

export interface SqliteStoreOptions {
  /** A file path, or `:memory:`. */
  readonly filename: string;
  readonly now?: Clock;
  /** How long a writer waits for another process's lock before failing, in ms. */
  readonly busyTimeoutMs?: number;
}

interface KeyRow {
  seq: number;
  id: string;
  token_hash: string;
  vendor: string;
  label: string | null;
  metadata: string;
  usd_cap: number | null;
  daily_usd_cap: number | null;
  max_usd_per_call: number | null;
  allowed_endpoints: string;
  connected_accounts: string;
  approval_above_usd: number | null;
  budget_id: string | null;
  budget_path: string | null;
  issuer_id: string | null;
  created_at: number;
  expires_at: number;
  status: 'active' | 'revoked';
  revoked_at: number | null;
  committed: number;
  reserved: number;
  uncertain: number;
  day: string;
  day_committed: number;
  calls: number;
  denied_calls: number;
}

interface GroupedWrite {
  readonly fn: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface ReservationRow {
  id: string;
  key_id: string;
  amount: number;
  day: string;
  status: string;
  fingerprint: string | null;
  created_at: number;
}

/**
 * The default ledger: one SQLite file in WAL mode. better-sqlite3 is synchronous, so each method's
 * transaction runs to completion without yielding; `BEGIN IMMEDIATE` takes the write lock up front so that
 * several processes on one file also serialise their reservations.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #options: SqliteStoreOptions;
  readonly #now: Clock;
  #db: BetterSqlite3.Database | undefined;
  /** Prepared once per SQL text: preparing costs more than running these short statements. */
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  /** The writes asked for in this turn of the event loop, committed together at its end. */
  #group: GroupedWrite[] | undefined;

  constructor(options: SqliteStoreOptions) {
    this.#options = options;
    this.#now = options.now ?? systemClock;
  }

  async init(): Promise<void> {
    const { default: Database } = await importPeer(() => import('better-sqlite3'), SQLITE_PEER);
    const db = new Database(this.#options.filename);
    db.pragma('journal_mode = WAL');
    // FULL: a reservation is fsynced before its call is forwarded. NORMAL would let a power cut forget a
    // committed reservation whose call had already moved money.
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${this.#options.busyTimeoutMs ?? 5000}`);
    db.pragma('foreign_keys = ON');
    // A hot ledger is small but the audit log grows: 16 MiB (not 2) keeps the indexes hot; 64 MiB held RSS
    // above 200 MB under load without a faster audit query or throughput (bench/README.md, budgets session).
    db.pragma('cache_size = -16384');
    const migrate = db.transaction(() => {
      const version = db.pragma('user_version', { simple: true }) as number;
      for (let v = version; v < SQLITE_MIGRATIONS.length; v += 1) {
        db.exec(SQLITE_MIGRATIONS[v] ?? '');
        db.pragma(`user_version = ${v + 1}`);
      }
    });
    migrate.immediate();
    this.#db = db;
  }

  async ping(): Promise<void> {
    this.#sql('SELECT 1').get();
  }

  async close(): Promise<void> {
    // Writes already asked for are committed (or failed) before the file closes.
    if (this.#group && this.#db) this.#commitGroup(this.#group);
    this.#statements.clear();
    this.#db?.close();
    this.#db = undefined;
  }

  #sql(text: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.#conn.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /**
   * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT`, together with every other write asked for in the same turn of
   * the event loop: one transaction, so one fsync, for the whole group (group commit). Each write runs in its
   * own savepoint, in the order asked, against the effects of the writes before it, so each keeps its own
   * verdict and a cap is as exact as with one transaction per write. Each promise settles only once the group
   * has committed: a reservation is on disk before its call can be forwarded. better-sqlite3 is synchronous,
   * so the group runs without anything else in this process in between, and the write lock taken up front
   * serialises other processes on the file. The statements are prepared once, unlike `db.transaction()`,
   * which builds new wrappers on every call.
   */
  #immediate<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.#group) {
        const group: GroupedWrite[] = [];
        this.#group = group;
        setImmediate(() => this.#commitGroup(group));
      }
      this.#group.push({ fn, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  #commitGroup(pending: GroupedWrite[]): void {
    if (this.#group === pending) this.#group = undefined;
    // Taken out of the array: a group committed early (by close) is empty when its own turn comes.
    const group = pending.splice(0);
    if (group.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.#sql('BEGIN IMMEDIATE').run();
      for (const write of group) outcomes.push(this.#inSavepoint(write.fn));
      this.#sql('COMMIT').run();
    } catch (error) {
      // Nothing of the group is on disk: every write fails, as it would have alone.
      if (this.#db?.inTransaction) this.#sql('ROLLBACK').run();
      for (const write of group) write.reject(error);
      return;
    }
    group.forEach((write, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) write.resolve(outcome.value);
      else write.reject(outcome?.error);
    });
  }

  /**
   * Commits the writes already asked for, now: an admin read (a key's spend, the audit log) then sees every
   * write this process was asked for before it. The hot path's key lookup does not wait: `reserve` checks
   * everything again in its own write.
   */
  #readYourWrites(): void {
    if (this.#group && this.#group.length > 0) this.#commitGroup(this.#group);
  }

  /** One write of a group: its statements take effect together or not at all. */
  #inSavepoint(fn: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
    this.#sql('SAVEPOINT sg_write').run();
    try {
      const value = fn();
      this.#sql('RELEASE sg_write').run();
      return { ok: true, value };
    } catch (error) {
      this.#sql('ROLLBACK TO sg_write').run();
      this.#sql('RELEASE sg_write').run();
      return { ok: false, error };
    }
  }

  get #conn(): BetterSqlite3.Database {
    if (!this.#db) throw new Error('SqliteStore used before init() or after close()');
    return this.#db;
  }

  async issueKey(key: NewKey): Promise<KeyRecord> {
    // One statement: the budget is checked (active, unexpired, not outlived) and its path copied in the same
    // step as the insert, so a revoke of the budget from any process is either before (no key) or after (the
    // revoke sees the key).
    const inserted = this.#sql(
      `INSERT INTO keys (id, token_hash, vendor, label, metadata, usd_cap, daily_usd_cap, max_usd_per_call,
           allowed_endpoints, connected_accounts, approval_above_usd, created_at, expires_at, day, budget_id,
           budget_path, issuer_id)
         SELECT @id, @tokenHash, @vendor, @label, @metadata, @usdCap, @dailyUsdCap, @maxUsdPerCall,
           @allowedEndpoints, @connectedAccounts, @approvalAboveUsd, @createdAt, @expiresAt, @day, @budgetId,
           (SELECT path FROM budgets WHERE id = @budgetId), @issuerId
         WHERE @budgetId IS NULL OR EXISTS (
           SELECT 1 FROM budgets WHERE id = @budgetId AND status = 'active' AND expires_at > @now
             AND expires_at >= @expiresAt)`,
    ).run({
      ...key,
      approvalAboveUsd: key.approvalAboveUsd ?? null,
      budgetId: key.budgetId ?? null,
      issuerId: key.issuerId ?? null,
      now: this.#now(),
      metadata: JSON.stringify(key.metadata),
      allowedEndpoints: JSON.stringify(key.allowedEndpoints),
      connectedAccounts: JSON.stringify(key.connectedAccounts),
      day: utcDay(key.createdAt),
    });
    if (inserted.changes === 0 && key.budgetId) throw budgetGoneError(key.budgetId);
    return this.#mustGet(key.id);
  }

  async getKey(id: string): Promise<KeyRecord | null> {
    this.#readYourWrites();
    const row = this.#sql('SELECT * FROM keys WHERE id = ?').get(id) as KeyRow | undefined;
    return row ? this.#toRecord(row) : null;
  }

  async findKeyByTokenHash(tokenHash: string): Promise<KeyRecord | null> {
    const row = this.#sql('SELECT * FROM keys WHERE token_hash = ?').get(tokenHash) as KeyRow | undefined;
    return row ? this.#toRecord(row) : null;
  }

  async listKeys(query: KeyQuery): Promise<Page<KeyRecord>> {
    this.#readYourWrites();
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: query.limit + 1 };
    if (query.cursor !== undefined) {
      where.push('seq < @cursor');
      params.cursor = Number(query.cursor);
    }
    if (query.label !== undefined) {
      where.push('label = @label');
      params.label = query.label;
    }
    if (query.labelPrefix !== undefined) {
      where.push('substr(label, 1, length(@prefix)) = @prefix');
      params.prefix = query.labelPrefix;
    }
    if (query.status !== undefined) {
      where.push('status = @status');
      params.status = query.status;
    }
    if (query.vendor !== undefined) {
      where.push('vendor = @vendor');
      params.vendor = query.vendor;
    }
    if (query.budgetId !== undefined) {
      where.push('budget_id = @budgetId');
      params.budgetId = query.budgetId;
    }
    if (query.within !== undefined) {
      where.push(`instr(budget_path, '/' || @within || '/') > 0`);
      params.within = query.within;
    }
    const sql = `SELECT * FROM keys ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
    const rows = this.#sql(sql).all(params) as KeyRow[];
    const page = rows.slice(0, query.limit);
    return {
      data: page.map((row) => this.#toRecord(row)),
      nextCursor: rows.length > query.limit ? String(page.at(-1)?.seq) : null,
    };
  }

  async revokeKey(id: string): Promise<KeyRecord | null> {
    this.#sql(`UPDATE keys SET status = 'revoked', revoked_at = ? WHERE id = ? AND status <> 'revoked'`).run(
      this.#now(),
      id,
    );
    return this.getKey(id);
  }

  async revokeKeys(filter: BulkRevokeFilter): Promise<number> {
    const now = this.#now();
    return this.#immediate(() => {
      const rows = this.#sql(
        `SELECT id, label, metadata FROM keys WHERE status = 'active'
           AND (@within IS NULL OR instr(budget_path, '/' || @within || '/') > 0)`,
      ).all({ within: filter.within ?? null }) as Pick<KeyRow, 'id' | 'label' | 'metadata'>[];
      const revoke = this.#sql(`UPDATE keys SET status = 'revoked', revoked_at = ? WHERE id = ?`);
      let count = 0;
      for (const row of rows) {
        if (filter.label !== undefined && row.label !== filter.label) continue;
        if (
          filter.labelPrefix !== undefined &&
          (row.label === null || !row.label.startsWith(filter.labelPrefix))
        ) {
          continue;
        }
        if (filter.metadata) {
          const metadata = JSON.parse(row.metadata) as Record<string, string>;
          if (!Object.entries(filter.metadata).every(([k, v]) => metadata[k] === v)) continue;
        }
        revoke.run(now, row.id);
        count += 1;
      }
      return count;
    });
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const now = this.#now();
    const today = utcDay(now);
    return this.#immediate((): ReserveResult => {
      const claim = input.idempotency;
      let existing: ReservationRow | undefined;
      if (claim) {
        existing = this.#sql('SELECT * FROM reservations WHERE key_id = ? AND idempotency_key = ?').get(
          input.keyId,
          claim.key,
        ) as ReservationRow | undefined;
        // A claim older than the vendor's memory of it is no claim: the repeat is a new operation.
        if (existing && now - existing.created_at >= IDEMPOTENCY_WINDOW_MS) {
          this.#sql('UPDATE reservations SET idempotency_key = NULL WHERE id = ?').run(existing.id);
          existing = undefined;
        }
      }
      if (existing && claim) {
        const key = this.#sql('SELECT * FROM keys WHERE id = ?').get(input.keyId) as KeyRow | undefined;
        const status = key ? statusRefusal(key, now) : 'key_invalid';
        if (status) return { ok: false, code: status, key: key ? this.#toRecord(key) : null };
        if (existing.fingerprint !== claim.fingerprint) {
          return { ok: false, code: 'idempotency_mismatch', key: key ? this.#toRecord(key) : null };
        }
        if (existing.status === 'reserved') {
          return { ok: false, code: 'idempotency_key_in_use', key: this.#toRecord(key as KeyRow) };
        }
        if (existing.status !== 'released') {
          // The replay forwards the call again: the original instance's abandon must not release it now.
          this.#sql('UPDATE reservations SET instance_id = NULL WHERE id = ?').run(existing.id);
          return { ok: true, reservationId: existing.id, replay: true, key: this.#toRecord(key as KeyRow) };
        }
      }
      // After the claim checks (a replay reserves nothing new, so it needs no grant) and the caps (a person is
      // never asked about a call that could not go through anyway).
      const sql = (text: string) => this.#sql(text);
      let grant: ReturnType<typeof sqliteApprovals.check> | null = null;
      if (input.approval) {
        const blocked = this.#refusalFor(input, now, today);
        if (blocked) return blocked;
        grant = sqliteApprovals.check(sql, input.keyId, input.approval, now);
        if (!grant.ok) return this.#refused(input.keyId, grant.code);
      }
      // The budget chain is read and checked under the write lock, so nothing can change it before the
      // increments below; a key with no budget skips it.
      const budgetPath = decodePath(
        (this.#sql('SELECT budget_path FROM keys WHERE id = ?').get(input.keyId) as KeyRow | undefined)
          ?.budget_path ?? null,
      );
      const budgetRefusal = this.#budgetRefusal(input, budgetPath, now);
      if (budgetRefusal) return budgetRefusal;
      // The decision and the increment are one statement: every condition is in the WHERE clause.
      const updated = this.#sql(
        `UPDATE keys SET
             committed = committed + @amount,
             reserved = reserved + @amount,
             day_committed = CASE WHEN day = @today THEN day_committed + @amount ELSE @amount END,
             day = @today,
             calls = calls + 1
           WHERE id = @id AND status = 'active' AND expires_at > @now
             AND (max_usd_per_call IS NULL OR @amount <= max_usd_per_call)
             AND (usd_cap IS NULL OR committed + @amount <= usd_cap)
             AND (daily_usd_cap IS NULL
                  OR (CASE WHEN day = @today THEN day_committed ELSE 0 END) + @amount <= daily_usd_cap)
           RETURNING *`,
      ).get({ id: input.keyId, amount: input.amount, today, now }) as KeyRow | undefined;
      if (!updated) return this.#diagnose(input, now, today);
      if (budgetPath.length > 0) sqliteBudgets.hold(sql, budgetPath, input.amount, today);
      // A released claim gets a fresh reservation: every attempt has its own id, so a late, replayed finish
      // of an earlier attempt (the journal's) can never touch this one.
      if (existing) this.#sql('DELETE FROM reservations WHERE id = ?').run(existing.id);
      const reservationId = `res_${randomUUID().replaceAll('-', '')}`;
      this.#sql(
        `INSERT INTO reservations (id, key_id, amount, day, status, idempotency_key, fingerprint, created_at,
           instance_id, request_id)
         VALUES (@id, @keyId, @amount, @day, 'reserved', @idem, @fingerprint, @now, @instanceId, @requestId)`,
      ).run({
        instanceId: input.instanceId ?? null,
        requestId: input.requestId ?? null,
        id: reservationId,
        keyId: input.keyId,
        amount: input.amount,
        day: today,
        idem: claim?.key ?? null,
        fingerprint: claim?.fingerprint ?? null,
        now,
      });
      if (grant?.ok) sqliteApprovals.markUsed(sql, grant.id, reservationId, now);
      return { ok: true, reservationId, replay: false, key: this.#toRecord(updated) };
    });
  }

  async settle(input: SettleInput): Promise<void> {
    // One IMMEDIATE transaction holds the write lock from the read to the writes, so nothing interleaves.
    await this.#immediate(() => {
      if (input.audit) this.#insertAudit(input.audit);
      const res = this.#sql(
        `SELECT * FROM reservations WHERE id = ? AND status IN ('reserved', 'uncertain')`,
      ).get(input.reservationId) as ReservationRow | undefined;
      if (!res) return;
      this.#sql(
        `UPDATE reservations SET status = 'settled', amount = ?, object_id = coalesce(?, object_id) WHERE id = ?`,
      ).run(input.amount, input.objectId ?? null, res.id);
      this.#moveKeyTotals({
        keyId: res.key_id,
        day: res.day,
        committed: input.amount - res.amount,
        reserved: res.status === 'reserved' ? -res.amount : 0,
        uncertain: res.status === 'uncertain' ? -res.amount : 0,
      });
    });
  }

  /**
   * Moves a reservation's money between its key's totals, as every way a reservation ends does: `committed`
   * by `committed` (and today's share by the same, when the reservation is of the key's current day), and
   * the in-flight and uncertain parts by theirs. Runs inside the caller's write.
   */
  #moveKeyTotals(move: {
    readonly keyId: string;
    /** The reservation's UTC day; only a change of `committed` reads it. */
    readonly day: string;
    readonly committed?: number;
    readonly reserved?: number;
    readonly uncertain?: number;
  }): void {
    const amounts = {
      day: move.day,
      committed: move.committed ?? 0,
      reserved: move.reserved ?? 0,
      uncertain: move.uncertain ?? 0,
    };
    const key = this.#sql(
      `UPDATE keys SET
         committed = committed + @committed,
         reserved = reserved + @reserved,
         uncertain = uncertain + @uncertain,
         day_committed = CASE WHEN day = @day THEN max(0, day_committed + @committed) ELSE day_committed END
       WHERE id = @keyId RETURNING budget_path`,
    ).get({ keyId: move.keyId, ...amounts }) as Pick<KeyRow, 'budget_path'> | undefined;
    // Every level of the key's budget chain moves by the same amounts, in the same write.
    const path = decodePath(key?.budget_path ?? null);
    if (path.length > 0) sqliteBudgets.move((text) => this.#sql(text), path, amounts);
  }

  #budgetRefusal(
    input: ReserveInput,
    path: readonly string[],
    now: number,
  ): Extract<ReserveResult, { ok: false }> | null {
    if (path.length === 0) return null;
    const refusal = sqliteBudgets.refusal((text) => this.#sql(text), path, input.amount, now);
    return refusal && { ...this.#refused(input.keyId, refusal.code), ...refusal };
  }

  async hasObject(input: { readonly keyId: string; readonly objectId: string }): Promise<boolean> {
    const row = this.#sql(
      `SELECT 1 FROM reservations WHERE key_id = ? AND object_id = ? AND status <> 'released' LIMIT 1`,
    ).get(input.keyId, input.objectId);
    return row !== undefined;
  }

  async release(input: FinishInput): Promise<void> {
    await this.#immediate(() => {
      if (input.audit) this.#insertAudit(input.audit);
      const res = this.#sql(
        `UPDATE reservations SET status = 'released' WHERE id = ? AND status = 'reserved' RETURNING *`,
      ).get(input.reservationId) as ReservationRow | undefined;
      if (!res) return;
      this.#moveKeyTotals({ keyId: res.key_id, day: res.day, committed: -res.amount, reserved: -res.amount });
    });
  }

  async abandon(input: AbandonInput): Promise<void> {
    await this.#immediate(() => {
      if (input.audit) this.#insertAudit(input.audit);
      // Both arms are covered by a partial index (in flight by instance, uncertain by request id).
      const res = this.#sql(
        `SELECT * FROM reservations
         WHERE (status = 'reserved' AND instance_id = @instanceId AND request_id = @requestId)
            OR (status = 'uncertain' AND request_id = @requestId AND instance_id = @instanceId)`,
      ).get(input) as (ReservationRow & { key_id: string }) | undefined;
      if (!res) return;
      this.#sql(`UPDATE reservations SET status = 'released' WHERE id = ?`).run(res.id);
      this.#moveKeyTotals({
        keyId: res.key_id,
        day: res.day,
        committed: -res.amount,
        reserved: res.status === 'reserved' ? -res.amount : 0,
        uncertain: res.status === 'uncertain' ? -res.amount : 0,
      });
    });
  }

  async markUncertain(input: FinishInput): Promise<void> {
    await this.#immediate(() => {
      if (input.audit) this.#insertAudit(input.audit);
      const res = this.#sql(
        `UPDATE reservations SET status = 'uncertain' WHERE id = ? AND status = 'reserved' RETURNING *`,
      ).get(input.reservationId) as ReservationRow | undefined;
      if (!res) return;
      this.#moveKeyTotals({ keyId: res.key_id, day: res.day, reserved: -res.amount, uncertain: res.amount });
    });
  }

  async resolveUncertain(input: ResolveInput): Promise<ResolveResult> {
    return this.#immediate((): ResolveResult => {
      const res = this.#sql('SELECT * FROM reservations WHERE id = ?').get(input.reservationId) as
        ReservationRow | undefined;
      if (!res) return { ok: false, reason: 'not_found' };
      if (res.status !== 'uncertain') {
        return { ok: false, reason: 'not_uncertain', status: res.status as Settlement };
      }
      if (input.audit) this.#insertAudit(input.audit);
      const amount = input.outcome === 'released' ? 0 : (input.amount ?? res.amount);
      this.#sql('UPDATE reservations SET status = ?, amount = ? WHERE id = ?').run(
        input.outcome,
        amount,
        res.id,
      );
      this.#moveKeyTotals({
        keyId: res.key_id,
        day: res.day,
        committed: amount - res.amount,
        uncertain: -res.amount,
      });
      return { ok: true, keyId: res.key_id, amount };
    });
  }

  async heartbeat(input: { readonly instanceId: string; readonly leaseMs: number }): Promise<void> {
    await this.#immediate(() => {
      this.#sql(
        `INSERT INTO instances (id, expires_at) VALUES (?, ?)
         ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`,
      ).run(input.instanceId, this.#now() + input.leaseMs);
    });
  }

  async reapExpired(): Promise<number> {
    const now = this.#now();
    // BEGIN IMMEDIATE holds the write lock: one reaper at a time, even across processes on one file.
    return this.#immediate(() => {
      const stale = this.#sql(
        `SELECT r.id, r.key_id, r.amount, r.request_id, k.label, k.vendor
         FROM reservations r JOIN keys k ON k.id = r.key_id
         WHERE r.status = 'reserved' AND r.instance_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = r.instance_id AND i.expires_at > ?)`,
      ).all(now) as Array<{
        id: string;
        key_id: string;
        amount: number;
        request_id: string | null;
        label: string | null;
        vendor: string;
      }>;
      for (const res of stale) {
        this.#sql(`UPDATE reservations SET status = 'uncertain' WHERE id = ?`).run(res.id);
        this.#moveKeyTotals({ keyId: res.key_id, day: '', reserved: -res.amount, uncertain: res.amount });
        this.#insertAudit(reapedAuditRow({ ...res, keyId: res.key_id, requestId: res.request_id, now }));
      }
      return stale.length;
    });
  }

  async listReservations(query: ReservationQuery): Promise<ReservationRecord[]> {
    this.#readYourWrites();
    const rows = this.#sql(
      `SELECT id, key_id, amount, status, created_at FROM reservations
       WHERE (@keyId IS NULL OR key_id = @keyId) AND (@status IS NULL OR status = @status)
       ORDER BY created_at LIMIT @limit`,
    ).all({ keyId: query.keyId ?? null, status: query.status ?? null, limit: query.limit }) as Array<{
      id: string;
      key_id: string;
      amount: number;
      status: Settlement;
      created_at: number;
    }>;
    return rows.map((r) => ({
      id: r.id,
      keyId: r.key_id,
      amount: r.amount,
      status: r.status,
      createdAt: r.created_at,
    }));
  }

  async appendAudit(row: NewAuditRow): Promise<AuditRow> {
    const id = await this.#immediate(() => this.#insertAudit(row));
    return { ...row, id };
  }

  /**
   * Inserts one audit row (and counts a denial against its key); the caller holds the transaction. A row
   * whose request id is already there is a replay: nothing is added or counted twice.
   */
  #insertAudit(row: NewAuditRow): string {
    const result = this.#sql(
      `INSERT INTO audit (ts, key_id, label, vendor, method, path, decision, code, upstream_status,
         cost_reserved, cost_settled, settlement, idempotency_key, vendor_request_id, request_id, latency_ms)
       VALUES (@ts, @keyId, @label, @vendor, @method, @path, @decision, @code, @upstreamStatus,
         @costReserved, @costSettled, @settlement, @idempotencyKey, @vendorRequestId, @requestId, @latencyMs)
       ON CONFLICT (request_id) DO UPDATE SET ${REPLACE_REAPED}
       RETURNING id`,
    ).get({ ...row, latencyMs: Math.round(row.latencyMs) }) as { id: number } | undefined;
    if (result === undefined) {
      const seen = this.#sql('SELECT id FROM audit WHERE request_id = ?').get(row.requestId) as {
        id: number;
      };
      return String(seen.id);
    }
    if (row.decision === 'denied' && row.keyId) {
      this.#sql('UPDATE keys SET denied_calls = denied_calls + 1 WHERE id = ?').run(row.keyId);
    }
    return String(result.id);
  }

  async queryAudit(query: AuditQuery): Promise<Page<AuditRow>> {
    this.#readYourWrites();
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: query.limit + 1 };
    const add = (clause: string, name: string, value: unknown) => {
      if (value === undefined) return;
      where.push(clause);
      params[name] = value;
    };
    add('id < @cursor', 'cursor', query.cursor === undefined ? undefined : Number(query.cursor));
    add('key_id = @keyId', 'keyId', query.keyId);
    add('label = @label', 'label', query.label);
    add('substr(label, 1, length(@prefix)) = @prefix', 'prefix', query.labelPrefix);
    add('vendor = @vendor', 'vendor', query.vendor);
    add('decision = @decision', 'decision', query.decision);
    add('ts >= @since', 'since', query.since);
    add('ts < @until', 'until', query.until);
    add(
      `key_id IN (SELECT id FROM keys WHERE instr(budget_path, '/' || @within || '/') > 0)`,
      'within',
      query.within,
    );
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    const rows = (this.#sql(sql).all(params) as Record<string, unknown>[]).map(toAuditRow);
    const page = rows.slice(0, query.limit);
    return { data: page, nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null };
  }

  #diagnose(input: ReserveInput, now: number, today: string): ReserveResult {
    return this.#refusalFor(input, now, today) ?? this.#refused(input.keyId, 'cap_exhausted');
  }

  /** Why `reserve` would refuse the call (status, expiry, per-call limit, caps), or `null` when it fits. */
  #refusalFor(input: ReserveInput, now: number, today: string): Extract<ReserveResult, { ok: false }> | null {
    const row = this.#sql('SELECT * FROM keys WHERE id = ?').get(input.keyId) as KeyRow | undefined;
    if (!row) return { ok: false, code: 'key_invalid', key: null };
    const key = this.#toRecord(row);
    const status = statusRefusal(row, now);
    if (status) return { ok: false, code: status, key };
    const refusal = capRefusal({
      amount: input.amount,
      committed: row.committed,
      dayCommitted: row.day === today ? row.day_committed : 0,
      usdCap: row.usd_cap,
      dailyUsdCap: row.daily_usd_cap,
      maxUsdPerCall: row.max_usd_per_call,
    });
    if (refusal) return { ok: false, ...refusal, key };
    return this.#budgetRefusal(input, decodePath(row.budget_path), now);
  }

  #refused(keyId: string, code: ReserveRefusal): Extract<ReserveResult, { ok: false }> {
    const row = this.#sql('SELECT * FROM keys WHERE id = ?').get(keyId) as KeyRow | undefined;
    return { ok: false, code: row ? code : 'key_invalid', key: row ? this.#toRecord(row) : null };
  }

  async requestApproval(input: NewApproval): Promise<RequestApprovalResult> {
    const now = this.#now();
    return this.#immediate(() => sqliteApprovals.request((text) => this.#sql(text), input, now));
  }

  async getApproval(id: string): Promise<ApprovalRecord | null> {
    this.#readYourWrites();
    return sqliteApprovals.get((text) => this.#sql(text), id, this.#now());
  }

  async listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    this.#readYourWrites();
    return sqliteApprovals.list((text) => this.#sql(text), query, this.#now());
  }

  async decideApproval(input: DecideInput): Promise<DecideResult> {
    const now = this.#now();
    return this.#immediate(() => sqliteApprovals.decide((text) => this.#sql(text), input, now));
  }

  async issueBudget(budget: NewBudget): Promise<IssueBudgetResult> {
    const now = this.#now();
    return this.#immediate(() => sqliteBudgets.issue((text) => this.#sql(text), budget, now));
  }

  async getBudget(id: string): Promise<BudgetRecord | null> {
    this.#readYourWrites();
    return sqliteBudgets.get((text) => this.#sql(text), id, this.#now());
  }

  async listBudgets(query: BudgetQuery): Promise<Page<BudgetRecord>> {
    this.#readYourWrites();
    return sqliteBudgets.list((text) => this.#sql(text), query, this.#now());
  }

  async revokeBudget(id: string): Promise<RevokeBudgetResult | null> {
    const now = this.#now();
    return this.#immediate(() => sqliteBudgets.revoke((text) => this.#sql(text), id, now));
  }

  async createIssuer(issuer: NewIssuer): Promise<IssuerRecord> {
    return this.#immediate(() => sqliteBudgets.createIssuer((text) => this.#sql(text), issuer));
  }

  async getIssuer(id: string): Promise<IssuerRecord | null> {
    this.#readYourWrites();
    return sqliteBudgets.getIssuer((text) => this.#sql(text), 'i.id', id);
  }

  async findIssuerByTokenHash(tokenHash: string): Promise<IssuerRecord | null> {
    this.#readYourWrites();
    return sqliteBudgets.getIssuer((text) => this.#sql(text), 'i.token_hash', tokenHash);
  }

  async listIssuers(query: IssuerQuery): Promise<Page<IssuerRecord>> {
    this.#readYourWrites();
    return sqliteBudgets.listIssuers((text) => this.#sql(text), query, this.#now());
  }

  async revokeIssuer(id: string): Promise<{ issuer: IssuerRecord; revokedKeys: number } | null> {
    const now = this.#now();
    return this.#immediate(() => sqliteBudgets.revokeIssuer((text) => this.#sql(text), id, now));
  }

  #mustGet(id: string): KeyRecord {
    const row = this.#sql('SELECT * FROM keys WHERE id = ?').get(id) as KeyRow | undefined;
    if (!row) throw new Error(`key ${id} vanished after insert`);
    return this.#toRecord(row);
  }

  #toRecord(row: KeyRow): KeyRecord {
    const today = utcDay(this.#now());
    return {
      id: row.id,
      tokenHash: row.token_hash,
      vendor: row.vendor,
      label: row.label,
      metadata: JSON.parse(row.metadata) as Record<string, string>,
      usdCap: row.usd_cap,
      dailyUsdCap: row.daily_usd_cap,
      maxUsdPerCall: row.max_usd_per_call,
      allowedEndpoints: JSON.parse(row.allowed_endpoints) as string[],
      connectedAccounts: JSON.parse(row.connected_accounts) as string[],
      approvalAboveUsd: row.approval_above_usd,
      budgetId: row.budget_id,
      issuerId: row.issuer_id,
      budgetPath: decodePath(row.budget_path),
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      status: row.status,
      revokedAt: row.revoked_at,
      spent: row.committed - row.reserved,
      reserved: row.reserved,
      uncertain: row.uncertain,
      spentToday: row.day === today ? row.day_committed : 0,
      calls: row.calls,
      deniedCalls: row.denied_calls,
    };
  }
}

function statusRefusal(
  row: Pick<KeyRow, 'status' | 'expires_at'>,
  now: number,
): 'key_revoked' | 'key_expired' | null {
  if (row.status === 'revoked') return 'key_revoked';
  if (row.expires_at <= now) return 'key_expired';
  return null;
}

function toAuditRow(row: Record<string, unknown>): AuditRow {
  return {
    id: String(row.id),
    ts: row.ts as number,
    keyId: row.key_id as string | null,
    label: row.label as string | null,
    vendor: row.vendor as string | null,
    method: row.method as string,
    path: row.path as string,
    decision: row.decision as AuditRow['decision'],
    code: row.code as string | null,
    upstreamStatus: row.upstream_status as number | null,
    costReserved: row.cost_reserved as number | null,
    costSettled: row.cost_settled as number | null,
    settlement: row.settlement as AuditRow['settlement'],
    idempotencyKey: row.idempotency_key as string | null,
    vendorRequestId: row.vendor_request_id as string | null,
    requestId: row.request_id as string,
    latencyMs: row.latency_ms as number,
  };
}
