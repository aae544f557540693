import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';
import { systemClock, utcDay } from './clock.js';
import { capRefusal } from './cap-check.js';
import { MemoryApprovals } from './memory-approvals.js';
import { MemoryBudgets, type BudgetMove } from './memory-budgets.js';
import { budgetGoneError } from './budget-chain.js';
import { IDEMPOTENCY_WINDOW_MS } from './idempotency-window.js';
import { REAPED, reapedAuditRow } from './reaped.js';
import type {
  AbandonInput,
  ApprovalQuery,
  ApprovalRecord,
  DecideInput,
  DecideResult,
  NewApproval,
  RequestApprovalResult,
  AuditQuery,
  AuditRow,
  BudgetQuery,
  BudgetRecord,
  BulkRevokeFilter,
  IssueBudgetResult,
  IssuerQuery,
  IssuerRecord,
  KeyQuery,
  NewBudget,
  NewIssuer,
  RevokeBudgetResult,
  KeyRecord,
  NewAuditRow,
  NewKey,
  Page,
  ReserveInput,
  ReserveResult,
  Settlement,
  SettleInput,
  FinishInput,
  ReservationQuery,
  ReservationRecord,
  ResolveInput,
  ResolveResult,
  Store,
} from './types.js';

interface MutableKey {
  key: NewKey;
  budgetPath: readonly string[];
  seq: number;
  status: 'active' | 'revoked';
  revokedAt: number | null;
  committed: number;
  reserved: number;
  uncertain: number;
  day: string;
  dayCommitted: number;
  calls: number;
  deniedCalls: number;
}

interface Reservation {
  id: string;
  keyId: string;
  amount: number;
  day: string;
  status: Settlement;
  idempotencyKey: string | null;
  fingerprint: string | null;
  objectId: string | null;
  createdAt: number;
  instanceId: string | null;
  requestId: string | null;
}

/**
 * An in-process ledger for unit tests and the sandbox. JavaScript runs each method body without interruption,
 * so every spend change is atomic; records are copied out so callers cannot mutate the ledger.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly #now: Clock;
  readonly #keys = new Map<string, MutableKey>();
  readonly #byHash = new Map<string, string>();
  readonly #reservations = new Map<string, Reservation>();
  readonly #idempotency = new Map<string, string>();
  readonly #audit: AuditRow[] = [];
  readonly #auditByRequest = new Map<string, AuditRow>();
  readonly #leases = new Map<string, number>();
  readonly #approvals = new MemoryApprovals((keyId) => {
    const row = this.#keys.get(keyId);
    return row ? { label: row.key.label, vendor: row.key.vendor, budgetPath: row.budgetPath } : null;
  });
  readonly #budgets = new MemoryBudgets(
    () => this.#now(),
    (budgetId) => [...this.#keys.values()].filter((row) => row.key.budgetId === budgetId).length,
  );
  #seq = 0;

  constructor(options: { readonly now?: Clock } = {}) {
    this.#now = options.now ?? systemClock;
  }

  async init(): Promise<void> {}
  async close(): Promise<void> {}
  async ping(): Promise<void> {}

  async issueKey(key: NewKey): Promise<KeyRecord> {
    if (this.#keys.has(key.id) || this.#byHash.has(key.tokenHash))
      throw new Error('duplicate key id or token');
    if (key.budgetId) {
      const budget = this.#budgets.get(key.budgetId);
      const usable =
        budget?.status === 'active' && budget.expiresAt > this.#now() && budget.expiresAt >= key.expiresAt;
      if (!usable) throw budgetGoneError(key.budgetId);
    }
    const row: MutableKey = {
      key: {
        ...key,
        metadata: { ...key.metadata },
        allowedEndpoints: [...key.allowedEndpoints],
        connectedAccounts: [...key.connectedAccounts],
      },
      budgetPath: key.budgetId ? this.#budgets.pathOf(key.budgetId) : [],
      seq: ++this.#seq,
      status: 'active',
      revokedAt: null,
      committed: 0,
      reserved: 0,
      uncertain: 0,
      day: utcDay(key.createdAt),
      dayCommitted: 0,
      calls: 0,
      deniedCalls: 0,
    };
    this.#keys.set(key.id, row);
    this.#byHash.set(key.tokenHash, key.id);
    return this.#snapshot(row);
  }

  async getKey(id: string): Promise<KeyRecord | null> {
    const row = this.#keys.get(id);
    return row ? this.#snapshot(row) : null;
  }

  async findKeyByTokenHash(tokenHash: string): Promise<KeyRecord | null> {
    const id = this.#byHash.get(tokenHash);
    return id === undefined ? null : this.getKey(id);
  }

  async listKeys(query: KeyQuery): Promise<Page<KeyRecord>> {
    const after = query.cursor === undefined ? Infinity : Number(query.cursor);
    const matches = [...this.#keys.values()]
      .filter((row) => row.seq < after && matchesKeyQuery(row, query))
      .filter((row) => query.budgetId === undefined || row.key.budgetId === query.budgetId)
      .filter((row) => query.within === undefined || row.budgetPath.includes(query.within))
      .sort((a, b) => b.seq - a.seq);
    const page = matches.slice(0, query.limit);
    const last = page.at(-1);
    return {
      data: page.map((row) => this.#snapshot(row)),
      nextCursor: matches.length > query.limit && last ? String(last.seq) : null,
    };
  }

  async revokeKey(id: string): Promise<KeyRecord | null> {
    const row = this.#keys.get(id);
    if (!row) return null;
    if (row.status !== 'revoked') {
      row.status = 'revoked';
      row.revokedAt = this.#now();
    }
    return this.#snapshot(row);
  }

  async revokeKeys(filter: BulkRevokeFilter): Promise<number> {
    const now = this.#now();
    let count = 0;
    for (const row of this.#keys.values()) {
      if (row.status === 'revoked' || !matchesBulkFilter(row.key, filter)) continue;
      if (filter.within !== undefined && !row.budgetPath.includes(filter.within)) continue;
      row.status = 'revoked';
      row.revokedAt = now;
      count += 1;
    }
    return count;
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const row = this.#keys.get(input.keyId);
    if (!row) return { ok: false, code: 'key_invalid', key: null };
    const now = this.#now();
    const today = utcDay(now);
    if (row.status === 'revoked') return { ok: false, code: 'key_revoked', key: this.#snapshot(row) };
    if (row.key.expiresAt <= now) return { ok: false, code: 'key_expired', key: this.#snapshot(row) };

    const claim = input.idempotency;
    const claimId = claim ? `${row.key.id}\u0000${claim.key}` : null;
    const claimed = claimId ? this.#reservations.get(this.#idempotency.get(claimId) ?? '') : undefined;
    // A claim older than the vendor's memory of it is no claim: the repeat is a new operation.
    const existing = claimed && now - claimed.createdAt < IDEMPOTENCY_WINDOW_MS ? claimed : undefined;
    if (existing && claim) {
      if (existing.fingerprint !== claim.fingerprint) {
        return { ok: false, code: 'idempotency_mismatch', key: this.#snapshot(row) };
      }
      if (existing.status === 'reserved') {
        return { ok: false, code: 'idempotency_key_in_use', key: this.#snapshot(row) };
      }
      if (existing.status !== 'released') {
        // The replay forwards the call again: the original instance's abandon must not release it now.
        existing.instanceId = null;
        return { ok: true, reservationId: existing.id, replay: true, key: this.#snapshot(row) };
      }
    }

    const dayCommitted = row.day === today ? row.dayCommitted : 0;
    const refusal = capRefusal({
      amount: input.amount,
      committed: row.committed,
      dayCommitted,
      usdCap: row.key.usdCap,
      dailyUsdCap: row.key.dailyUsdCap,
      maxUsdPerCall: row.key.maxUsdPerCall,
    });
    if (refusal) return { ok: false, ...refusal, key: this.#snapshot(row) };
    const budgetRefusal = this.#budgets.refusal(row.budgetPath, input.amount, now);
    if (budgetRefusal) return { ok: false, ...budgetRefusal, key: this.#snapshot(row) };
    // After the claim checks (a replay reserves nothing new, so it needs no grant) and the caps (a person is
    // never asked about a call that could not go through anyway).
    const grant = input.approval ? this.#approvals.check(row.key.id, input.approval, now) : null;
    if (grant && !grant.ok) return { ok: false, code: grant.code, key: this.#snapshot(row) };

    row.committed += input.amount;
    row.reserved += input.amount;
    row.day = today;
    row.dayCommitted = dayCommitted + input.amount;
    row.calls += 1;
    this.#budgets.hold(row.budgetPath, input.amount, today);
    // A released claim gets a fresh reservation: every attempt has its own id, so a late, replayed finish
    // of an earlier attempt (the journal's) can never touch this one.
    if (existing) this.#reservations.delete(existing.id);
    const reservation: Reservation = {
      id: `res_${randomUUID().replaceAll('-', '')}`,
      keyId: row.key.id,
      amount: 0,
      day: today,
      status: 'reserved',
      idempotencyKey: claim?.key ?? null,
      fingerprint: claim?.fingerprint ?? null,
      objectId: null,
      createdAt: now,
      instanceId: input.instanceId ?? null,
      requestId: input.requestId ?? null,
    };
    Object.assign(reservation, { amount: input.amount, day: today, status: 'reserved' satisfies Settlement });
    this.#reservations.set(reservation.id, reservation);
    if (claimId) this.#idempotency.set(claimId, reservation.id);
    if (grant?.ok) this.#approvals.markUsed(grant.id, reservation.id, now);
    return { ok: true, reservationId: reservation.id, replay: false, key: this.#snapshot(row) };
  }

  async settle(input: SettleInput): Promise<void> {
    if (input.audit) this.#append(input.audit);
    const res = this.#reservations.get(input.reservationId);
    if (!res || (res.status !== 'reserved' && res.status !== 'uncertain')) return;
    const row = this.#keys.get(res.keyId);
    if (!row) return;
    this.#move(row, {
      day: res.day,
      committed: input.amount - res.amount,
      reserved: res.status === 'reserved' ? -res.amount : 0,
      uncertain: res.status === 'uncertain' ? -res.amount : 0,
    });
    res.amount = input.amount;
    res.status = 'settled';
    res.objectId = input.objectId ?? res.objectId;
  }

  async hasObject(input: { readonly keyId: string; readonly objectId: string }): Promise<boolean> {
    for (const res of this.#reservations.values()) {
      if (res.keyId === input.keyId && res.objectId === input.objectId && res.status !== 'released')
        return true;
    }
    return false;
  }

  async release(input: FinishInput): Promise<void> {
    if (input.audit) this.#append(input.audit);
    const res = this.#reservations.get(input.reservationId);
    if (!res || res.status !== 'reserved') return;
    const row = this.#keys.get(res.keyId);
    if (!row) return;
    this.#move(row, { day: res.day, committed: -res.amount, reserved: -res.amount });
    res.status = 'released';
  }

  async markUncertain(input: FinishInput): Promise<void> {
    if (input.audit) this.#append(input.audit);
    const res = this.#reservations.get(input.reservationId);
    if (!res || res.status !== 'reserved') return;
    const row = this.#keys.get(res.keyId);
    if (!row) return;
    this.#move(row, { day: res.day, reserved: -res.amount, uncertain: res.amount });
    res.status = 'uncertain';
  }

  async abandon(input: AbandonInput): Promise<void> {
    if (input.audit) this.#append(input.audit);
    for (const res of this.#reservations.values()) {
      if (res.requestId !== input.requestId || res.instanceId !== input.instanceId) continue;
      if (res.status !== 'reserved' && res.status !== 'uncertain') continue;
      const row = this.#keys.get(res.keyId);
      if (!row) return;
      this.#move(row, {
        day: res.day,
        committed: -res.amount,
        reserved: res.status === 'reserved' ? -res.amount : 0,
        uncertain: res.status === 'uncertain' ? -res.amount : 0,
      });
      res.status = 'released';
    }
  }

  async resolveUncertain(input: ResolveInput): Promise<ResolveResult> {
    const res = this.#reservations.get(input.reservationId);
    if (!res) return { ok: false, reason: 'not_found' };
    if (res.status !== 'uncertain') return { ok: false, reason: 'not_uncertain', status: res.status };
    const row = this.#keys.get(res.keyId);
    if (!row) return { ok: false, reason: 'not_found' };
    if (input.audit) this.#append(input.audit);
    const amount = input.outcome === 'released' ? 0 : (input.amount ?? res.amount);
    this.#move(row, { day: res.day, committed: amount - res.amount, uncertain: -res.amount });
    res.amount = amount;
    res.status = input.outcome;
    return { ok: true, keyId: res.keyId, amount };
  }

  async heartbeat(input: { readonly instanceId: string; readonly leaseMs: number }): Promise<void> {
    this.#leases.set(input.instanceId, this.#now() + input.leaseMs);
  }

  async reapExpired(): Promise<number> {
    const now = this.#now();
    let reaped = 0;
    for (const res of this.#reservations.values()) {
      if (res.status !== 'reserved' || res.instanceId === null) continue;
      if ((this.#leases.get(res.instanceId) ?? -Infinity) > now) continue;
      const row = this.#keys.get(res.keyId);
      if (!row) continue;
      this.#move(row, { day: res.day, reserved: -res.amount, uncertain: res.amount });
      res.status = 'uncertain';
      this.#append(reapedAuditRow({ ...res, label: row.key.label, vendor: row.key.vendor, now }));
      reaped += 1;
    }
    return reaped;
  }

  async listReservations(query: ReservationQuery): Promise<ReservationRecord[]> {
    const found: ReservationRecord[] = [];
    for (const res of this.#reservations.values()) {
      if (found.length >= query.limit) break;
      if (query.keyId !== undefined && res.keyId !== query.keyId) continue;
      if (query.status !== undefined && res.status !== query.status) continue;
      found.push({
        id: res.id,
        keyId: res.keyId,
        amount: res.amount,
        status: res.status,
        createdAt: res.createdAt,
      });
    }
    return found;
  }

  async appendAudit(input: NewAuditRow): Promise<AuditRow> {
    return this.#append(input);
  }

  #append(input: NewAuditRow): AuditRow {
    // Idempotent by request id: a journal replay of a row that already landed adds nothing.
    const seen = this.#auditByRequest.get(input.requestId);
    if (seen && seen.code === REAPED && input.code !== REAPED) {
      // The call's real outcome arrived after the reaper's provisional row: it replaces it.
      Object.assign(seen, { ...input, id: seen.id, latencyMs: Math.round(input.latencyMs) });
    }
    if (seen) return { ...seen };
    const row: AuditRow = {
      ...input,
      latencyMs: Math.round(input.latencyMs),
      id: String(this.#audit.length + 1),
    };
    this.#audit.push(row);
    this.#auditByRequest.set(row.requestId, row);
    if (row.decision === 'denied' && row.keyId) {
      const key = this.#keys.get(row.keyId);
      if (key) key.deniedCalls += 1;
    }
    return { ...row };
  }

  async queryAudit(query: AuditQuery): Promise<Page<AuditRow>> {
    const before = query.cursor === undefined ? Infinity : Number(query.cursor);
    const matches: AuditRow[] = [];
    for (let i = this.#audit.length - 1; i >= 0 && matches.length <= query.limit; i -= 1) {
      const row = this.#audit[i];
      if (!row || Number(row.id) >= before || !matchesAuditQuery(row, query)) continue;
      if (query.within !== undefined && !this.#inSubtree(row.keyId, query.within)) continue;
      matches.push({ ...row });
    }
    const page = matches.slice(0, query.limit);
    return { data: page, nextCursor: matches.length > query.limit ? (page.at(-1)?.id ?? null) : null };
  }

  async requestApproval(input: NewApproval): Promise<RequestApprovalResult> {
    return this.#approvals.request(input, this.#now());
  }

  async getApproval(id: string): Promise<ApprovalRecord | null> {
    return this.#approvals.get(id, this.#now());
  }

  async listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    return this.#approvals.list(query, this.#now());
  }

  async decideApproval(input: DecideInput): Promise<DecideResult> {
    return this.#approvals.decide(input, this.#now());
  }

  /**
   * Moves a reservation's money between the totals of its key and of every budget above the key, as every
   * way a reservation ends does (today's share moves only when the reservation is of the row's current day).
   */
  #inSubtree(keyId: string | null, budgetId: string): boolean {
    return keyId !== null && (this.#keys.get(keyId)?.budgetPath.includes(budgetId) ?? false);
  }

  #move(row: MutableKey, move: BudgetMove): void {
    const committed = move.committed ?? 0;
    row.committed += committed;
    row.reserved += move.reserved ?? 0;
    row.uncertain += move.uncertain ?? 0;
    if (row.day === move.day) row.dayCommitted = Math.max(0, row.dayCommitted + committed);
    this.#budgets.move(row.budgetPath, move);
  }

  async issueBudget(budget: NewBudget): Promise<IssueBudgetResult> {
    return this.#budgets.issue(budget);
  }

  async getBudget(id: string): Promise<BudgetRecord | null> {
    return this.#budgets.get(id);
  }

  async listBudgets(query: BudgetQuery): Promise<Page<BudgetRecord>> {
    return this.#budgets.list(query);
  }

  async revokeBudget(id: string): Promise<RevokeBudgetResult | null> {
    const done = this.#budgets.revokeSubtree(id);
    if (!done) return null;
    const now = this.#now();
    let revokedKeys = 0;
    for (const row of this.#keys.values()) {
      if (row.status === 'revoked' || !row.budgetPath.includes(id)) continue;
      row.status = 'revoked';
      row.revokedAt = now;
      revokedKeys += 1;
    }
    return { budget: this.#budgets.view(done.root), revokedKeys, revokedBudgets: done.revoked };
  }

  async createIssuer(issuer: NewIssuer): Promise<IssuerRecord> {
    return this.#budgets.createIssuer(issuer);
  }

  async getIssuer(id: string): Promise<IssuerRecord | null> {
    return this.#budgets.getIssuer(id);
  }

  async findIssuerByTokenHash(tokenHash: string): Promise<IssuerRecord | null> {
    return this.#budgets.findIssuer(tokenHash);
  }

  async listIssuers(query: IssuerQuery): Promise<Page<IssuerRecord>> {
    return this.#budgets.listIssuers(query);
  }

  async revokeIssuer(id: string): Promise<{ issuer: IssuerRecord; revokedKeys: number } | null> {
    const issuer = this.#budgets.revokeIssuer(id);
    if (!issuer) return null;
    let revokedKeys = 0;
    for (const row of this.#keys.values()) {
      if (row.key.issuerId !== id || row.status === 'revoked') continue;
      row.status = 'revoked';
      row.revokedAt = issuer.revokedAt;
      revokedKeys += 1;
    }
    return { issuer, revokedKeys };
  }

  #snapshot(row: MutableKey): KeyRecord {
    const today = utcDay(this.#now());
    return {
      ...row.key,
      approvalAboveUsd: row.key.approvalAboveUsd ?? null,
      budgetId: row.key.budgetId ?? null,
      issuerId: row.key.issuerId ?? null,
      budgetPath: [...row.budgetPath],
      metadata: { ...row.key.metadata },
      allowedEndpoints: [...row.key.allowedEndpoints],
      connectedAccounts: [...row.key.connectedAccounts],
      status: row.status,
      revokedAt: row.revokedAt,
      spent: row.committed - row.reserved,
      reserved: row.reserved,
      uncertain: row.uncertain,
      spentToday: row.day === today ? row.dayCommitted : 0,
      calls: row.calls,
      deniedCalls: row.deniedCalls,
    };
  }
}

function matchesKeyQuery(row: MutableKey, query: KeyQuery): boolean {
  const label = row.key.label ?? '';
  if (query.label !== undefined && row.key.label !== query.label) return false;
  if (query.labelPrefix !== undefined && (row.key.label === null || !label.startsWith(query.labelPrefix))) {
    return false;
  }
  if (query.status !== undefined && row.status !== query.status) return false;
  if (query.vendor !== undefined && row.key.vendor !== query.vendor) return false;
  return true;
}

function matchesBulkFilter(key: NewKey, filter: BulkRevokeFilter): boolean {
  if (filter.label !== undefined && key.label !== filter.label) return false;
  if (filter.labelPrefix !== undefined && !(key.label ?? '').startsWith(filter.labelPrefix)) return false;
  if (key.label === null && filter.labelPrefix !== undefined) return false;
  if (filter.metadata) {
    for (const [k, v] of Object.entries(filter.metadata)) if (key.metadata[k] !== v) return false;
  }
  return true;
}

function matchesAuditQuery(row: AuditRow, query: AuditQuery): boolean {
  if (query.keyId !== undefined && row.keyId !== query.keyId) return false;
  if (query.label !== undefined && row.label !== query.label) return false;
  if (query.labelPrefix !== undefined && !(row.label ?? '').startsWith(query.labelPrefix)) return false;
  if (query.labelPrefix !== undefined && row.label === null) return false;
  if (query.vendor !== undefined && row.vendor !== query.vendor) return false;
  if (query.decision !== undefined && row.decision !== query.decision) return false;
  if (query.since !== undefined && row.ts < query.since) return false;
  if (query.until !== undefined && row.ts >= query.until) return false;
  return true;
}
