import { decodePath, type BudgetLevel } from './budget-chain.js';
import type { BudgetRecord, IssuerRecord } from './budget-types.js';
import { int, intOrNull, type Int } from './ledger-int.js';

/** A `budgets` row as both SQL stores select it (BUDGET_SELECT), with its counts and today's spend. */
export interface BudgetRow {
  seq: Int;
  id: string;
  parent_id: string | null;
  path: string;
  label: string | null;
  metadata: string | Record<string, string>;
  usd_cap: Int | null;
  daily_usd_cap: Int | null;
  max_usd_per_call: Int | null;
  approval_above_usd: Int | null;
  created_at: Int;
  expires_at: Int;
  status: 'active' | 'revoked';
  revoked_at: Int | null;
  committed: Int;
  reserved: Int;
  uncertain: Int;
  spent_today: Int;
  key_count: Int;
  child_count: Int;
}

/**
 * The columns a budget is read with. `today` is how the store writes the current UTC day in SQL, so the
 * daily figure is computed by the same clock that decides; `keyTable` is where the store finds a budget's
 * keys by `budget_id`.
 */
export function budgetSelect(today: string, keyTable: string): string {
  return `SELECT b.seq, b.id, b.parent_id, b.path, b.label, b.metadata, b.usd_cap, b.daily_usd_cap,
      b.max_usd_per_call, b.approval_above_usd, b.created_at, b.expires_at, b.status, b.revoked_at, b.committed, b.reserved,
      b.uncertain, CASE WHEN b.day = ${today} THEN b.day_committed ELSE 0 END AS spent_today,
      (SELECT count(*) FROM ${keyTable} k WHERE k.budget_id = b.id) AS key_count,
      (SELECT count(*) FROM budgets c WHERE c.parent_id = b.id) AS child_count
    FROM budgets b`;
}

export function toBudgetRecord(row: BudgetRow): BudgetRecord {
  const committed = int(row.committed);
  const reserved = int(row.reserved);
  return {
    id: row.id,
    parentId: row.parent_id,
    path: decodePath(row.path),
    label: row.label,
    metadata:
      typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as Record<string, string>) : row.metadata,
    usdCap: intOrNull(row.usd_cap),
    dailyUsdCap: intOrNull(row.daily_usd_cap),
    maxUsdPerCall: intOrNull(row.max_usd_per_call),
    approvalAboveUsd: intOrNull(row.approval_above_usd),
    createdAt: int(row.created_at),
    expiresAt: int(row.expires_at),
    status: row.status,
    revokedAt: intOrNull(row.revoked_at),
    spent: committed - reserved,
    reserved,
    uncertain: int(row.uncertain),
    spentToday: int(row.spent_today),
    keys: int(row.key_count),
    childBudgets: int(row.child_count),
  };
}

/** An `issuers` row joined with its budget's path, as both SQL stores select it. */
export interface IssuerRow {
  seq: Int;
  id: string;
  token_hash: string;
  budget_id: string;
  label: string | null;
  vendors: string | string[] | null;
  max_key_usd_cap: Int | null;
  max_ttl_ms: Int | null;
  allowed_endpoints: string | string[] | null;
  created_at: Int;
  expires_at: Int | null;
  status: 'active' | 'revoked';
  revoked_at: Int | null;
  budget_path: string | null;
}

export const ISSUER_SELECT = `SELECT i.*, b.path AS budget_path FROM issuers i LEFT JOIN budgets b ON b.id = i.budget_id`;

const list = (value: string | string[] | null): string[] | null =>
  value === null ? null : typeof value === 'string' ? (JSON.parse(value) as string[] | null) : value;

export function toIssuerRecord(row: IssuerRow): IssuerRecord {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    budgetId: row.budget_id,
    label: row.label,
    vendors: list(row.vendors),
    maxKeyUsdCap: intOrNull(row.max_key_usd_cap),
    maxTtlMs: intOrNull(row.max_ttl_ms),
    allowedEndpoints: list(row.allowed_endpoints),
    createdAt: int(row.created_at),
    expiresAt: intOrNull(row.expires_at),
    status: row.status,
    revokedAt: intOrNull(row.revoked_at),
    budgetPath: row.budget_path === null ? [row.budget_id] : decodePath(row.budget_path),
  };
}

/** A budget's row as both SQL stores read it to check a reservation against it (`LEVEL_COLUMNS`). */
export interface LevelRow {
  id: string;
  status: 'active' | 'revoked';
  expires_at: Int;
  committed: Int;
  /** The UTC day as `YYYY-MM-DD` (PostgreSQL selects it `::text`). */
  day: string;
  day_committed: Int;
  usd_cap: Int | null;
  daily_usd_cap: Int | null;
  max_usd_per_call: Int | null;
}

export const LEVEL_COLUMNS =
  'id, status, expires_at, committed, day_committed, usd_cap, daily_usd_cap, max_usd_per_call';

export function toBudgetLevel(row: LevelRow): BudgetLevel {
  return {
    id: row.id,
    status: row.status,
    expiresAt: int(row.expires_at),
    committed: int(row.committed),
    day: row.day,
    dayCommitted: int(row.day_committed),
    usdCap: intOrNull(row.usd_cap),
    dailyUsdCap: intOrNull(row.daily_usd_cap),
    maxUsdPerCall: intOrNull(row.max_usd_per_call),
  };
}
