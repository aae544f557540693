import type { Micros } from '../money.js';
import type {
  ApprovalCheck,
  ApprovalQuery,
  ApprovalRecord,
  DecideInput,
  DecideResult,
  NewApproval,
  RequestApprovalResult,
} from './approval-types.js';
import type {
  BudgetQuery,
  BudgetRecord,
  IssueBudgetResult,
  IssuerQuery,
  IssuerRecord,
  NewBudget,
  NewIssuer,
  RevokeBudgetResult,
} from './budget-types.js';

export type * from './approval-types.js';
export type * from './budget-types.js';

export type KeyStatus = 'active' | 'revoked';
export type Settlement = 'reserved' | 'settled' | 'released' | 'uncertain';
export type Decision = 'allowed' | 'denied';

/** What the proxy needs to create a vault key. The token itself never reaches the store, only its hash. */
export interface NewKey {
  readonly id: string;
  readonly tokenHash: string;
  readonly vendor: string;
  readonly label: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly usdCap: Micros | null;
  readonly dailyUsdCap: Micros | null;
  readonly maxUsdPerCall: Micros | null;
  readonly allowedEndpoints: readonly string[];
  /** Connected accounts the key may act on (Stripe-Account); empty for most keys. */
  readonly connectedAccounts: readonly string[];
  /** A call estimated above this needs a person's approval (a `Spendgate-Approval` grant); `null`: never. */
  readonly approvalAboveUsd?: Micros | null | undefined;
  /**
   * The budget the key draws from: every reservation must also fit that budget and each of its ancestors.
   * The proxy checks that it exists and is in scope; the store records its path with the key.
   */
  readonly budgetId?: string | null | undefined;
  /** The issuer whose token issued the key, if any: revoking the issuer revokes its keys too. */
  readonly issuerId?: string | null | undefined;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface KeyRecord extends NewKey {
  readonly approvalAboveUsd: Micros | null;
  readonly budgetId: string | null;
  readonly issuerId: string | null;
  /** The key's budget and its ancestors, root first; empty for a key with no budget. Never changes. */
  readonly budgetPath: readonly string[];
  readonly status: KeyStatus;
  readonly revokedAt: number | null;
  /** Settled plus uncertain spend over the key's life (everything not released and no longer in flight). */
  readonly spent: Micros;
  /** In-flight reservations. */
  readonly reserved: Micros;
  /** The part of `spent` that may or may not have moved (timeouts, resets, 5xx): kept against the cap. */
  readonly uncertain: Micros;
  /** Settled, uncertain and in-flight spend during the current UTC day (0 once the day has rolled over). */
  readonly spentToday: Micros;
  /** Allowed calls (reservations made). */
  readonly calls: number;
  readonly deniedCalls: number;
}

export interface IdempotencyClaim {
  /** The caller's idempotency key, scoped by whatever the vendor scopes it by (e.g. Stripe-Account). */
  readonly key: string;
  /** A hash of everything that must match for a replay: method, path and canonical body. */
  readonly fingerprint: string;
}

export interface ReserveInput {
  readonly keyId: string;
  readonly amount: Micros;
  readonly idempotency?: IdempotencyClaim | undefined;
  /** The proxy instance holding the reservation while it is in flight (its lease decides if it is alive). */
  readonly instanceId?: string | undefined;
  /** The call's request id: the reaper's audit row for this reservation uses it, so the call keeps one row. */
  readonly requestId?: string | undefined;
  /** Present when the call is above the key's approval threshold: the call then needs a valid grant. */
  readonly approval?: ApprovalCheck | undefined;
  /**
   * Whether the key draws from a budget, as the proxy read it when it authenticated the call (a key's budget
   * never changes). A hint for the store's choice of statement: a wrong one costs a round trip, never a
   * wrong decision, since the store checks the chain it finds.
   */
  readonly budgeted?: boolean | undefined;
}

export type ReserveRefusal =
  | 'key_invalid'
  | 'key_revoked'
  | 'key_expired'
  | 'per_call_limit_exceeded'
  | 'cap_exhausted'
  | 'idempotency_mismatch'
  /** The same idempotency key and fingerprint are still in flight: the original's outcome is not known yet. */
  | 'idempotency_key_in_use'
  /** Above the approval threshold and no grant was sent. */
  | 'approval_required'
  /** A grant was sent, but it is not an approved, unexpired, unused grant for this key and this request. */
  | 'approval_invalid';

export type ReserveResult =
  | {
      readonly ok: true;
      readonly reservationId: string;
      /**
       * `true` when the same idempotency key and fingerprint were seen before and their reservation has ended
       * settled or uncertain: nothing new was reserved. (While it is still in flight the answer is
       * `idempotency_key_in_use`, so a copy can never overtake its original.) A replay must not release or mark the
       * reservation uncertain; it may only settle it on success.
       */
      readonly replay: boolean;
      readonly key: KeyRecord;
    }
  | {
      readonly ok: false;
      readonly code: ReserveRefusal;
      /** Which cap refused, for `cap_exhausted`. */
      readonly cap?: 'usd_cap' | 'daily_usd_cap';
      /** The budget (of the key's chain) that refused, when it was a budget and not the key itself. */
      readonly budgetId?: string;
      readonly key: KeyRecord | null;
    };

/**
 * Ends a reservation. `audit`, when given, is appended in the same atomic step (one commit, one round trip).
 * Every finish is idempotent: it acts only on a reservation in the state it expects, and the audit row is
 * keyed by its request id, so replaying one (from the journal) changes nothing the second time.
 */
export interface FinishInput {
  readonly reservationId: string;
  readonly audit?: NewAuditRow | undefined;
}

export interface SettleInput extends FinishInput {
  readonly amount: Micros;
  readonly objectId?: string | null | undefined;
}

/**
 * A call whose reservation the proxy never forwarded because the ledger's answer to `reserve` was lost (a
 * timeout or a cut connection after the ledger may have committed). Found by the call's request id.
 */
export interface AbandonInput {
  readonly requestId: string;
  /** The instance that asked for the reservation: only its reservations are touched. */
  readonly instanceId: string;
  readonly audit?: NewAuditRow | undefined;
}

/** An operator's verdict on an uncertain reservation, after checking the vendor's own records. */
export interface ResolveInput {
  readonly reservationId: string;
  readonly outcome: 'settled' | 'released';
  /** For `settled`: what actually moved; defaults to the reserved amount. */
  readonly amount?: Micros | undefined;
  readonly audit?: NewAuditRow | undefined;
}

export type ResolveResult =
  | { readonly ok: true; readonly keyId: string; readonly amount: Micros }
  | { readonly ok: false; readonly reason: 'not_found' }
  | { readonly ok: false; readonly reason: 'not_uncertain'; readonly status: Settlement };

export interface ReservationQuery {
  readonly keyId?: string | undefined;
  readonly status?: Settlement | undefined;
  readonly limit: number;
}

export interface ReservationRecord {
  readonly id: string;
  readonly keyId: string;
  readonly amount: Micros;
  readonly status: Settlement;
  readonly createdAt: number;
}

export interface KeyQuery {
  readonly label?: string | undefined;
  readonly labelPrefix?: string | undefined;
  readonly status?: KeyStatus | undefined;
  readonly vendor?: string | undefined;
  /** Only keys issued directly under this budget. */
  readonly budgetId?: string | undefined;
  /** Only keys anywhere in this budget's subtree: an issuer token's scope. */
  readonly within?: string | undefined;
  readonly limit: number;
  /** Opaque, from a previous page's `nextCursor`. */
  readonly cursor?: string | undefined;
}

export interface BulkRevokeFilter {
  readonly label?: string | undefined;
  readonly labelPrefix?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** Only keys in this budget's subtree (an issuer's scope); combined with the filter above. */
  readonly within?: string | undefined;
}

export interface NewAuditRow {
  readonly ts: number;
  readonly keyId: string | null;
  readonly label: string | null;
  readonly vendor: string | null;
  readonly method: string;
  readonly path: string;
  readonly decision: Decision;
  readonly code: string | null;
  readonly upstreamStatus: number | null;
  readonly costReserved: Micros | null;
  readonly costSettled: Micros | null;
  readonly settlement: Settlement | null;
  readonly idempotencyKey: string | null;
  readonly vendorRequestId: string | null;
  readonly requestId: string;
  readonly latencyMs: number;
}

export interface AuditRow extends NewAuditRow {
  readonly id: string;
}

export interface AuditQuery {
  readonly keyId?: string | undefined;
  readonly label?: string | undefined;
  readonly labelPrefix?: string | undefined;
  readonly vendor?: string | undefined;
  readonly decision?: Decision | undefined;
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  /** Only rows of keys in this budget's subtree: an issuer token's scope. */
  readonly within?: string | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface Page<T> {
  readonly data: T[];
  readonly nextCursor: string | null;
}

/**
 * The ledger. Every method that changes spend is one atomic step in the backing store: implementations never
 * read a value, await, and write it back.
 */
export interface Store {
  /**
   * `postgres` is reached over a network that can stall, so the proxy journals what it must record;
   * `sqlite` commits durably to a local file; `memory` is for tests and the sandbox.
   */
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  /** Creates tables or runs migrations. Called once, explicitly, before use. */
  init(): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the ledger answers a trivial query within its deadline; rejects otherwise. */
  ping(): Promise<void>;

  issueKey(key: NewKey): Promise<KeyRecord>;
  getKey(id: string): Promise<KeyRecord | null>;
  findKeyByTokenHash(tokenHash: string): Promise<KeyRecord | null>;
  listKeys(query: KeyQuery): Promise<Page<KeyRecord>>;
  /** Idempotent: revoking a revoked key returns it unchanged (with its first `revokedAt`). */
  revokeKey(id: string): Promise<KeyRecord | null>;
  revokeKeys(filter: BulkRevokeFilter): Promise<number>;

  /**
   * Checks status, expiry, the per-call limit and every cap, and records the reservation, in one atomic step.
   * A zero amount still checks status and expiry: every forwarded call goes through here.
   */
  reserve(input: ReserveInput): Promise<ReserveResult>;
  /**
   * Moves a reservation that is in flight or uncertain to settled at `amount`. No-op otherwise.
   * `objectId` names the vendor object the call created (e.g. a PaymentIntent), for `hasObject`.
   */
  settle(input: SettleInput): Promise<void>;
  /** Whether a settled or uncertain reservation of this key created the vendor object `objectId`. */
  hasObject(input: { readonly keyId: string; readonly objectId: string }): Promise<boolean>;
  /** Gives an in-flight reservation back. No-op unless it is still in flight. */
  release(input: FinishInput): Promise<void>;
  /** Keeps an in-flight reservation as spent because the vendor may have moved money. No-op otherwise. */
  markUncertain(input: FinishInput): Promise<void>;
  /**
   * Releases the reservation (in flight, or made uncertain by the reaper) that `reserve` may have committed
   * for a call the proxy then refused without forwarding, with the call's audit row in the same atomic step.
   * No-op when there is none: the refusal is then only audited. Idempotent, so the journal may replay it.
   */
  abandon(input: AbandonInput): Promise<void>;

  /**
   * Settles or releases an `uncertain` reservation once an operator has checked the vendor, with the audit row
   * in the same atomic step. Anything not uncertain is left alone.
   */
  resolveUncertain(input: ResolveInput): Promise<ResolveResult>;
  listReservations(query: ReservationQuery): Promise<ReservationRecord[]>;

  /** Renews this instance's lease on its in-flight reservations until `now + leaseMs` (ledger clock). */
  heartbeat(input: { readonly instanceId: string; readonly leaseMs: number }): Promise<void>;
  /**
   * Resolves reservations still in flight under an instance whose lease has lapsed (it died, or lost the
   * ledger for longer than the lease): each becomes `uncertain`, still counted, with an audit row coded
   * `reservation_reaped` under the call's own request id. At most one reaper runs at a time. Returns how many.
   */
  reapExpired(): Promise<number>;

  /**
   * Appends one audit row; a denied row also counts against the key's `deniedCalls`. Idempotent by
   * `requestId`: a row whose request id is already there is not added again (journal replays rely on it).
   */
  appendAudit(row: NewAuditRow): Promise<AuditRow>;
  queryAudit(query: AuditQuery): Promise<Page<AuditRow>>;

  /**
   * Records a pending approval for a call above its key's threshold, or returns the one still pending for the
   * same key and fingerprint, so a repeated call asks a person once. Refused when the key does not exist, or
   * already has `maxPending` approvals waiting.
   */
  requestApproval(input: NewApproval): Promise<RequestApprovalResult>;
  getApproval(id: string): Promise<ApprovalRecord | null>;
  /** Newest first. */
  listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>>;
  /** Approves (storing the grant's hash) or denies a pending, unexpired approval, once. */
  decideApproval(input: DecideInput): Promise<DecideResult>;

  /** Creates a budget, checking its parent (exists, active, outlived, depth) in the same atomic step. */
  issueBudget(budget: NewBudget): Promise<IssueBudgetResult>;
  getBudget(id: string): Promise<BudgetRecord | null>;
  listBudgets(query: BudgetQuery): Promise<Page<BudgetRecord>>;
  /**
   * Revokes the budget, every budget below it and every key under any of them, in one atomic step that
   * reservations are ordered against: once it has resolved, no reservation under the subtree succeeds.
   * Idempotent. `null` when there is no such budget.
   */
  revokeBudget(id: string): Promise<RevokeBudgetResult | null>;

  createIssuer(issuer: NewIssuer): Promise<IssuerRecord>;
  getIssuer(id: string): Promise<IssuerRecord | null>;
  findIssuerByTokenHash(tokenHash: string): Promise<IssuerRecord | null>;
  listIssuers(query: IssuerQuery): Promise<Page<IssuerRecord>>;
  /**
   * Revokes the issuer and, in the same atomic step, every key its token issued: a leaked issuer token's
   * keys may be in the same hands. Idempotent, like a key's revoke (keys already revoked are not counted).
   */
  revokeIssuer(id: string): Promise<{ readonly issuer: IssuerRecord; readonly revokedKeys: number } | null>;
}
