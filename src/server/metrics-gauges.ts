import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { microsToUsd } from '../money.js';
import type { Clock } from '../store/clock.js';
import type { Store } from '../store/types.js';
import { errorSummary } from './error-summary.js';

/** At most this many rows are read per gauge and scrape; past it the gauge is a lower bound (and says so). */
const SCAN_LIMIT = 10_000;
const PAGE = 500;

interface LedgerSnapshot {
  readonly activeKeys: number;
  readonly reservedMicros: number;
  readonly truncated: { readonly keys: boolean; readonly reserved: boolean };
}

export interface LedgerGaugeOptions {
  readonly registry: Registry;
  readonly store: Store;
  readonly now: Clock;
  readonly logger: Logger;
}

/**
 * `spendgate_reserved_usd` and `spendgate_keys_active`, read from the ledger when scraped. They describe the
 * shared ledger, not this process: an in-process running count would be wrong on every instance but the one
 * that issued a key, lost on restart, and blind to keys expiring by the clock alone. The read is bounded
 * (SCAN_LIMIT rows; `spendgate_gauge_scan_truncated` is 1 past it), and a ledger that fails the read makes
 * them NaN rather than stale, while the rest of the scrape still answers.
 */
export function registerLedgerGauges(options: LedgerGaugeOptions): void {
  const { registry, store, now, logger } = options;
  // Both gauges are collected concurrently within one scrape; they share one read of the ledger.
  let pending: Promise<LedgerSnapshot | null> | undefined;
  const snapshot = () =>
    (pending ??= readSnapshot(store, now())
      .catch((err: unknown) => {
        logger.warn({ err: errorSummary(err) }, 'metrics: ledger gauges unavailable');
        return null;
      })
      .finally(() => {
        pending = undefined;
      }));

  const registers = [registry];
  new Gauge({
    name: 'spendgate_reserved_usd',
    help: 'USD held by reservations in flight, across the ledger',
    registers,
    async collect() {
      const s = await snapshot();
      this.set(s ? microsToUsd(s.reservedMicros) : NaN);
    },
  });
  new Gauge({
    name: 'spendgate_keys_active',
    help: 'Keys that are neither revoked nor expired, across the ledger',
    registers,
    async collect() {
      const s = await snapshot();
      this.set(s ? s.activeKeys : NaN);
    },
  });
  new Gauge({
    name: 'spendgate_gauge_scan_truncated',
    help: `1 when a ledger gauge stopped at ${SCAN_LIMIT} rows and is a lower bound`,
    labelNames: ['gauge'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      this.set({ gauge: 'spendgate_keys_active' }, s?.truncated.keys ? 1 : 0);
      this.set({ gauge: 'spendgate_reserved_usd' }, s?.truncated.reserved ? 1 : 0);
    },
  });
}

async function readSnapshot(store: Store, at: number): Promise<LedgerSnapshot> {
  const reservations = await store.listReservations({ status: 'reserved', limit: SCAN_LIMIT + 1 });
  const reservedMicros = reservations.slice(0, SCAN_LIMIT).reduce((sum, r) => sum + r.amount, 0);
  let activeKeys = 0;
  let scanned = 0;
  let cursor: string | undefined;
  do {
    const page = await store.listKeys({ status: 'active', limit: PAGE, cursor });
    scanned += page.data.length;
    activeKeys += page.data.filter((key) => key.expiresAt > at).length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && scanned < SCAN_LIMIT);
  return {
    activeKeys,
    reservedMicros,
    truncated: { keys: cursor !== undefined, reserved: reservations.length > SCAN_LIMIT },
  };
}
