import { setTimeout as sleep } from 'node:timers/promises';

/** An audit row as the proxy sends it; only `id` (`aud_<sequence>`) is relied on here. */
export type AuditRowJson = Readonly<Record<string, unknown>> & { readonly id: string };

export interface AuditPageJson {
  readonly data: readonly AuditRowJson[];
  readonly next_cursor: string | null;
}

export interface FollowAuditOptions {
  /** Fetches one page, newest first, with the caller's filters; `cursor` continues an earlier page. */
  readonly fetchPage: (cursor: string | undefined) => Promise<AuditPageJson>;
  /** Pause between polls. */
  readonly intervalMs: number;
  /** Ends the loop (Ctrl-C, a time limit). */
  readonly signal: AbortSignal;
  /**
   * Most pages read per poll. Past it, older new rows are skipped and the batch says `gap: true`, so a burst
   * can never make one poll unbounded.
   * @default 20
   */
  readonly maxPagesPerPoll?: number;
}

export interface AuditBatch {
  /** New rows, oldest first. The first batch is the latest page. */
  readonly rows: readonly AuditRowJson[];
  /** Some new rows were not read because more arrived than `maxPagesPerPoll` pages hold. */
  readonly gap: boolean;
}

/** Tails `GET /v1/audit`: yields the latest page, then every row newer than the last one seen, until aborted. */
export async function* followAudit(options: FollowAuditOptions): AsyncGenerator<AuditBatch> {
  const maxPages = options.maxPagesPerPoll ?? 20;
  const first = await options.fetchPage(undefined);
  let last = Math.max(-1, ...first.data.map(sequenceOf));
  yield { rows: [...first.data].reverse(), gap: false };
  while (!options.signal.aborted) {
    try {
      await sleep(options.intervalMs, undefined, { signal: options.signal });
    } catch {
      return; // aborted while waiting
    }
    const batch = await newerThan(options, last, maxPages);
    if (batch.rows.length > 0) last = Math.max(last, ...batch.rows.map(sequenceOf));
    if (batch.rows.length > 0 || batch.gap) yield batch;
  }
}

async function newerThan(options: FollowAuditOptions, last: number, maxPages: number): Promise<AuditBatch> {
  const rows: AuditRowJson[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const { data, next_cursor } = await options.fetchPage(cursor);
    const fresh = data.filter((row) => sequenceOf(row) > last);
    rows.push(...fresh);
    if (fresh.length < data.length || next_cursor === null) return { rows: rows.reverse(), gap: false };
    cursor = next_cursor;
  }
  return { rows: rows.reverse(), gap: true };
}

/** `aud_42` → 42: rows are numbered in the order the ledger wrote them. */
function sequenceOf(row: AuditRowJson): number {
  const n = Number(/(\d+)$/.exec(row.id)?.[1]);
  return Number.isFinite(n) ? n : -1;
}
