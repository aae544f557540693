import type { Store } from '../store/types.js';

export interface Readiness {
  /** True while the ledger answered a probe within the last `freshMs`. */
  isReady(): boolean;
  stop(): void;
}

export interface ReadinessOptions {
  readonly store: Store;
  /** How often to probe (default 250 ms). One probe is in flight at most. */
  readonly intervalMs?: number;
  /** How recent the last answer must be (default 1 s, as the HTTP contract says). */
  readonly freshMs?: number;
}

/**
 * Probes the ledger in the background so that `/readyz` answers at once and tells a load balancer the truth:
 * an instance whose ledger does not answer can only refuse, so it should get no traffic. A probe that hangs
 * (a silent partition) is bounded by the store's own deadline; meanwhile the last answer simply grows stale.
 */
export function startReadiness(options: ReadinessOptions): Readiness {
  const intervalMs = options.intervalMs ?? 250;
  const freshMs = options.freshMs ?? 1000;
  let lastAnswer = -Infinity;
  let probing = false;
  const probe = () => {
    if (probing) return;
    probing = true;
    options.store
      .ping()
      .then(() => {
        lastAnswer = performance.now();
      })
      .catch(() => undefined)
      .finally(() => {
        probing = false;
      });
  };
  probe();
  const timer = setInterval(probe, intervalMs);
  timer.unref();
  return {
    isReady: () => performance.now() - lastAnswer <= freshMs,
    stop: () => clearInterval(timer),
  };
}
