import { z } from 'zod';
import type {
  Approval,
  ApprovalGrant,
  AuditRow,
  IssuedVaultKey,
  RevokedKey,
  VaultKey,
  VaultKeyWithSpend,
} from './types.js';

/**
 * The admin API's JSON, validated and turned into the client's camelCase types. Validation is loose about
 * extra fields (a newer proxy may add some) and strict about the ones the client relies on.
 */

const date = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const usd = z.number().nullable();

const keyFields = {
  id: z.string(),
  vendor: z.string(),
  label: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  usd_cap: usd,
  daily_usd_cap: usd,
  max_usd_per_call: usd,
  // Optional: a proxy from before approvals does not send it.
  approval_above_usd: usd.optional(),
  allowed_endpoints: z.array(z.string()),
  status: z.enum(['active', 'revoked', 'expired']),
  created_at: date,
  expires_at: date,
  revoked_at: date.nullable().optional(),
};

type KeyWire = z.output<z.ZodObject<typeof keyFields>>;

const toKey = (k: KeyWire): VaultKey => ({
  id: k.id,
  vendor: k.vendor,
  label: k.label,
  metadata: k.metadata,
  usdCap: k.usd_cap,
  dailyUsdCap: k.daily_usd_cap,
  maxUsdPerCall: k.max_usd_per_call,
  approvalAboveUsd: k.approval_above_usd ?? null,
  allowedEndpoints: k.allowed_endpoints,
  status: k.status,
  createdAt: k.created_at,
  expiresAt: k.expires_at,
  revokedAt: k.revoked_at ?? null,
});

export const issuedKeyWire = z
  .object({ ...keyFields, token: z.string().min(1) })
  .transform((k): IssuedVaultKey => ({ ...toKey(k), token: k.token }));

export const keyWithSpendWire = z
  .object({
    ...keyFields,
    spent_usd: z.number(),
    spent_today_usd: z.number(),
    reserved_usd: z.number(),
    remaining_usd: usd,
    calls: z.number().int(),
    denied_calls: z.number().int(),
  })
  .transform((k): VaultKeyWithSpend => ({
    ...toKey(k),
    spentUsd: k.spent_usd,
    spentTodayUsd: k.spent_today_usd,
    reservedUsd: k.reserved_usd,
    remainingUsd: k.remaining_usd,
    calls: k.calls,
    deniedCalls: k.denied_calls,
  }));

export const keyPageWire = z.object({
  data: z.array(keyWithSpendWire),
  next_cursor: z.string().nullable(),
});

export const revokedWire = z
  .object({ id: z.string(), status: z.literal('revoked'), revoked_at: date })
  .transform((r): RevokedKey => ({ id: r.id, status: r.status, revokedAt: r.revoked_at }));

export const bulkRevokedWire = z.object({ revoked: z.number().int() });

export const auditRowWire = z
  .object({
    id: z.string(),
    ts: date,
    key_id: z.string().nullable(),
    label: z.string().nullable(),
    vendor: z.string().nullable(),
    method: z.string(),
    path: z.string(),
    decision: z.enum(['allowed', 'denied']),
    code: z.string().nullable(),
    upstream_status: z.number().int().nullable(),
    cost_usd_reserved: usd,
    cost_usd_settled: usd,
    settlement: z.enum(['reserved', 'settled', 'released', 'uncertain']).nullable(),
    idempotency_key: z.string().nullable(),
    vendor_request_id: z.string().nullable(),
    request_id: z.string(),
    latency_ms: z.number(),
  })
  .transform((r): AuditRow => ({
    id: r.id,
    ts: r.ts,
    keyId: r.key_id,
    label: r.label,
    vendor: r.vendor,
    method: r.method,
    path: r.path,
    decision: r.decision,
    code: r.code,
    upstreamStatus: r.upstream_status,
    costUsdReserved: r.cost_usd_reserved,
    costUsdSettled: r.cost_usd_settled,
    settlement: r.settlement,
    idempotencyKey: r.idempotency_key,
    vendorRequestId: r.vendor_request_id,
    requestId: r.request_id,
    latencyMs: r.latency_ms,
  }));

export const auditPageWire = z.object({
  data: z.array(auditRowWire),
  next_cursor: z.string().nullable(),
});

const approvalStatus = z.enum(['pending', 'approved', 'denied', 'used', 'expired']);

export const approvalWire = z
  .object({
    id: z.string(),
    status: approvalStatus,
    key_id: z.string(),
    label: z.string().nullable(),
    vendor: z.string(),
    method: z.string(),
    path: z.string(),
    amount_usd: z.number(),
    created_at: date,
    expires_at: date,
    decided_at: date.nullable(),
    used_at: date.nullable(),
  })
  .transform((a): Approval => ({
    id: a.id,
    status: a.status,
    keyId: a.key_id,
    label: a.label,
    vendor: a.vendor,
    method: a.method,
    path: a.path,
    amountUsd: a.amount_usd,
    createdAt: a.created_at,
    expiresAt: a.expires_at,
    decidedAt: a.decided_at,
    usedAt: a.used_at,
  }));

export const approvalPageWire = z.object({
  data: z.array(approvalWire),
  next_cursor: z.string().nullable(),
});

export const approvalGrantWire = z
  .object({ id: z.string(), status: z.literal('approved'), grant: z.string().min(1), expires_at: date })
  .transform((g): ApprovalGrant => ({ id: g.id, status: g.status, grant: g.grant, expiresAt: g.expires_at }));

export const approvalDeniedWire = z.object({ id: z.string(), status: z.literal('denied') });
