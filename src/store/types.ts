import type { Micros } from '../money.js';

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
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface KeyRecord extends NewKey {
  readonly status: KeyStatus;
  readonly revokedAt: number | null;
  /** Settled plus uncertain spend over the key's life (everything not released and no longer in flight). */
  readonly spent: Micros;
  /** In-flight reservations. */
  readonly reserved: Micros;
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
}

export type ReserveRefusal =
  | 'key_invalid'
  | 'key_revoked'
  | 'key_expired'
  | 'per_call_limit_exceeded'
  | 'cap_exhausted'
  | 'idempotency_mismatch';

export type ReserveResult =
  | {
      readonly ok: true;
      readonly reservationId: string;
      /**
       * `true` when the same idempotency key and fingerprint were seen before and their reservation still holds
       * (in flight, settled or uncertain): nothing new was reserved. A replay must not release or mark the
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
      readonly key: KeyRecord | null;
    };

/** Ends a reservation. `audit`, when given, is appended in the same atomic step (one commit, one round trip). */
export interface FinishInput {
  readonly reservationId: string;
  readonly audit?: NewAuditRow | undefined;
}

export interface SettleInput extends FinishInput {
  readonly amount: Micros;
  readonly objectId?: string | null | undefined;
}

export interface KeyQuery {
  readonly label?: string | undefined;
  readonly labelPrefix?: string | undefined;
  readonly status?: KeyStatus | undefined;
  readonly vendor?: string | undefined;
  readonly limit: number;
  /** Opaque, from a previous page's `nextCursor`. */
  readonly cursor?: string | undefined;
}

export interface BulkRevokeFilter {
  readonly label?: string | undefined;
  readonly labelPrefix?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
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
  /** Creates tables or runs migrations. Called once, explicitly, before use. */
  init(): Promise<void>;
  close(): Promise<void>;

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

  /** Appends one audit row; a denied row also counts against the key's `deniedCalls`. */
  appendAudit(row: NewAuditRow): Promise<AuditRow>;
  queryAudit(query: AuditQuery): Promise<Page<AuditRow>>;
}
