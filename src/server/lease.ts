import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../store/types.js';
import { errorSummary } from './error-summary.js';

export interface Lease {
  /** This process's instance id, recorded on each of its reservations. */
  readonly instanceId: string;
  stop(): void;
}

/**
 * This instance's lease on its in-flight reservations, renewed three times per lease period, and the reaper
 * that any live instance runs for the others: a reservation whose instance stopped renewing (it was killed,
 * or lost the ledger for a whole lease) is resolved as uncertain, so `reserved_usd` returns to 0 and the
 * money that may have moved stays counted. The first renewal is awaited, so no reservation is made unleased.
 */
export async function startLease(options: {
  readonly store: Store;
  readonly logger: Logger;
  readonly leaseMs: number;
}): Promise<Lease> {
  const { store, logger, leaseMs } = options;
  const instanceId = `inst_${randomUUID().replaceAll('-', '')}`;
  await store.heartbeat({ instanceId, leaseMs });
  const renew = setInterval(() => {
    store.heartbeat({ instanceId, leaseMs }).catch((err: unknown) => {
      logger.warn({ err: errorSummary(err) }, 'lease renewal failed');
    });
  }, leaseMs / 3);
  renew.unref();
  let reaping = false;
  const reap = setInterval(() => {
    if (reaping) return;
    reaping = true;
    store
      .reapExpired()
      .then((count) => {
        if (count > 0)
          logger.warn({ event: 'reservations_reaped', count }, 'resolved reservations of a lapsed lease');
      })
      .catch((err: unknown) => logger.warn({ err: errorSummary(err) }, 'reaper failed'))
      .finally(() => {
        reaping = false;
      });
  }, leaseMs / 2);
  reap.unref();
  return {
    instanceId,
    stop() {
      clearInterval(renew);
      clearInterval(reap);
    },
  };
}
