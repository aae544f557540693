import type { Micros } from '../money.js';

/**
 * Where an approval is in its life. `pending` waits for a person; `approved` holds a single-use grant;
 * `used` means its grant paid for exactly one reservation; `expired` is reported for a pending approval, or
 * an unused grant, whose time ran out (the stored status stays what it was).
 */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'used' | 'expired';

/** A call above its key's `approval_above_usd`, waiting for a person's decision. */
export interface NewApproval {
  readonly id: string;
  readonly keyId: string;
  readonly method: string;
  readonly path: string;
  /**
   * The call's fingerprint (method, path, canonical query and body, and the account it acts on): the grant
   * fits this request only.
   */
  readonly fingerprint: string;
  /** The connected account the call acts on (`Stripe-Account` / `Stripe-Context`), for the person to see. */
  readonly account: string | null;
  readonly amount: Micros;
  /** How long the pending approval, and later its grant, stay valid; measured on the ledger's clock. */
  readonly ttlMs: number;
  /** The most pending approvals one key may have: a flood of requests cannot bury the one that matters. */
  readonly maxPending: number;
}

export type RequestApprovalResult =
  | { readonly ok: true; readonly approval: ApprovalRecord }
  | { readonly ok: false; readonly reason: 'key_not_found' | 'too_many_pending' };

export interface ApprovalRecord {
  readonly id: string;
  readonly keyId: string;
  readonly label: string | null;
  readonly vendor: string;
  readonly method: string;
  readonly path: string;
  readonly fingerprint: string;
  readonly account: string | null;
  readonly amount: Micros;
  readonly status: ApprovalStatus;
  readonly createdAt: number;
  /** Until a decision: when the pending approval lapses. Once approved: when the grant lapses. */
  readonly expiresAt: number;
  readonly decidedAt: number | null;
  readonly usedAt: number | null;
  /** The reservation the grant paid for, once used. */
  readonly reservationId: string | null;
}

export interface ApprovalQuery {
  readonly status?: ApprovalStatus | undefined;
  readonly keyId?: string | undefined;
  readonly label?: string | undefined;
  /** Only approvals of keys in this budget's subtree: an issuer token's scope. */
  readonly within?: string | undefined;
  readonly limit: number;
  /** Opaque, from a previous page's `nextCursor`. */
  readonly cursor?: string | undefined;
}

export type DecideInput =
  | { readonly id: string; readonly decision: 'denied' }
  | {
      readonly id: string;
      readonly decision: 'approved';
      /** The grant's hash: the grant itself (`apv_…`) is shown once and never stored. */
      readonly grantHash: string;
      readonly grantTtlMs: number;
    };

export type DecideResult =
  | { readonly ok: true; readonly approval: ApprovalRecord }
  | { readonly ok: false; readonly reason: 'not_found' }
  /** Already decided, or expired: a decision is made once. */
  | { readonly ok: false; readonly reason: 'not_pending'; readonly approval: ApprovalRecord };

/**
 * What `reserve` needs when a call is above its key's approval threshold. The store admits the call only
 * with a grant that is approved, unexpired, unused, for this key and this fingerprint, and marks it used in
 * the same atomic step as the reservation: two calls racing on one grant reserve at most once, and a call
 * refused by a cap leaves the grant unused. A replay of an idempotent call that already went through needs
 * no grant: nothing new is reserved.
 */
export interface ApprovalCheck {
  readonly fingerprint: string;
  /** The hash of the `Spendgate-Approval` grant sent with the call, or `null` when none was sent. */
  readonly grantHash: string | null;
}

/** Whether a stored approval is past its time, and what to report for it. */
export function approvalStatusAt(
  stored: 'pending' | 'approved' | 'denied' | 'used',
  expiresAt: number,
  now: number,
): ApprovalStatus {
  return (stored === 'pending' || stored === 'approved') && expiresAt <= now ? 'expired' : stored;
}
