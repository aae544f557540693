import type { ReserveInput } from './types.js';

/** One reservation's answer from `sg_reserve_claim`, as the batch statement returns it. */
export interface ClaimRow<K> {
  readonly ord: number;
  readonly outcome: string;
  readonly reservation_id: string | null;
  readonly key_row: K | null;
}

/** A reservation waiting for its batch, with the id it will have if it is made. */
export interface BatchItem {
  readonly input: ReserveInput;
  readonly reservationId: string;
}

interface Waiting<K> extends BatchItem {
  readonly resolve: (row: ClaimRow<K>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Every reservation of a batch in one statement, so one round trip and one commit (one WAL flush) for all
 * of them. `sg_reserve_claim` runs once per item, in the order of the arrays: each item is decided against
 * the effects of the items before it, exactly as if they had come one by one, so a cap stays exact.
 * $1 is the clock.
 */
export const RESERVE_BATCH = `
  SELECT t.ord::int AS ord, r.outcome, r.reservation_id, r.key_row
  FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
    WITH ORDINALITY AS t (key_id, amount, reservation_id, idempotency_key, fingerprint, instance_id, request_id, ord)
  CROSS JOIN LATERAL sg_reserve_unbudgeted($1::bigint, t.key_id, t.amount, t.reservation_id, t.idempotency_key,
    t.fingerprint, t.instance_id, t.request_id) AS r`;

/** The parameters of RESERVE_BATCH for `items`, after the clock. */
export function batchParams(items: readonly BatchItem[]): unknown[][] {
  return [
    items.map((item) => item.input.keyId),
    items.map((item) => item.input.amount),
    items.map((item) => item.reservationId),
    items.map((item) => item.input.idempotency?.key ?? null),
    items.map((item) => item.input.idempotency?.fingerprint ?? null),
    items.map((item) => item.input.instanceId ?? null),
    items.map((item) => item.input.requestId ?? null),
  ];
}

/**
 * Group commit for PostgreSQL reservations: the ones asked for in the same turn of the event loop go to the
 * ledger together. Items are sorted by key id (stably, so one key's calls keep their order) before they are
 * sent: every batch then takes its row locks in one global order, and two batches (on two connections, or
 * two instances) can never wait on each other in a cycle. Only keys without a budget are reserved in a
 * batch: a budgeted key also locks its chain, which would break that order across the items, so the batch
 * hands it back untouched (`budgeted`) and it reserves on its own.
 */
export class ReserveBatcher<K> {
  #pending: Waiting<K>[] | undefined;

  constructor(
    private readonly send: (items: readonly BatchItem[]) => Promise<ClaimRow<K>[]>,
    private readonly maxItems = 64,
  ) {}

  add(item: BatchItem): Promise<ClaimRow<K>> {
    return new Promise((resolve, reject) => {
      if (!this.#pending) {
        const pending: Waiting<K>[] = [];
        this.#pending = pending;
        setImmediate(() => this.#flush(pending));
      }
      this.#pending.push({ ...item, resolve, reject });
    });
  }

  #flush(pending: Waiting<K>[]): void {
    if (this.#pending === pending) this.#pending = undefined;
    const sorted = [...pending].sort((a, b) =>
      a.input.keyId < b.input.keyId ? -1 : a.input.keyId > b.input.keyId ? 1 : 0,
    );
    for (let start = 0; start < sorted.length; start += this.maxItems) {
      void this.#sendChunk(sorted.slice(start, start + this.maxItems));
    }
  }

  async #sendChunk(chunk: Waiting<K>[]): Promise<void> {
    try {
      const rows = await this.send(chunk);
      const byOrd = new Map(rows.map((row) => [row.ord, row]));
      chunk.forEach((item, i) => {
        const row = byOrd.get(i + 1);
        if (row) item.resolve(row);
        else item.reject(new Error('the batched reservation returned no row'));
      });
    } catch (error) {
      // The whole batch is one statement, so it committed whole or not at all, and a lost answer leaves it
      // unknown which: each caller fails closed (and journals its abandon) exactly as it would alone.
      for (const item of chunk) item.reject(error);
    }
  }
}
