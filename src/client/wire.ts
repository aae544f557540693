import { z } from 'zod';
import type {
  Approval,
  ApprovalGrant,
  AuditRow,
  Budget,
  IssuedIssuer,
  IssuedVaultKey,
  Issuer,
  RevokedBudget,
  RevokedIssuer,
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
  // Optional: a proxy from before budgets does not send it.
  budget_id: z.string().nullable().optional(),
  issuer_id: z.string().nullable().optional(),
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
  budgetId: k.budget_id ?? null,
  issuerId: k.issuer_id ?? null,
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

export const revokedIssuerWire = z
  .object({
    id: z.string(),
    status: z.literal('revoked'),
    revoked_at: date,
    // Optional: a proxy from before keys were revoked with their issuer does not send it.
    revoked_keys: z.number().int().optional(),
  })
  .transform((r): RevokedIssuer => ({
    id: r.id,
    status: r.status,
    revokedAt: r.revoked_at,
    revokedKeys: r.revoked_keys ?? 0,
  }));

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

export const budgetWire = z
  .object({
    id: z.string(),
    parent_id: z.string().nullable(),
    label: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    usd_cap: usd,
    daily_usd_cap: usd,
    max_usd_per_call: usd,
    status: z.enum(['active', 'revoked', 'expired']),
    depth: z.number().int(),
    created_at: date,
    expires_at: date,
    revoked_at: date.nullable(),
    spent_usd: z.number(),
    spent_today_usd: z.number(),
    reserved_usd: z.number(),
    uncertain_usd: z.number(),
    remaining_usd: usd,
    keys: z.number().int(),
    child_budgets: z.number().int(),
  })
  .transform((b): Budget => ({
    id: b.id,
    parentId: b.parent_id,
    label: b.label,
    metadata: b.metadata,
    usdCap: b.usd_cap,
    dailyUsdCap: b.daily_usd_cap,
    maxUsdPerCall: b.max_usd_per_call,
    status: b.status,
    depth: b.depth,
    createdAt: b.created_at,
    expiresAt: b.expires_at,
    revokedAt: b.revoked_at,
    spentUsd: b.spent_usd,
    spentTodayUsd: b.spent_today_usd,
    reservedUsd: b.reserved_usd,
    uncertainUsd: b.uncertain_usd,
    remainingUsd: b.remaining_usd,
    keys: b.keys,
    childBudgets: b.child_budgets,
  }));

export const budgetPageWire = z.object({
  data: z.array(budgetWire),
  next_cursor: z.string().nullable(),
});

export const revokedBudgetWire = z
  .object({
    id: z.string(),
    status: z.literal('revoked'),
    revoked_at: date,
    revoked_keys: z.number().int(),
    revoked_budgets: z.number().int(),
  })
  .transform((r): RevokedBudget => ({
    id: r.id,
    status: r.status,
    revokedAt: r.revoked_at,
    revokedKeys: r.revoked_keys,
    revokedBudgets: r.revoked_budgets,
  }));

const issuerFields = {
  id: z.string(),
  budget_id: z.string(),
  label: z.string().nullable(),
  vendors: z.array(z.string()).nullable(),
  max_key_usd_cap: usd,
  max_ttl: z.number().int().nullable(),
  allowed_endpoints: z.array(z.string()).nullable(),
  status: z.enum(['active', 'revoked', 'expired']),
  created_at: date,
  expires_at: date.nullable(),
  revoked_at: date.nullable(),
};

type IssuerWire = z.output<z.ZodObject<typeof issuerFields>>;

const toIssuer = (i: IssuerWire): Issuer => ({
  id: i.id,
  budgetId: i.budget_id,
  label: i.label,
  vendors: i.vendors,
  maxKeyUsdCap: i.max_key_usd_cap,
  maxTtl: i.max_ttl,
  allowedEndpoints: i.allowed_endpoints,
  status: i.status,
  createdAt: i.created_at,
  expiresAt: i.expires_at,
  revokedAt: i.revoked_at,
});

export const issuerWire = z.object(issuerFields).transform(toIssuer);

export const issuedIssuerWire = z
  .object({ ...issuerFields, token: z.string().min(1) })
  .transform((i): IssuedIssuer => ({ ...toIssuer(i), token: i.token }));

export const issuerPageWire = z.object({
  data: z.array(issuerWire),
  next_cursor: z.string().nullable(),
});
