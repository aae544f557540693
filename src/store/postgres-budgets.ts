import { chainRefusal, encodePath } from './budget-chain.js';
import {
  budgetSelect,
  ISSUER_SELECT,
  LEVEL_COLUMNS,
  toBudgetLevel,
  toBudgetRecord,
  toIssuerRecord,
  type BudgetRow,
  type IssuerRow,
  type LevelRow,
} from './budget-row.js';
import {
  MAX_BUDGET_DEPTH,
  statusCondition,
  type BudgetQuery,
  type BudgetRecord,
  type BudgetRefusal,
  type IssueBudgetResult,
  type IssuerQuery,
  type IssuerRecord,
  type NewBudget,
  type NewIssuer,
  type RevokeBudgetResult,
} from './budget-types.js';
import { utcDay } from './clock.js';
import { int, type Int } from './ledger-int.js';
import type { Query } from './postgres-approvals.js';
import { NOW, TODAY } from './postgres-clock.js';
import type { Page } from './types.js';

const SELECT = budgetSelect(TODAY, 'budget_keys');

/**
 * The tail of a statement that ends reservations: `cte` is the data-modifying CTE that updated their keys,
 * returning each key's `budget_path`, the reservation's `day` and the deltas `d_committed`, `d_reserved`,
 * `d_uncertain`. Every budget above those keys moves by the same amounts, in the same statement. For keys
 * with no budget the function is called with nothing and touches no table.
 */
export function BUDGET_MOVE(cte: string): string {
  return `SELECT sg_budget_move(array_agg(budget_path), array_agg(day), array_agg(d_committed),
      array_agg(d_reserved), array_agg(d_uncertain)) AS moved
    FROM ${cte} WHERE budget_path IS NOT NULL`;
}

/**
 * The PostgreSQL store's budgets and issuers. Creating a budget locks its parent's row (FOR SHARE), so a
 * concurrent revoke of the parent either comes first (the child is refused) or waits for the child and then
 * revokes it too.
 */
export const postgresBudgets = {
  async issue(q: Query, budget: NewBudget, clock: number | null): Promise<IssueBudgetResult> {
    let path = [budget.id];
    if (budget.parentId !== null) {
      await q('SELECT 1 FROM budgets WHERE id = $1 FOR SHARE', [budget.parentId]);
      const parent = await this.get(q, budget.parentId, clock);
      if (!parent) return { ok: false, reason: 'parent_not_found', parent: null };
      const now = await this.now(q, clock);
      if (parent.status !== 'active' || parent.expiresAt <= now)
        return { ok: false, reason: 'parent_inactive', parent };
      if (budget.expiresAt > parent.expiresAt) return { ok: false, reason: 'outlives_parent', parent };
      if (parent.path.length >= MAX_BUDGET_DEPTH) return { ok: false, reason: 'too_deep', parent };
      path = [...parent.path, budget.id];
    }
    await q(
      `INSERT INTO budgets (id, parent_id, path, depth, label, metadata, usd_cap, daily_usd_cap, max_usd_per_call,
         created_at, expires_at, day, approval_above_usd)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12::date, $13)`,
      [
        budget.id,
        budget.parentId,
        encodePath(path),
        path.length,
        budget.label,
        JSON.stringify(budget.metadata),
        budget.usdCap,
        budget.dailyUsdCap,
        budget.maxUsdPerCall,
        budget.createdAt,
        budget.expiresAt,
        utcDay(budget.createdAt),
        budget.approvalAboveUsd ?? null,
      ],
    );
    const created = await this.get(q, budget.id, clock);
    if (!created) throw new Error(`budget ${budget.id} vanished after insert`);
    return { ok: true, budget: created };
  },

  async now(q: Query, clock: number | null): Promise<number> {
    const { rows } = await q<{ now: Int }>(`SELECT ${NOW} AS now`, [clock]);
    return int(rows[0]?.now ?? 0);
  },

  async get(q: Query, id: string, clock: number | null): Promise<BudgetRecord | null> {
    const { rows } = await q<BudgetRow>(`${SELECT} WHERE b.id = $2::text`, [clock, id]);
    return rows[0] ? toBudgetRecord(rows[0]) : null;
  },

  async list(q: Query, query: BudgetQuery, clock: number | null): Promise<Page<BudgetRecord>> {
    const values: unknown[] = [clock, query.limit + 1];
    const where: string[] = [];
    const add = (value: unknown, clause: (p: string) => string) => {
      if (value === undefined) return;
      values.push(value);
      where.push(clause(`$${values.length}`));
    };
    add(query.cursor === undefined ? undefined : Number(query.cursor), (p) => `b.seq < ${p}::bigint`);
    add(query.label, (p) => `b.label = ${p}::text`);
    add(query.labelPrefix, (p) => `starts_with(b.label, ${p}::text)`);
    add(query.parentId, (p) => `b.parent_id = ${p}::text`);
    if (query.status !== undefined) where.push(statusCondition('b', query.status, NOW));
    add(query.within, (p) => `strpos(b.path, '/' || ${p}::text || '/') > 0`);
    const { rows } = await q<BudgetRow>(
      `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY b.seq DESC LIMIT $2::int`,
      values,
    );
    const page = rows.slice(0, query.limit);
    return {
      data: page.map(toBudgetRecord),
      nextCursor: rows.length > query.limit ? String(page.at(-1)?.seq) : null,
    };
  },

  async revoke(q: Query, id: string, clock: number | null): Promise<RevokeBudgetResult | null> {
    const { rows } = await q<{ found: boolean; revoked_budgets: Int; revoked_keys: Int }>(
      'SELECT found, revoked_budgets, revoked_keys FROM sg_revoke_budget($1::bigint, $2::text)',
      [clock, id],
    );
    const done = rows[0];
    if (!done?.found) return null;
    // Read after the revoke has committed (a separate statement): the view then shows it revoked.
    const budget = await this.get(q, id, clock);
    return (
      budget && {
        budget,
        revokedKeys: int(done.revoked_keys),
        revokedBudgets: int(done.revoked_budgets),
      }
    );
  },

  /** Why the key's chain refuses `amount` now, for a refusal already decided; only names the reason. */
  async diagnose(
    q: Query,
    ids: readonly string[],
    amount: number,
    clock: number | null,
  ): Promise<BudgetRefusal | null> {
    const { rows } = await q<LevelRow & { today: string; now: Int }>(
      `SELECT ${LEVEL_COLUMNS}, day::text AS day, ${TODAY}::text AS today, ${NOW} AS now
       FROM budgets WHERE id = ANY ($2::text[])`,
      [clock, ids],
    );
    const first = rows[0];
    if (!first) return ids[0] ? { budgetId: ids[0], code: 'key_revoked' } : null;
    return chainRefusal({
      ids,
      levels: rows.map(toBudgetLevel),
      amount,
      now: int(first.now),
      today: first.today,
    });
  },

  async createIssuer(q: Query, issuer: NewIssuer): Promise<IssuerRecord> {
    await q(
      `INSERT INTO issuers (id, token_hash, budget_id, label, vendors, max_key_usd_cap, max_ttl_ms,
         allowed_endpoints, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, $9, $10)`,
      [
        issuer.id,
        issuer.tokenHash,
        issuer.budgetId,
        issuer.label,
        issuer.vendors && JSON.stringify(issuer.vendors),
        issuer.maxKeyUsdCap,
        issuer.maxTtlMs,
        issuer.allowedEndpoints && JSON.stringify(issuer.allowedEndpoints),
        issuer.createdAt,
        issuer.expiresAt,
      ],
    );
    const created = await this.getIssuer(q, 'i.id', issuer.id);
    if (!created) throw new Error(`issuer ${issuer.id} vanished after insert`);
    return created;
  },

  async getIssuer(q: Query, column: 'i.id' | 'i.token_hash', value: string): Promise<IssuerRecord | null> {
    const { rows } = await q<IssuerRow>(`${ISSUER_SELECT} WHERE ${column} = $1::text`, [value]);
    return rows[0] ? toIssuerRecord(rows[0]) : null;
  },

  async listIssuers(q: Query, query: IssuerQuery, clock: number | null): Promise<Page<IssuerRecord>> {
    const status = query.status === undefined ? '' : `AND ${statusCondition('i', query.status, NOW)}`;
    const { rows } = await q<IssuerRow>(
      `${ISSUER_SELECT} WHERE ($2::bigint IS NULL OR i.seq < $2::bigint)
         AND ($3::text IS NULL OR i.budget_id = $3::text)
         -- Names $1 (the clock) even when no status condition does, so that PostgreSQL knows its type.
         AND ($1::bigint IS NULL OR true) ${status}
       ORDER BY i.seq DESC LIMIT $4::int`,
      [
        clock,
        query.cursor === undefined ? null : Number(query.cursor),
        query.budgetId ?? null,
        query.limit + 1,
      ],
    );
    const page = rows.slice(0, query.limit);
    return {
      data: page.map(toIssuerRecord),
      nextCursor: rows.length > query.limit ? String(page.at(-1)?.seq) : null,
    };
  },

  async revokeIssuer(
    q: Query,
    id: string,
    clock: number | null,
  ): Promise<{ issuer: IssuerRecord; revokedKeys: number } | null> {
    // One statement: the issuer and every key it issued, so no key of a revoked issuer is left usable.
    const { rows } = await q<{ revoked: Int }>(
      `WITH iss AS (
         UPDATE issuers SET status = 'revoked', revoked_at = ${NOW} WHERE id = $2 AND status <> 'revoked'
       ), k AS (
         UPDATE keys SET status = 'revoked', revoked_at = ${NOW} WHERE issuer_id = $2 AND status <> 'revoked'
         RETURNING 1
       )
       SELECT count(*) AS revoked FROM k`,
      [clock, id],
    );
    const issuer = await this.getIssuer(q, 'i.id', id);
    return issuer && { issuer, revokedKeys: int(rows[0]?.revoked ?? 0) };
  },
};
