import type { Micros } from '../money.js';

/** How deep budgets may nest: a root budget is depth 1. */
export const MAX_BUDGET_DEPTH = 8;

export type BudgetStatus = 'active' | 'revoked';

/** What the proxy needs to create a budget: a pot of money that keys (and child budgets) draw from. */
export interface NewBudget {
  readonly id: string;
  /** `null` for a root budget. Fixed at creation, so the tree can never hold a cycle. */
  readonly parentId: string | null;
  readonly label: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly usdCap: Micros | null;
  readonly dailyUsdCap: Micros | null;
  readonly maxUsdPerCall: Micros | null;
  /**
   * Keys issued below this budget take the lowest threshold of their own and their chain's: a call estimated
   * above it needs a person's grant. Fixed at creation, like every cap of a budget.
   */
  readonly approvalAboveUsd?: Micros | null | undefined;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface BudgetRecord extends NewBudget {
  readonly approvalAboveUsd: Micros | null;
  /** The budget's ancestors and itself, root first. */
  readonly path: readonly string[];
  readonly status: BudgetStatus;
  readonly revokedAt: number | null;
  /** Settled plus uncertain spend of every key below this budget (as on a key). */
  readonly spent: Micros;
  readonly reserved: Micros;
  readonly uncertain: Micros;
  readonly spentToday: Micros;
  /** Keys issued directly under this budget, and budgets whose parent it is. */
  readonly keys: number;
  readonly childBudgets: number;
}

/**
 * Why a budget was not created. The store checks the parent in the same step as the insert: it exists, is
 * active and unexpired, the new budget does not outlive it, and the tree stays within MAX_BUDGET_DEPTH.
 */
export type IssueBudgetResult =
  | { readonly ok: true; readonly budget: BudgetRecord }
  | {
      readonly ok: false;
      readonly reason: 'parent_not_found' | 'parent_inactive' | 'outlives_parent' | 'too_deep';
      readonly parent: BudgetRecord | null;
    };

export interface BudgetQuery {
  readonly label?: string | undefined;
  readonly labelPrefix?: string | undefined;
  readonly parentId?: string | undefined;
  /** `expired`: active but past its expiry, as a read reports it; `active` leaves those out. */
  readonly status?: BudgetStatus | 'expired' | undefined;
  /** Only budgets in this budget's subtree (itself included): an issuer token's scope. */
  readonly within?: string | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface RevokeBudgetResult {
  readonly budget: BudgetRecord;
  /** Keys this call revoked (keys already revoked are not counted again). */
  readonly revokedKeys: number;
  /** Budgets this call revoked, the budget itself included when it was still active. */
  readonly revokedBudgets: number;
}

/** The part of a key's budget chain that refused a reservation. */
export interface BudgetRefusal {
  readonly budgetId: string;
  readonly code: 'key_revoked' | 'key_expired' | 'per_call_limit_exceeded' | 'cap_exhausted';
  readonly cap?: 'usd_cap' | 'daily_usd_cap';
}

/** An issuer: a token that may issue keys and child budgets inside one budget's subtree, within ceilings. */
export interface NewIssuer {
  readonly id: string;
  readonly tokenHash: string;
  readonly budgetId: string;
  readonly label: string | null;
  /** Vendors its keys may be for; `null`: any. */
  readonly vendors: readonly string[] | null;
  /** The most `usd_cap` or `daily_usd_cap` a key it issues may have; `null`: no ceiling beyond the budget. */
  readonly maxKeyUsdCap: Micros | null;
  /** The longest TTL a key (or budget) it issues may have, in ms; `null`: the server's maximum. */
  readonly maxTtlMs: number | null;
  /** Each entry of a key it issues must be matched by one of these; `null`: any. */
  readonly allowedEndpoints: readonly string[] | null;
  readonly createdAt: number;
  readonly expiresAt: number | null;
}

export interface IssuerRecord extends NewIssuer {
  readonly status: 'active' | 'revoked';
  readonly revokedAt: number | null;
  /** The issuer's budget's path, root first: its scope is every budget whose path starts with this. */
  readonly budgetPath: readonly string[];
}

export interface IssuerQuery {
  readonly budgetId?: string | undefined;
  /** As for budgets: `expired` is active but past its expiry, and `active` leaves those out. */
  readonly status?: 'active' | 'revoked' | 'expired' | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** The SQL condition for a reported status, over `alias.status` and `alias.expires_at` (NULL: never). */
export function statusCondition(
  alias: string,
  status: 'active' | 'revoked' | 'expired',
  now: string,
): string {
  if (status === 'revoked') return `${alias}.status = 'revoked'`;
  const live = `(${alias}.expires_at IS NULL OR ${alias}.expires_at > ${now})`;
  return `${alias}.status = 'active' AND ${status === 'active' ? live : `NOT ${live}`}`;
}

/** The same, in JavaScript, for the memory store. */
export function hasStatus(
  row: { readonly status: 'active' | 'revoked'; readonly expiresAt: number | null },
  status: 'active' | 'revoked' | 'expired',
  now: number,
): boolean {
  if (status === 'revoked') return row.status === 'revoked';
  const live = row.expiresAt === null || row.expiresAt > now;
  return row.status === 'active' && live === (status === 'active');
}
