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
import type { Sql } from './sqlite-approvals.js';
import type { Page } from './types.js';

const SELECT = budgetSelect('@today', 'keys');

/** The budgets of a subtree: every path that holds the root's id as one of its segments. */
const IN_SUBTREE = `instr(b.path, '/' || @within || '/') > 0`;

/** How a reservation's end moves money between the totals of each budget above its key. */
export interface SqliteBudgetMove {
  readonly day: string;
  readonly committed: number;
  readonly reserved: number;
  readonly uncertain: number;
}

/**
 * The SQLite store's budgets and issuers, as functions over its connection. The writing ones run inside
 * the store's `BEGIN IMMEDIATE` group, which holds the file's write lock: a chain is read, checked and
 * incremented with no other writer in between, in this process or any other.
 */
export const sqliteBudgets = {
  issue(sql: Sql, budget: NewBudget, now: number): IssueBudgetResult {
    let path = [budget.id];
    if (budget.parentId !== null) {
      const parent = this.get(sql, budget.parentId, now);
      if (!parent) return { ok: false, reason: 'parent_not_found', parent: null };
      if (parent.status !== 'active' || parent.expiresAt <= now)
        return { ok: false, reason: 'parent_inactive', parent };
      if (budget.expiresAt > parent.expiresAt) return { ok: false, reason: 'outlives_parent', parent };
      if (parent.path.length >= MAX_BUDGET_DEPTH) return { ok: false, reason: 'too_deep', parent };
      path = [...parent.path, budget.id];
    }
    sql(
      `INSERT INTO budgets (id, parent_id, path, depth, label, metadata, usd_cap, daily_usd_cap, max_usd_per_call,
         approval_above_usd, created_at, expires_at, day)
       VALUES (@id, @parentId, @path, @depth, @label, @metadata, @usdCap, @dailyUsdCap, @maxUsdPerCall,
         @approvalAboveUsd, @createdAt, @expiresAt, @day)`,
    ).run({
      ...budget,
      approvalAboveUsd: budget.approvalAboveUsd ?? null,
      path: encodePath(path),
      depth: path.length,
      metadata: JSON.stringify(budget.metadata),
      day: utcDay(budget.createdAt),
    });
    const created = this.get(sql, budget.id, now);
    if (!created) throw new Error(`budget ${budget.id} vanished after insert`);
    return { ok: true, budget: created };
  },

  get(sql: Sql, id: string, now: number): BudgetRecord | null {
    const row = sql(`${SELECT} WHERE b.id = @id`).get({ id, today: utcDay(now) }) as BudgetRow | undefined;
    return row ? toBudgetRecord(row) : null;
  },

  list(sql: Sql, query: BudgetQuery, now: number): Page<BudgetRecord> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: query.limit + 1, today: utcDay(now), now };
    const add = (clause: string, name: string, value: unknown) => {
      if (value === undefined) return;
      where.push(clause);
      params[name] = value;
    };
    add('b.seq < @cursor', 'cursor', query.cursor === undefined ? undefined : Number(query.cursor));
    add('b.label = @label', 'label', query.label);
    add('substr(b.label, 1, length(@prefix)) = @prefix', 'prefix', query.labelPrefix);
    add('b.parent_id = @parentId', 'parentId', query.parentId);
    if (query.status !== undefined) where.push(statusCondition('b', query.status, '@now'));
    add(IN_SUBTREE, 'within', query.within);
    const text = `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY b.seq DESC LIMIT @limit`;
    const rows = sql(text).all(params) as BudgetRow[];
    const page = rows.slice(0, query.limit);
    return {
      data: page.map(toBudgetRecord),
      nextCursor: rows.length > query.limit ? String(page.at(-1)?.seq) : null,
    };
  },

  /** The path (`/root/…/id/`) a key issued under `budgetId` records. */
  pathOf(sql: Sql, budgetId: string): string {
    const row = sql('SELECT path FROM budgets WHERE id = ?').get(budgetId) as { path: string } | undefined;
    if (!row) throw new Error(`no budget ${budgetId}`);
    return row.path;
  },

  revoke(sql: Sql, id: string, now: number): RevokeBudgetResult | null {
    if (!sql('SELECT 1 FROM budgets WHERE id = ?').get(id)) return null;
    const budgets = sql(
      `UPDATE budgets AS b SET status = 'revoked', revoked_at = @now WHERE ${IN_SUBTREE} AND status <> 'revoked'`,
    ).run({ now, within: id }).changes;
    const keys = sql(
      `UPDATE keys SET status = 'revoked', revoked_at = @now
       WHERE status <> 'revoked'
         AND budget_id IN (SELECT b.id FROM budgets b WHERE ${IN_SUBTREE})`,
    ).run({ now, within: id }).changes;
    const budget = this.get(sql, id, now);
    return budget && { budget, revokedKeys: keys, revokedBudgets: budgets };
  },

  /** The first level of the chain (`ids`, root first) that refuses `amount`, read inside the write lock. */
  refusal(sql: Sql, ids: readonly string[], amount: number, now: number): BudgetRefusal | null {
    const rows = sql(
      `SELECT ${LEVEL_COLUMNS}, day FROM budgets WHERE id IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(ids)) as LevelRow[];
    return chainRefusal({ ids, levels: rows.map(toBudgetLevel), amount, now, today: utcDay(now) });
  },

  /** Adds a new reservation to every level of the chain; only after `refusal` found none, in the same write. */
  hold(sql: Sql, ids: readonly string[], amount: number, today: string): void {
    sql(
      `UPDATE budgets SET
         committed = committed + @amount,
         reserved = reserved + @amount,
         day_committed = CASE WHEN day = @today THEN day_committed + @amount ELSE @amount END,
         day = @today
       WHERE id IN (SELECT value FROM json_each(@ids))`,
    ).run({ ids: JSON.stringify(ids), amount, today });
  },

  move(sql: Sql, ids: readonly string[], move: SqliteBudgetMove): void {
    sql(
      `UPDATE budgets SET
         committed = committed + @committed,
         reserved = reserved + @reserved,
         uncertain = uncertain + @uncertain,
         day_committed = CASE WHEN day = @day THEN max(0, day_committed + @committed) ELSE day_committed END
       WHERE id IN (SELECT value FROM json_each(@ids))`,
    ).run({ ids: JSON.stringify(ids), ...move });
  },

  createIssuer(sql: Sql, issuer: NewIssuer): IssuerRecord {
    sql(
      `INSERT INTO issuers (id, token_hash, budget_id, label, vendors, max_key_usd_cap, max_ttl_ms,
         allowed_endpoints, created_at, expires_at)
       VALUES (@id, @tokenHash, @budgetId, @label, @vendors, @maxKeyUsdCap, @maxTtlMs, @allowedEndpoints,
         @createdAt, @expiresAt)`,
    ).run({
      ...issuer,
      vendors: issuer.vendors && JSON.stringify(issuer.vendors),
      allowedEndpoints: issuer.allowedEndpoints && JSON.stringify(issuer.allowedEndpoints),
    });
    const created = this.getIssuer(sql, 'i.id', issuer.id);
    if (!created) throw new Error(`issuer ${issuer.id} vanished after insert`);
    return created;
  },

  getIssuer(sql: Sql, column: 'i.id' | 'i.token_hash', value: string): IssuerRecord | null {
    const row = sql(`${ISSUER_SELECT} WHERE ${column} = ?`).get(value) as IssuerRow | undefined;
    return row ? toIssuerRecord(row) : null;
  },

  listIssuers(sql: Sql, query: IssuerQuery, now: number): Page<IssuerRecord> {
    const status = query.status === undefined ? '' : `AND ${statusCondition('i', query.status, '@now')}`;
    const rows = sql(
      `${ISSUER_SELECT} WHERE (@cursor IS NULL OR i.seq < @cursor)
         AND (@budgetId IS NULL OR i.budget_id = @budgetId) ${status}
       ORDER BY i.seq DESC LIMIT @limit`,
    ).all({
      cursor: query.cursor === undefined ? null : Number(query.cursor),
      budgetId: query.budgetId ?? null,
      now,
      limit: query.limit + 1,
    }) as IssuerRow[];
    const page = rows.slice(0, query.limit);
    return {
      data: page.map(toIssuerRecord),
      nextCursor: rows.length > query.limit ? String(page.at(-1)?.seq) : null,
    };
  },

  revokeIssuer(sql: Sql, id: string, now: number): { issuer: IssuerRecord; revokedKeys: number } | null {
    sql(`UPDATE issuers SET status = 'revoked', revoked_at = ? WHERE id = ? AND status <> 'revoked'`).run(
      now,
      id,
    );
    const issuer = this.getIssuer(sql, 'i.id', id);
    if (!issuer) return null;
    const revokedKeys = sql(
      `UPDATE keys SET status = 'revoked', revoked_at = ? WHERE issuer_id = ? AND status <> 'revoked'`,
    ).run(issuer.revokedAt ?? now, id).changes;
    return { issuer, revokedKeys };
  },
};
