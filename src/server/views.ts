import { microsToUsd } from '../money.js';
import type { ApprovalRecord, AuditRow, KeyRecord } from '../store/types.js';

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
    status: key.status,
    created_at: iso(key.createdAt),
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
  };
}

export function keyWithSpendView(key: KeyRecord, now: number): Record<string, unknown> {
  return {
    ...keyView(key),
    status: key.status === 'active' && key.expiresAt <= now ? 'expired' : key.status,
    spent_usd: microsToUsd(key.spent),
    spent_today_usd: microsToUsd(key.spentToday),
    reserved_usd: microsToUsd(key.reserved),
    uncertain_usd: microsToUsd(key.uncertain),
    remaining_usd: usd(remainingMicros(key)),
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
