import { approvalStatusAt, type ApprovalRecord, type ApprovalStatus } from './approval-types.js';

import { int, intOrNull, type Int } from './ledger-int.js';

/** An `approvals` row joined with its key's label and vendor, as both SQL stores select it. */
export interface ApprovalRow {
  seq: Int;
  id: string;
  key_id: string;
  label: string | null;
  vendor: string;
  method: string;
  path: string;
  fingerprint: string;
  account: string | null;
  amount: Int;
  status: 'pending' | 'approved' | 'denied' | 'used';
  created_at: Int;
  expires_at: Int;
  decided_at: Int | null;
  used_at: Int | null;
  reservation_id: string | null;
}

/** The columns, with the key's label and vendor, that both SQL stores read an approval with. */
export const APPROVAL_SELECT = `SELECT a.*, k.label, k.vendor FROM approvals a JOIN keys k ON k.id = a.key_id`;

/**
 * The reported status as SQL over the stored status and the expiry, given how the store writes "now". A
 * pending approval or an unused grant past its time reads as `expired`; the stored status stays.
 */
export function statusWhere(now: string): Record<ApprovalStatus, string> {
  return {
    pending: `a.status = 'pending' AND a.expires_at > ${now}`,
    approved: `a.status = 'approved' AND a.expires_at > ${now}`,
    expired: `a.status IN ('pending', 'approved') AND a.expires_at <= ${now}`,
    denied: `a.status = 'denied'`,
    used: `a.status = 'used'`,
  };
}

export function toApprovalRecord(row: ApprovalRow, now: number): ApprovalRecord {
  const expiresAt = int(row.expires_at);
  return {
    id: row.id,
    keyId: row.key_id,
    label: row.label,
    vendor: row.vendor,
    method: row.method,
    path: row.path,
    fingerprint: row.fingerprint,
    account: row.account,
    amount: int(row.amount),
    status: approvalStatusAt(row.status, expiresAt, now),
    createdAt: int(row.created_at),
    expiresAt,
    decidedAt: intOrNull(row.decided_at),
    usedAt: intOrNull(row.used_at),
    reservationId: row.reservation_id,
  };
}
