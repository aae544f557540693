import type pg from 'pg';
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
import { int, type Int } from './ledger-int.js';
import { NOW } from './postgres-clock.js';
import type { Page } from './types.js';

/** Runs one statement: on the pool, or on a transaction's client. Where a statement needs the time, $1 is the clock (see NOW). */
export type Query = <R extends pg.QueryResultRow>(
  text: string,
  values: unknown[],
) => Promise<pg.QueryResult<R>>;

/** With the instant the statement read, so the reported status uses the ledger's clock. */
type ApprovalRowAt = ApprovalRow & { now: Int };

const SELECT = APPROVAL_SELECT.replace('SELECT a.*,', `SELECT a.*, ${NOW} AS now,`);

/** The reported status, as SQL over the stored status and the expiry. */
const STATUS_WHERE = statusWhere(NOW);

/**
 * The PostgreSQL store's approvals. `request` runs in a transaction that locks the key's row, so two copies
 * of one call cannot both create a pending approval; `check` and `markUsed` run inside the reserving
 * transaction, after that same lock, which is what makes a grant single-use across instances.
 */
export const postgresApprovals = {
  async request(q: Query, input: NewApproval, clock: number | null): Promise<RequestApprovalResult> {
    const key = await q(`SELECT id FROM keys WHERE id = $1 FOR UPDATE`, [input.keyId]);
    if (key.rowCount === 0) return { ok: false, reason: 'key_not_found' };
    const pending = await q<ApprovalRowAt>(
      `${SELECT} WHERE a.key_id = $2 AND a.fingerprint = $3 AND ${STATUS_WHERE.pending}`,
      [clock, input.keyId, input.fingerprint],
    );
    if (pending.rows[0]) return { ok: true, approval: toRecord(pending.rows[0]) };
    const { rows } = await q<{ waiting: Int }>(
      `SELECT count(*) AS waiting FROM approvals a WHERE a.key_id = $2 AND ${STATUS_WHERE.pending}`,
      [clock, input.keyId],
    );
    if (int(rows[0]?.waiting ?? 0) >= input.maxPending) return { ok: false, reason: 'too_many_pending' };
    await q(
      `INSERT INTO approvals (id, key_id, method, path, fingerprint, account, amount, status, created_at, expires_at)
       VALUES ($2, $3, $4, $5, $6, $7, $8, 'pending', ${NOW}, ${NOW} + $9::bigint)`,
      [
        clock,
        input.id,
        input.keyId,
        input.method,
        input.path,
        input.fingerprint,
        input.account,
        input.amount,
        input.ttlMs,
      ],
    );
    const approval = await this.get(q, input.id, clock);
    return approval ? { ok: true, approval } : { ok: false, reason: 'key_not_found' };
  },

  async get(q: Query, id: string, clock: number | null): Promise<ApprovalRecord | null> {
    const { rows } = await q<ApprovalRowAt>(`${SELECT} WHERE a.id = $2`, [clock, id]);
    return rows[0] ? toRecord(rows[0]) : null;
  },

  async list(q: Query, query: ApprovalQuery, clock: number | null): Promise<Page<ApprovalRecord>> {
    const values: unknown[] = [clock, query.limit + 1];
    const where: string[] = [];
    const add = (value: unknown, clause: (placeholder: string) => string) => {
      values.push(value);
      where.push(clause(`$${values.length}`));
    };
    if (query.cursor !== undefined) add(Number(query.cursor), (p) => `a.seq < ${p}::bigint`);
    if (query.keyId !== undefined) add(query.keyId, (p) => `a.key_id = ${p}`);
    if (query.label !== undefined) add(query.label, (p) => `k.label = ${p}`);
    if (query.within !== undefined) add(query.within, (p) => `strpos(k.budget_path, '/' || ${p} || '/') > 0`);
    if (query.status !== undefined) where.push(STATUS_WHERE[query.status]);
    const { rows } = await q<ApprovalRowAt>(
      `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.seq DESC LIMIT $2`,
      values,
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      data: page.map(toRecord),
      nextCursor: rows.length > query.limit && last ? String(last.seq) : null,
    };
  },

  async decide(q: Query, input: DecideInput, clock: number | null): Promise<DecideResult> {
    // One statement: the status and expiry are the guard, so only one decision moves it off 'pending'.
    const changed =
      input.decision === 'denied'
        ? await q(
            `UPDATE approvals SET status = 'denied', decided_at = ${NOW}
             WHERE id = $2 AND status = 'pending' AND expires_at > ${NOW}`,
            [clock, input.id],
          )
        : await q(
            `UPDATE approvals SET status = 'approved', decided_at = ${NOW}, grant_hash = $3,
               expires_at = ${NOW} + $4::bigint
             WHERE id = $2 AND status = 'pending' AND expires_at > ${NOW}`,
            [clock, input.id, input.grantHash, input.grantTtlMs],
          );
    const approval = await this.get(q, input.id, clock);
    if (!approval) return { ok: false, reason: 'not_found' };
    return changed.rowCount === 1 ? { ok: true, approval } : { ok: false, reason: 'not_pending', approval };
  },

  /** The id of the grant this call may spend, or why it may not; nothing changes until `markUsed`. */
  async check(
    q: Query,
    keyId: string,
    check: ApprovalCheck,
    clock: number | null,
  ): Promise<{ ok: true; id: string } | { ok: false; code: 'approval_required' | 'approval_invalid' }> {
    if (check.grantHash === null) return { ok: false, code: 'approval_required' };
    const { rows } = await q<{ id: string }>(
      `SELECT id FROM approvals WHERE grant_hash = $2 AND key_id = $3 AND fingerprint = $4
         AND status = 'approved' AND expires_at > ${NOW}`,
      [clock, check.grantHash, keyId, check.fingerprint],
    );
    return rows[0] ? { ok: true, id: rows[0].id } : { ok: false, code: 'approval_invalid' };
  },

  async markUsed(q: Query, id: string, reservationId: string, clock: number | null): Promise<void> {
    await q(
      `UPDATE approvals SET status = 'used', used_at = ${NOW}, reservation_id = $3
       WHERE id = $2 AND status = 'approved'`,
      [clock, id, reservationId],
    );
  },
};

function toRecord(row: ApprovalRowAt): ApprovalRecord {
  return toApprovalRecord(row, int(row.now));
}
