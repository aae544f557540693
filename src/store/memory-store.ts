import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';
import { systemClock, utcDay } from './clock.js';
import { capRefusal } from './cap-check.js';
import type {
  AuditQuery,
  AuditRow,
  BulkRevokeFilter,
  KeyQuery,
  KeyRecord,
  NewAuditRow,
  NewKey,
  Page,
  ReserveInput,
  ReserveResult,
  Settlement,
  SettleInput,
  FinishInput,
  Store,
} from './types.js';

interface MutableKey {
  key: NewKey;
  seq: number;
  status: 'active' | 'revoked';
  revokedAt: number | null;
  committed: number;
  reserved: number;
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
}

/**
 * An in-process ledger for unit tests and the sandbox. JavaScript runs each method body without interruption,
 * so every spend change is atomic; records are copied out so callers cannot mutate the ledger.
 */
export class MemoryStore implements Store {
  readonly #now: Clock;
  readonly #keys = new Map<string, MutableKey>();
  readonly #byHash = new Map<string, string>();
  readonly #reservations = new Map<string, Reservation>();
  readonly #idempotency = new Map<string, string>();
  readonly #audit: AuditRow[] = [];
  #seq = 0;

  constructor(options: { readonly now?: Clock } = {}) {
    this.#now = options.now ?? systemClock;
  }

  async init(): Promise<void> {}
  async close(): Promise<void> {}

  async issueKey(key: NewKey): Promise<KeyRecord> {
    if (this.#keys.has(key.id) || this.#byHash.has(key.tokenHash))
      throw new Error('duplicate key id or token');
    const row: MutableKey = {
      key: { ...key, metadata: { ...key.metadata }, allowedEndpoints: [...key.allowedEndpoints] },
      seq: ++this.#seq,
      status: 'active',
      revokedAt: null,
      committed: 0,
      reserved: 0,
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
    const existing = claimId ? this.#reservations.get(this.#idempotency.get(claimId) ?? '') : undefined;
    if (existing && claim) {
      if (existing.fingerprint !== claim.fingerprint) {
        return { ok: false, code: 'idempotency_mismatch', key: this.#snapshot(row) };
      }
      if (existing.status !== 'released') {
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

    row.committed += input.amount;
    row.reserved += input.amount;
    row.day = today;
    row.dayCommitted = dayCommitted + input.amount;
    row.calls += 1;
    // A released claim is reused: the retry is a new attempt at the same operation.
    const reservation: Reservation = existing ?? {
      id: `res_${randomUUID().replaceAll('-', '')}`,
      keyId: row.key.id,
      amount: 0,
      day: today,
      status: 'reserved',
      idempotencyKey: claim?.key ?? null,
      fingerprint: claim?.fingerprint ?? null,
      objectId: null,
    };
    Object.assign(reservation, { amount: input.amount, day: today, status: 'reserved' satisfies Settlement });
    this.#reservations.set(reservation.id, reservation);
    if (claimId) this.#idempotency.set(claimId, reservation.id);
    return { ok: true, reservationId: reservation.id, replay: false, key: this.#snapshot(row) };
  }

  async settle(input: SettleInput): Promise<void> {
    if (input.audit) this.#append(input.audit);
    const res = this.#reservations.get(input.reservationId);
    if (!res || (res.status !== 'reserved' && res.status !== 'uncertain')) return;
    const row = this.#keys.get(res.keyId);
    if (!row) return;
    const delta = input.amount - res.amount;
    row.committed += delta;
    if (res.status === 'reserved') row.reserved -= res.amount;
    if (row.day === res.day) row.dayCommitted = Math.max(0, row.dayCommitted + delta);
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
    row.committed -= res.amount;
    row.reserved -= res.amount;
    if (row.day === res.day) row.dayCommitted = Math.max(0, row.dayCommitted - res.amount);
    res.status = 'released';
  }

  async markUncertain(input: FinishInput): Promise<void> {
    if (input.audit) this.#append(input.audit);
    const res = this.#reservations.get(input.reservationId);
    if (!res || res.status !== 'reserved') return;
    const row = this.#keys.get(res.keyId);
    if (!row) return;
    row.reserved -= res.amount;
    res.status = 'uncertain';
  }

  async appendAudit(input: NewAuditRow): Promise<AuditRow> {
    return this.#append(input);
  }

  #append(input: NewAuditRow): AuditRow {
    const row: AuditRow = {
      ...input,
      latencyMs: Math.round(input.latencyMs),
      id: String(this.#audit.length + 1),
    };
    this.#audit.push(row);
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
      if (row && Number(row.id) < before && matchesAuditQuery(row, query)) matches.push({ ...row });
    }
    const page = matches.slice(0, query.limit);
    return { data: page, nextCursor: matches.length > query.limit ? (page.at(-1)?.id ?? null) : null };
  }

  #snapshot(row: MutableKey): KeyRecord {
    const today = utcDay(this.#now());
    return {
      ...row.key,
      metadata: { ...row.key.metadata },
      allowedEndpoints: [...row.key.allowedEndpoints],
      status: row.status,
      revokedAt: row.revokedAt,
      spent: row.committed - row.reserved,
      reserved: row.reserved,
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
