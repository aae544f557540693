import { microsToUsd } from '../money.js';
import type { ApprovalRecord, AuditRow, BudgetRecord, IssuerRecord, KeyRecord } from '../store/types.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const usd = (micros: number | null) => (micros === null ? null : microsToUsd(micros));

/** What is left before the tightest cap: lifetime cap minus committed, daily cap minus today's. */
export function remainingMicros(key: KeyRecord): number | null {
  const limits: number[] = [];
  if (key.usdCap !== null) limits.push(key.usdCap - key.spent - key.reserved);
  if (key.dailyUsdCap !== null) limits.push(key.dailyUsdCap - key.spentToday);
  return limits.length === 0 ? null : Math.max(0, Math.min(...limits));
}

/** A key as the admin API shows it. Never includes the token or its hash. */
export function keyView(key: KeyRecord): Record<string, unknown> {
  return {
    id: key.id,
    vendor: key.vendor,
    label: key.label,
    metadata: key.metadata,
    daily_usd_cap: usd(key.dailyUsdCap),
    usd_cap: usd(key.usdCap),
    max_usd_per_call: usd(key.maxUsdPerCall),
    allowed_endpoints: key.allowedEndpoints,
    connected_accounts: key.connectedAccounts,
    approval_above_usd: usd(key.approvalAboveUsd),
    budget_id: key.budgetId,
    issuer_id: key.issuerId,
    status: key.status,
    created_at: iso(key.createdAt),
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
  };
}

/**
 * A key with its spend. `chain` is the key's budgets (root first), when it has any: what is left is then
 * the least that the key or any of them has left.
 */
export function keyWithSpendView(
  key: KeyRecord,
  now: number,
  chain: readonly BudgetRecord[] = [],
): Record<string, unknown> {
  const own = remainingMicros(key);
  const left = [own, chainRemainingMicros(chain)].filter((m): m is number => m !== null);
  return {
    ...keyView(key),
    status: key.status === 'active' && key.expiresAt <= now ? 'expired' : key.status,
    spent_usd: microsToUsd(key.spent),
    spent_today_usd: microsToUsd(key.spentToday),
    reserved_usd: microsToUsd(key.reserved),
    uncertain_usd: microsToUsd(key.uncertain),
    remaining_usd: usd(left.length === 0 ? null : Math.min(...left)),
    calls: key.calls,
    denied_calls: key.deniedCalls,
  };
}

export function auditView(row: AuditRow): Record<string, unknown> {
  return {
    id: `aud_${row.id}`,
    ts: iso(row.ts),
    key_id: row.keyId,
    label: row.label,
    vendor: row.vendor,
    method: row.method,
    path: row.path,
    decision: row.decision,
    code: row.code,
    upstream_status: row.upstreamStatus,
    cost_usd_reserved: usd(row.costReserved),
    cost_usd_settled: usd(row.costSettled),
    settlement: row.settlement,
    idempotency_key: row.idempotencyKey,
    vendor_request_id: row.vendorRequestId,
    request_id: row.requestId,
    latency_ms: row.latencyMs,
  };
}

/** An approval as the admin API and the `approval_required` refusal show it. Never includes the grant. */
export function approvalView(approval: ApprovalRecord): Record<string, unknown> {
  return {
    id: approval.id,
    status: approval.status,
    key_id: approval.keyId,
    label: approval.label,
    vendor: approval.vendor,
    method: approval.method,
    path: approval.path,
    account: approval.account,
    amount_usd: microsToUsd(approval.amount),
    created_at: iso(approval.createdAt),
    expires_at: iso(approval.expiresAt),
    decided_at: iso(approval.decidedAt),
    used_at: iso(approval.usedAt),
    reservation_id: approval.reservationId,
  };
}

/** What is left before a budget's tightest cap, or `null` when it has none of its own. */
export function budgetRemainingMicros(budget: BudgetRecord): number | null {
  const limits: number[] = [];
  if (budget.usdCap !== null) limits.push(budget.usdCap - budget.spent - budget.reserved);
  if (budget.dailyUsdCap !== null) limits.push(budget.dailyUsdCap - budget.spentToday);
  return limits.length === 0 ? null : Math.max(0, Math.min(...limits));
}

/** The least that any budget of a chain has left; `null` for an empty chain or one with no caps. */
export function chainRemainingMicros(chain: readonly BudgetRecord[]): number | null {
  const left = chain.map(budgetRemainingMicros).filter((m): m is number => m !== null);
  return left.length === 0 ? null : Math.min(...left);
}

/** A budget as the admin API shows it; `chain` is its ancestors and itself, root first. */
export function budgetView(
  budget: BudgetRecord,
  now: number,
  chain: readonly BudgetRecord[],
): Record<string, unknown> {
  return {
    id: budget.id,
    parent_id: budget.parentId,
    label: budget.label,
    metadata: budget.metadata,
    usd_cap: usd(budget.usdCap),
    daily_usd_cap: usd(budget.dailyUsdCap),
    max_usd_per_call: usd(budget.maxUsdPerCall),
    approval_above_usd: usd(budget.approvalAboveUsd),
    status: budget.status === 'active' && budget.expiresAt <= now ? 'expired' : budget.status,
    depth: budget.path.length,
    created_at: iso(budget.createdAt),
    expires_at: iso(budget.expiresAt),
    revoked_at: iso(budget.revokedAt),
    spent_usd: microsToUsd(budget.spent),
    spent_today_usd: microsToUsd(budget.spentToday),
    reserved_usd: microsToUsd(budget.reserved),
    uncertain_usd: microsToUsd(budget.uncertain),
    remaining_usd: usd(chainRemainingMicros(chain)),
    keys: budget.keys,
    child_budgets: budget.childBudgets,
  };
}

/** An issuer as the admin API shows it. Never includes the token or its hash. */
export function issuerView(issuer: IssuerRecord, now: number): Record<string, unknown> {
  const expired = issuer.status === 'active' && issuer.expiresAt !== null && issuer.expiresAt <= now;
  return {
    id: issuer.id,
    budget_id: issuer.budgetId,
    label: issuer.label,
    vendors: issuer.vendors,
    max_key_usd_cap: usd(issuer.maxKeyUsdCap),
    max_ttl: issuer.maxTtlMs === null ? null : Math.floor(issuer.maxTtlMs / 1000),
    allowed_endpoints: issuer.allowedEndpoints,
    status: expired ? 'expired' : issuer.status,
    created_at: iso(issuer.createdAt),
    expires_at: iso(issuer.expiresAt),
    revoked_at: iso(issuer.revokedAt),
  };
}
