import type BetterSqlite3 from 'better-sqlite3';
import { APPROVAL_SELECT, statusWhere, toApprovalRecord, type ApprovalRow } from './approval-row.js';
import {
  type ApprovalCheck,
  type ApprovalQuery,
  type ApprovalRecord,
  type DecideInput,
  type DecideResult,
  type NewApproval,
  type RequestApprovalResult,
} from './approval-types.js';
import type { Page } from './types.js';

/** Prepares (once) and returns a statement on the store's connection. */
export type Sql = (text: string) => BetterSqlite3.Statement;

const SELECT = APPROVAL_SELECT;
/** The reported status, as SQL over the stored status and the expiry (`@now`). */
const STATUS_WHERE = statusWhere('@now');

/**
 * The SQLite store's approvals, as functions over its connection. The caller runs the writing ones inside
 * its `BEGIN IMMEDIATE` transaction, so a read and the write it decides cannot interleave with any other
 * process on the file.
 */
export const sqliteApprovals = {
  request(sql: Sql, input: NewApproval, now: number): RequestApprovalResult {
    if (!sql('SELECT 1 FROM keys WHERE id = ?').get(input.keyId))
      return { ok: false, reason: 'key_not_found' };
    const pending = sql(
      `${SELECT} WHERE a.key_id = ? AND a.fingerprint = ? AND a.status = 'pending' AND a.expires_at > ?`,
    ).get(input.keyId, input.fingerprint, now) as ApprovalRow | undefined;
    if (pending) return { ok: true, approval: toRecord(pending, now) };
    const { waiting } = sql(
      `SELECT count(*) AS waiting FROM approvals WHERE key_id = ? AND status = 'pending' AND expires_at > ?`,
    ).get(input.keyId, now) as { waiting: number };
    if (waiting >= input.maxPending) return { ok: false, reason: 'too_many_pending' };
    sql(
      `INSERT INTO approvals (id, key_id, method, path, fingerprint, account, amount, status, created_at, expires_at)
       VALUES (@id, @keyId, @method, @path, @fingerprint, @account, @amount, 'pending', @now, @expiresAt)`,
    ).run({
      id: input.id,
      keyId: input.keyId,
      method: input.method,
      path: input.path,
      fingerprint: input.fingerprint,
      account: input.account,
      amount: input.amount,
      now,
      expiresAt: now + input.ttlMs,
    });
    const approval = this.get(sql, input.id, now);
    return approval ? { ok: true, approval } : { ok: false, reason: 'key_not_found' };
  },

  get(sql: Sql, id: string, now: number): ApprovalRecord | null {
    const row = sql(`${SELECT} WHERE a.id = ?`).get(id) as ApprovalRow | undefined;
    return row ? toRecord(row, now) : null;
  },

  list(sql: Sql, query: ApprovalQuery, now: number): Page<ApprovalRecord> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: query.limit + 1, now };
    if (query.cursor !== undefined) {
      where.push('a.seq < @cursor');
      params.cursor = Number(query.cursor);
    }
    if (query.keyId !== undefined) {
      where.push('a.key_id = @keyId');
      params.keyId = query.keyId;
    }
    if (query.label !== undefined) {
      where.push('k.label = @label');
      params.label = query.label;
    }
    if (query.within !== undefined) {
      where.push(`instr(k.budget_path, '/' || @within || '/') > 0`);
      params.within = query.within;
    }
    if (query.status !== undefined) where.push(STATUS_WHERE[query.status]);
    const text = `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.seq DESC LIMIT @limit`;
    const rows = sql(text).all(params) as ApprovalRow[];
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      data: page.map((row) => toRecord(row, now)),
      nextCursor: rows.length > query.limit && last ? String(last.seq) : null,
    };
  },

  decide(sql: Sql, input: DecideInput, now: number): DecideResult {
    // The status and expiry are the guard: only one decision moves an approval off 'pending'.
    const changed =
      input.decision === 'denied'
        ? sql(
            `UPDATE approvals SET status = 'denied', decided_at = @now
             WHERE id = @id AND status = 'pending' AND expires_at > @now`,
          ).run({ id: input.id, now })
        : sql(
            `UPDATE approvals SET status = 'approved', decided_at = @now, grant_hash = @grantHash,
               expires_at = @now + @grantTtlMs
             WHERE id = @id AND status = 'pending' AND expires_at > @now`,
          ).run({ id: input.id, now, grantHash: input.grantHash, grantTtlMs: input.grantTtlMs });
    const approval = this.get(sql, input.id, now);
    if (!approval) return { ok: false, reason: 'not_found' };
    return changed.changes === 1 ? { ok: true, approval } : { ok: false, reason: 'not_pending', approval };
  },

  /** The id of the grant this call may spend, or why it may not; nothing changes until `markUsed`. */
  check(
    sql: Sql,
    keyId: string,
    check: ApprovalCheck,
    now: number,
  ): { ok: true; id: string } | { ok: false; code: 'approval_required' | 'approval_invalid' } {
    if (check.grantHash === null) return { ok: false, code: 'approval_required' };
    const row = sql(
      `SELECT id FROM approvals WHERE grant_hash = ? AND key_id = ? AND fingerprint = ?
         AND status = 'approved' AND expires_at > ?`,
    ).get(check.grantHash, keyId, check.fingerprint, now) as { id: string } | undefined;
    return row ? { ok: true, id: row.id } : { ok: false, code: 'approval_invalid' };
  },

  markUsed(sql: Sql, id: string, reservationId: string, now: number): void {
    sql(
      `UPDATE approvals SET status = 'used', used_at = ?, reservation_id = ? WHERE id = ? AND status = 'approved'`,
    ).run(now, reservationId, id);
  },
};

const toRecord = toApprovalRecord;
