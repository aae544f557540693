import { spendgateError, type SpendgateError } from '../errors/index.js';
import type { Micros } from '../money.js';
import type { BudgetRefusal } from './budget-types.js';
import { capRefusal } from './cap-check.js';

/**
 * A budget's place in its tree as the SQL stores keep it: `/root/…/self/`. A subtree is every path that
 * starts with its root's path, so one prefix comparison finds it; ids never contain `/`.
 */
export function encodePath(ids: readonly string[]): string {
  return `/${ids.join('/')}/`;
}

export function decodePath(path: string | null): string[] {
  return path === null ? [] : path.split('/').filter((id) => id.length > 0);
}

/** What a budget's row holds that a reservation is checked against. */
export interface BudgetLevel {
  readonly id: string;
  readonly status: 'active' | 'revoked';
  readonly expiresAt: number;
  /** Settled, uncertain and in flight, over the budget's life. */
  readonly committed: Micros;
  readonly day: string;
  readonly dayCommitted: Micros;
  readonly usdCap: Micros | null;
  readonly dailyUsdCap: Micros | null;
  readonly maxUsdPerCall: Micros | null;
}

/**
 * The first level of a key's budget chain (root first) that refuses `amount`, or `null` when every level
 * admits it. The stores that decide in JavaScript call this while they hold the ledger (memory: one
 * synchronous turn; SQLite: inside `BEGIN IMMEDIATE`), so the check and the increment that follows are one
 * step. A missing level (fewer rows than ids) refuses as revoked: a chain is never partly checked.
 */
export function chainRefusal(input: {
  readonly ids: readonly string[];
  readonly levels: readonly BudgetLevel[];
  readonly amount: Micros;
  readonly now: number;
  readonly today: string;
}): BudgetRefusal | null {
  const byId = new Map(input.levels.map((level) => [level.id, level]));
  for (const id of input.ids) {
    const level = byId.get(id);
    if (!level || level.status !== 'active') return { budgetId: id, code: 'key_revoked' };
    if (level.expiresAt <= input.now) return { budgetId: id, code: 'key_expired' };
    const refusal = capRefusal({
      amount: input.amount,
      committed: level.committed,
      dayCommitted: level.day === input.today ? level.dayCommitted : 0,
      usdCap: level.usdCap,
      dailyUsdCap: level.dailyUsdCap,
      maxUsdPerCall: level.maxUsdPerCall,
    });
    if (refusal) return { budgetId: id, ...refusal };
  }
  return null;
}

/**
 * What a store throws when the budget a key is issued under is gone, revoked or expired by the time the key
 * is written, or would be outlived: the proxy checked it just before, so this is a race it lost (a revoke
 * in between), and the key is not created.
 */
export function budgetGoneError(budgetId: string): SpendgateError {
  return spendgateError(
    'parent_inactive',
    `Budget ${budgetId} is revoked or expired, or expires before this key`,
    {
      param: 'budget_id',
    },
  );
}
