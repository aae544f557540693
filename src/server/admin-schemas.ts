import { z } from 'zod';

const money = z.union([z.number(), z.string()]);
const label = z.string().min(1).max(256);
const metadata = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 50, 'metadata may hold at most 50 entries');

/** `POST /v1/keys` and `POST /vault/keys`. Unknown fields are refused so a typo never silently drops a cap. */
export const issueKeyBody = z.strictObject({
  vendor: z.string().min(1),
  daily_usd_cap: money.optional(),
  usd_cap: money.optional(),
  max_usd_per_call: money.optional(),
  /** A call estimated above this is forwarded only with a person's single-use grant (`Spendgate-Approval`). */
  approval_above_usd: money.optional(),
  allowed_endpoints: z.array(z.string().min(1).max(512)).min(1).max(100),
  expires_in: z.union([z.string(), z.number()]).optional(),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  label: label.optional(),
  metadata: metadata.optional(),
  /** The budget the key draws from: every call must also fit it and each of its ancestors. */
  budget_id: z.string().min(1).max(64).optional(),
  /** Stripe only: the connected accounts (`acct_…`) this key may act on through `Stripe-Account`. */
  connected_accounts: z
    .array(z.string().regex(/^acct_[A-Za-z0-9]{1,64}$/, 'must be a Stripe account id (acct_…)'))
    .max(100)
    .optional(),
});

/** `POST /v1/keys/revoke`: exactly one filter, so an empty body can never revoke everything. */
export const bulkRevokeBody = z
  .strictObject({
    label: label.optional(),
    label_prefix: label.optional(),
    metadata: metadata.optional(),
  })
  .refine(
    (b) => [b.label, b.label_prefix, b.metadata].filter((v) => v !== undefined).length === 1,
    'give exactly one of label, label_prefix or metadata',
  )
  .refine((b) => b.metadata === undefined || Object.keys(b.metadata).length > 0, {
    message: 'metadata must name at least one entry',
    path: ['metadata'],
  });

const limit = z.coerce.number().int().min(1).max(500).default(50);
const cursor = z.string().regex(/^\d+$/, 'cursor must come from next_cursor').optional();

export const listKeysQuery = z.strictObject({
  label: label.optional(),
  label_prefix: label.optional(),
  /** `expired`: active but past its expiry, as a read reports it; `active` leaves those out. */
  status: z.enum(['active', 'revoked', 'expired']).optional(),
  vendor: z.string().optional(),
  /** Only keys issued directly under this budget. */
  budget_id: z.string().optional(),
  limit,
  cursor,
});

const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((s) => Date.parse(s));

export const auditQuery = z.strictObject({
  key_id: z.string().optional(),
  label: label.optional(),
  label_prefix: label.optional(),
  vendor: z.string().optional(),
  decision: z.enum(['allowed', 'denied']).optional(),
  since: instant.optional(),
  until: instant.optional(),
  limit,
  cursor,
});

/** `GET /v1/approvals`. */
export const listApprovalsQuery = z.strictObject({
  status: z.enum(['pending', 'approved', 'denied', 'used', 'expired']).optional(),
  key_id: z.string().optional(),
  label: label.optional(),
  limit,
  cursor,
});

/** `POST /v1/approvals/{id}/approve` and `/deny`: an optional note for the log, nothing else. */
export const decideApprovalBody = z.strictObject({
  note: z.string().max(500).optional(),
});

const duration = z.union([z.string(), z.number()]);

/** `POST /v1/budgets`. A root budget needs a cap; a child may have none and share what is left above it. */
export const issueBudgetBody = z.strictObject({
  usd_cap: money.optional(),
  daily_usd_cap: money.optional(),
  max_usd_per_call: money.optional(),
  /** Every key issued below this budget needs a person's approval for a call estimated above this. */
  approval_above_usd: money.optional(),
  parent_id: z.string().min(1).max(64).optional(),
  label: label.optional(),
  metadata: metadata.optional(),
  expires_in: duration.optional(),
  expires_at: z.iso.datetime({ offset: true }).optional(),
});

export const listBudgetsQuery = z.strictObject({
  label: label.optional(),
  label_prefix: label.optional(),
  parent_id: z.string().optional(),
  /** `expired`: active but past its expiry, as a read reports it; `active` leaves those out. */
  status: z.enum(['active', 'revoked', 'expired']).optional(),
  limit,
  cursor,
});

/** `POST /v1/issuers` (admin token only): a token scoped to one budget's subtree, within these ceilings. */
export const issueIssuerBody = z.strictObject({
  budget_id: z.string().min(1).max(64),
  label: label.optional(),
  vendors: z.array(z.string().min(1)).min(1).max(20).optional(),
  max_key_usd_cap: money.optional(),
  max_ttl: duration.optional(),
  allowed_endpoints: z.array(z.string().min(1).max(512)).min(1).max(100).optional(),
  expires_in: duration.optional(),
});

export const listIssuersQuery = z.strictObject({
  budget_id: z.string().optional(),
  status: z.enum(['active', 'revoked', 'expired']).optional(),
  limit,
  cursor,
});
