import type { NewAuditRow, Store } from '../store/types.js';

/**
 * How one proxied call ends in the ledger: the reservation's outcome with its audit row, or (for a call
 * refused before it reserved) the audit row alone. Each is idempotent: applying one twice changes nothing
 * the second time (finishes act only on a reservation in the expected state; audit rows are keyed by
 * request id), which is what lets the journal replay them after a crash.
 */
export type LedgerEntry =
  | {
      readonly kind: 'settle';
      readonly reservationId: string;
      readonly amount: number;
      readonly objectId: string | null;
      readonly audit: NewAuditRow;
    }
  | { readonly kind: 'release'; readonly reservationId: string; readonly audit: NewAuditRow }
  | { readonly kind: 'uncertain'; readonly reservationId: string; readonly audit: NewAuditRow }
  | { readonly kind: 'audit'; readonly audit: NewAuditRow }
  /**
   * A call refused because the ledger's answer to its reservation was lost: the ledger may still have
   * committed one, which the proxy never forwarded and so must give back. Applied no earlier than
   * `notBefore` (epoch ms), once any statement still running for it has been cancelled by the ledger.
   */
  | {
      readonly kind: 'abandon';
      readonly requestId: string;
      readonly instanceId: string;
      readonly notBefore: number;
      readonly audit: NewAuditRow;
    };

export function entryId(entry: LedgerEntry): string {
  return entry.audit.requestId;
}

export async function applyEntry(store: Store, entry: LedgerEntry): Promise<void> {
  switch (entry.kind) {
    case 'settle':
      return store.settle({
        reservationId: entry.reservationId,
        amount: entry.amount,
        objectId: entry.objectId,
        audit: entry.audit,
      });
    case 'release':
      return store.release({ reservationId: entry.reservationId, audit: entry.audit });
    case 'uncertain':
      return store.markUncertain({ reservationId: entry.reservationId, audit: entry.audit });
    case 'abandon':
      return store.abandon({ requestId: entry.requestId, instanceId: entry.instanceId, audit: entry.audit });
    case 'audit':
      await store.appendAudit(entry.audit);
  }
}

/** Whether the entry may be applied now: an abandon waits for its `notBefore`. */
export function isDue(entry: LedgerEntry, now: number): boolean {
  return entry.kind !== 'abandon' || entry.notBefore <= now;
}
