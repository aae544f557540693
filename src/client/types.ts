/**
 * The admin API's shapes, in camelCase. Money is USD as the contract sends it (`50`, `0.25`); the proxy
 * keeps it as integer micro-dollars, and a JSON decimal with at most six places converts back exactly
 * (`usdToMicros` in `spendgate`).
 */

/** A key's state. `expired` is reported by reads; the store itself only knows `active` and `revoked`. */
export type KeyStatus = 'active' | 'revoked' | 'expired';

/**
 * `POST /v1/keys`. At least one of `usdCap` and `dailyUsdCap`, unless the key draws from a budget
 * (`budgetId`) or the proxy has a default cap.
 */
export interface IssueKeyInput {
  /** `stripe`, `twilio`, `resend`, or a vendor added in the proxy's configuration. */
  readonly vendor: string;
  /** `bud_…`: the budget the key draws from. Its caps (and every ancestor's) bound the key's spend. */
  readonly budgetId?: string | undefined;
  /** Cap over the key's whole life: the per-run budget. */
  readonly usdCap?: number | undefined;
  /** Cap per UTC calendar day. */
  readonly dailyUsdCap?: number | undefined;
  /** The most one call may cost. */
  readonly maxUsdPerCall?: number | undefined;
  /** A call estimated above this is forwarded only with a person's single-use grant (see `approveCall`). */
  readonly approvalAboveUsd?: number | undefined;
  /** Stripe only: connected accounts (`acct_…`) the key may act on through `Stripe-Account`. */
  readonly connectedAccounts?: readonly string[] | undefined;
  /** `"POST /v1/payment_intents"` or `"/v1/customers/*"`; `*` is one segment, `**` any number. */
  readonly allowedEndpoints: readonly string[];
  /** `"90s"`, `"5m"`, `"1h"` or seconds. */
  readonly expiresIn?: string | number | undefined;
  /** An alternative to `expiresIn`. */
  readonly expiresAt?: Date | string | undefined;
  /** Free text for correlation and audit queries. */
  readonly label?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** A key as the admin API shows it. Never holds the token. */
export interface VaultKey {
  readonly id: string;
  readonly vendor: string;
  /** The budget the key draws from; `null` for a key with caps of its own only (and from older proxies). */
  readonly budgetId: string | null;
  /** The issuer whose token issued the key (`iss_…`); revoking that issuer revoked the key too. */
  readonly issuerId: string | null;
  readonly label: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly usdCap: number | null;
  readonly dailyUsdCap: number | null;
  readonly maxUsdPerCall: number | null;
  readonly approvalAboveUsd: number | null;
  readonly allowedEndpoints: readonly string[];
  readonly status: KeyStatus;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
}

/** The answer to an issue: the key plus its secret, which the proxy shows exactly once. */
export interface IssuedVaultKey extends VaultKey {
  /** `vk_…`: the credential a vendor SDK or a tool presents to the proxy. */
  readonly token: string;
}

/** `GET /v1/keys/{id}` and list entries: the key plus its spend. */
export interface VaultKeyWithSpend extends VaultKey {
  readonly spentUsd: number;
  readonly spentTodayUsd: number;
  readonly reservedUsd: number;
  /** What is left before the tightest cap; `null` when the key has no cap. */
  readonly remainingUsd: number | null;
  readonly calls: number;
  readonly deniedCalls: number;
}

export interface ListKeysQuery {
  readonly label?: string | undefined;
  readonly labelPrefix?: string | undefined;
  readonly status?: KeyStatus | undefined;
  readonly vendor?: string | undefined;
  /** Only keys issued directly under this budget (`bud_…`). */
  readonly budgetId?: string | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
}

/** One page of a list; pass `nextCursor` back as `cursor` for the next, until it is `null`. */
export interface Page<T> {
  readonly data: readonly T[];
  readonly nextCursor: string | null;
}

export interface RevokedKey {
  readonly id: string;
  readonly status: 'revoked';
  readonly revokedAt: Date;
}

/** `POST /v1/keys/revoke`: exactly one filter, so an empty filter can never revoke everything. */
export type BulkRevokeFilter =
  | { readonly label: string }
  | { readonly labelPrefix: string }
  | { readonly metadata: Readonly<Record<string, string>> };

export interface AuditQuery {
  readonly keyId?: string | undefined;
  readonly label?: string | undefined;
  readonly labelPrefix?: string | undefined;
  readonly vendor?: string | undefined;
  readonly decision?: 'allowed' | 'denied' | undefined;
  readonly since?: Date | string | undefined;
  readonly until?: Date | string | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
}

/** One proxied call, allowed or denied. Never holds a vendor secret or a vault token. */
export interface AuditRow {
  readonly id: string;
  readonly ts: Date;
  readonly keyId: string | null;
  readonly label: string | null;
  readonly vendor: string | null;
  readonly method: string;
  readonly path: string;
  readonly decision: 'allowed' | 'denied';
  /** Why it was denied; `null` when allowed. */
  readonly code: string | null;
  readonly upstreamStatus: number | null;
  readonly costUsdReserved: number | null;
  readonly costUsdSettled: number | null;
  /** `reserved` while the call is in flight. */
  readonly settlement: 'reserved' | 'settled' | 'released' | 'uncertain' | null;
  readonly idempotencyKey: string | null;
  readonly vendorRequestId: string | null;
  readonly requestId: string;
  readonly latencyMs: number;
}

/** Where an approval is: see `GET /v1/approvals`. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'used' | 'expired';

/** A call above its key's `approval_above_usd`, as the admin API shows it. Never holds the grant. */
export interface Approval {
  readonly id: string;
  readonly status: ApprovalStatus;
  readonly keyId: string;
  readonly label: string | null;
  readonly vendor: string;
  readonly method: string;
  readonly path: string;
  readonly amountUsd: number;
  readonly createdAt: Date;
  /** While pending: when it lapses undecided. Once approved: when the grant lapses unused. */
  readonly expiresAt: Date;
  readonly decidedAt: Date | null;
  readonly usedAt: Date | null;
}

export interface ListApprovalsQuery {
  readonly status?: ApprovalStatus | undefined;
  readonly keyId?: string | undefined;
  readonly label?: string | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
}

/** The answer to an approve: the grant, shown once, to send as `Spendgate-Approval` with the same request. */
export interface ApprovalGrant {
  readonly id: string;
  readonly status: 'approved';
  /** `apv_…`: single-use, for this key and this exact request only. */
  readonly grant: string;
  readonly expiresAt: Date;
}

/** A budget's state. `expired` is reported by reads, like a key's. */
export type BudgetStatus = 'active' | 'revoked' | 'expired';

/**
 * `POST /v1/budgets`: a pot of money that keys and child budgets draw from. A root budget (no `parentId`)
 * needs `usdCap` or `dailyUsdCap`; a child may not outlive its parent, and budgets nest at most 8 deep.
 */
export interface CreateBudgetInput {
  readonly usdCap?: number | undefined;
  readonly dailyUsdCap?: number | undefined;
  readonly maxUsdPerCall?: number | undefined;
  /** `bud_…`: the budget this one is carved from. */
  readonly parentId?: string | undefined;
  readonly label?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** `"90s"`, `"1h30m"` or seconds. */
  readonly expiresIn?: string | number | undefined;
  /** An alternative to `expiresIn`. */
  readonly expiresAt?: Date | string | undefined;
}

/** A budget as the admin API shows it, with the spend of every key below it. */
export interface Budget {
  readonly id: string;
  readonly parentId: string | null;
  readonly label: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly usdCap: number | null;
  readonly dailyUsdCap: number | null;
  readonly maxUsdPerCall: number | null;
  readonly status: BudgetStatus;
  /** A root budget is 1. */
  readonly depth: number;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  readonly spentUsd: number;
  readonly spentTodayUsd: number;
  readonly reservedUsd: number;
  readonly uncertainUsd: number;
  /** The least left in this budget or any ancestor; `null` when none of them has a cap. */
  readonly remainingUsd: number | null;
  /** Keys issued directly under this budget. */
  readonly keys: number;
  /** Budgets whose parent this one is. */
  readonly childBudgets: number;
}

export interface ListBudgetsQuery {
  readonly label?: string | undefined;
  readonly labelPrefix?: string | undefined;
  /** Only the direct children of this budget. */
  readonly parentId?: string | undefined;
  readonly status?: BudgetStatus | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
}

/** `DELETE /v1/budgets/{id}`: the budget, its whole subtree and every key in it are revoked. */
export interface RevokedBudget {
  readonly id: string;
  readonly status: 'revoked';
  readonly revokedAt: Date;
  /** Keys this call revoked. */
  readonly revokedKeys: number;
  /** Budgets this call revoked, the budget itself included. */
  readonly revokedBudgets: number;
}

export type IssuerStatus = 'active' | 'revoked' | 'expired';

/**
 * `POST /v1/issuers` (the admin token only): a token that may issue keys and child budgets inside one
 * budget's subtree, within the ceilings given here.
 */
export interface CreateIssuerInput {
  /** `bud_…`: the top of the issuer's subtree. */
  readonly budgetId: string;
  readonly label?: string | undefined;
  /** Vendors its keys may be for; omitted: any. */
  readonly vendors?: readonly string[] | undefined;
  /** The most `usdCap` or `dailyUsdCap` a key it issues may have. */
  readonly maxKeyUsdCap?: number | undefined;
  /** The longest TTL a key or budget it issues may have: `"1h"` or seconds. */
  readonly maxTtl?: string | number | undefined;
  /** Each endpoint of a key it issues must be matched by one of these; omitted: any. */
  readonly allowedEndpoints?: readonly string[] | undefined;
  /** When the issuer token lapses: `"30d"` or seconds; omitted: never. */
  readonly expiresIn?: string | number | undefined;
}

/** An issuer as the admin API shows it. Never holds the token. */
export interface Issuer {
  readonly id: string;
  readonly budgetId: string;
  readonly label: string | null;
  readonly vendors: readonly string[] | null;
  readonly maxKeyUsdCap: number | null;
  /** In whole seconds. */
  readonly maxTtl: number | null;
  readonly allowedEndpoints: readonly string[] | null;
  readonly status: IssuerStatus;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
}

/** The answer to `createIssuer`: the issuer plus its token, which the proxy shows exactly once. */
export interface IssuedIssuer extends Issuer {
  /** `it_…`: works as the client's `adminToken`, scoped to the issuer's budget subtree. */
  readonly token: string;
}

export interface ListIssuersQuery {
  readonly budgetId?: string | undefined;
  readonly status?: IssuerStatus | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
}

export interface RevokedIssuer {
  readonly id: string;
  readonly status: 'revoked';
  readonly revokedAt: Date;
  /** Keys the issuer's token had issued, revoked with it by this call. */
  readonly revokedKeys: number;
}
