import {
  approvalStatusAt,
  type ApprovalCheck,
  type ApprovalQuery,
  type ApprovalRecord,
  type DecideInput,
  type DecideResult,
  type NewApproval,
  type RequestApprovalResult,
} from './approval-types.js';
import type { Page } from './types.js';

interface StoredApproval {
  readonly seq: number;
  readonly record: Omit<ApprovalRecord, 'status' | 'label' | 'vendor'>;
  status: 'pending' | 'approved' | 'denied' | 'used';
  expiresAt: number;
  decidedAt: number | null;
  usedAt: number | null;
  reservationId: string | null;
  grantHash: string | null;
}

/** Facts about the key an approval belongs to, looked up at read time so a listing shows the key's label. */
export type KeyFacts = (keyId: string) => {
  readonly label: string | null;
  readonly vendor: string;
  readonly budgetPath: readonly string[];
} | null;

/** The checked grant: its id, to mark it used once the reservation it pays for exists. */
export type GrantCheck =
  | { readonly ok: true; readonly id: string }
  | { readonly ok: false; readonly code: 'approval_required' | 'approval_invalid' };

/**
 * The memory store's approvals. Every method runs without awaiting, so each is atomic with respect to the
 * store's other methods, and `check` plus `markUsed` inside one `reserve` call cannot interleave with another.
 */
export class MemoryApprovals {
  readonly #byId = new Map<string, StoredApproval>();
  readonly #byGrant = new Map<string, string>();
  #seq = 0;

  constructor(private readonly keyFacts: KeyFacts) {}

  request(input: NewApproval, now: number): RequestApprovalResult {
    if (!this.keyFacts(input.keyId)) return { ok: false, reason: 'key_not_found' };
    let pending = 0;
    for (const stored of this.#byId.values()) {
      if (stored.record.keyId !== input.keyId || stored.status !== 'pending' || stored.expiresAt <= now)
        continue;
      if (stored.record.fingerprint === input.fingerprint)
        return { ok: true, approval: this.#view(stored, now) };
      pending += 1;
    }
    if (pending >= input.maxPending) return { ok: false, reason: 'too_many_pending' };
    const stored: StoredApproval = {
      seq: ++this.#seq,
      record: {
        id: input.id,
        keyId: input.keyId,
        method: input.method,
        path: input.path,
        fingerprint: input.fingerprint,
        account: input.account,
        amount: input.amount,
        createdAt: now,
        expiresAt: now + input.ttlMs,
        decidedAt: null,
        usedAt: null,
        reservationId: null,
      },
      status: 'pending',
      expiresAt: now + input.ttlMs,
      decidedAt: null,
      usedAt: null,
      reservationId: null,
      grantHash: null,
    };
    this.#byId.set(input.id, stored);
    return { ok: true, approval: this.#view(stored, now) };
  }

  get(id: string, now: number): ApprovalRecord | null {
    const stored = this.#byId.get(id);
    return stored ? this.#view(stored, now) : null;
  }

  list(query: ApprovalQuery, now: number): Page<ApprovalRecord> {
    const before = query.cursor === undefined ? Infinity : Number(query.cursor);
    const matches = [...this.#byId.values()]
      .filter((stored) => stored.seq < before)
      .map((stored) => ({ seq: stored.seq, view: this.#view(stored, now) }))
      .filter(({ view }) => matchesQuery(view, query))
      .filter(({ view }) => query.within === undefined || this.#inSubtree(view.keyId, query.within))
      .sort((a, b) => b.seq - a.seq);
    const page = matches.slice(0, query.limit);
    const last = page.at(-1);
    return {
      data: page.map(({ view }) => view),
      nextCursor: matches.length > query.limit && last ? String(last.seq) : null,
    };
  }

  decide(input: DecideInput, now: number): DecideResult {
    const stored = this.#byId.get(input.id);
    if (!stored) return { ok: false, reason: 'not_found' };
    if (stored.status !== 'pending' || stored.expiresAt <= now) {
      return { ok: false, reason: 'not_pending', approval: this.#view(stored, now) };
    }
    stored.decidedAt = now;
    if (input.decision === 'denied') {
      stored.status = 'denied';
    } else {
      stored.status = 'approved';
      stored.grantHash = input.grantHash;
      stored.expiresAt = now + input.grantTtlMs;
      this.#byGrant.set(input.grantHash, stored.record.id);
    }
    return { ok: true, approval: this.#view(stored, now) };
  }

  /** Whether `check` names a grant this call may spend; nothing changes until `markUsed`. */
  check(keyId: string, check: ApprovalCheck, now: number): GrantCheck {
    if (check.grantHash === null) return { ok: false, code: 'approval_required' };
    const stored = this.#byId.get(this.#byGrant.get(check.grantHash) ?? '');
    const valid =
      stored !== undefined &&
      stored.status === 'approved' &&
      stored.expiresAt > now &&
      stored.record.keyId === keyId &&
      stored.record.fingerprint === check.fingerprint;
    return valid ? { ok: true, id: stored.record.id } : { ok: false, code: 'approval_invalid' };
  }

  markUsed(id: string, reservationId: string, now: number): void {
    const stored = this.#byId.get(id);
    if (!stored) return;
    stored.status = 'used';
    stored.usedAt = now;
    stored.reservationId = reservationId;
  }

  #inSubtree(keyId: string, budgetId: string): boolean {
    return this.keyFacts(keyId)?.budgetPath.includes(budgetId) ?? false;
  }

  #view(stored: StoredApproval, now: number): ApprovalRecord {
    const facts = this.keyFacts(stored.record.keyId);
    return {
      ...stored.record,
      label: facts?.label ?? null,
      vendor: facts?.vendor ?? '',
      status: approvalStatusAt(stored.status, stored.expiresAt, now),
      expiresAt: stored.expiresAt,
      decidedAt: stored.decidedAt,
      usedAt: stored.usedAt,
      reservationId: stored.reservationId,
    };
  }
}

function matchesQuery(view: ApprovalRecord, query: ApprovalQuery): boolean {
  if (query.status !== undefined && view.status !== query.status) return false;
  if (query.keyId !== undefined && view.keyId !== query.keyId) return false;
  if (query.label !== undefined && view.label !== query.label) return false;
  return true;
}
