import { microsToUsd } from '../money.js';
import type { Store } from '../store/types.js';
import type { Forwarder } from './forwarder.js';
import type { LedgerEntry } from './ledger-entry.js';
import type { ProxyMetrics } from './metrics.js';
import type { Recorder } from './recorder.js';

/**
 * The store, with every asynchronous method timed under its own name as `op`. Wrapping the store rather than
 * each `ledger(...)` call site times every ledger operation (admin routes, vendor calls, background writes,
 * lease and reaper) with a bounded label set, and a method added to the store later is timed as well.
 */
export function timeStore(store: Store, metrics: ProxyMetrics): Store {
  return new Proxy(store, {
    get(target, prop) {
      // Read and call on the store itself, so classes with private fields and getters keep working.
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        // The clock starts before the call: SQLite does its work synchronously, before the promise returns.
        const started = performance.now();
        const result: unknown = Reflect.apply(value, target, args);
        if (!(result instanceof Promise)) return result;
        const observe = () =>
          metrics.ledgerSeconds.observe({ op: prop }, (performance.now() - started) / 1000);
        return result.finally(observe);
      };
    },
  });
}

/** The forwarder, with each send timed by vendor, failures included. */
export function timeForwarder(forwarder: Forwarder, metrics: ProxyMetrics): Forwarder {
  return {
    async send(request) {
      const end = metrics.upstreamSeconds.startTimer({ vendor: request.vendor });
      try {
        return await forwarder.send(request);
      } finally {
        end();
      }
    },
    close: () => forwarder.close(),
  };
}

/**
 * The recorder, counting each call as its ledger entry is handed over. Every proxied call, allowed or
 * denied, ends in exactly one entry with its audit row, so counting here matches the audit log without
 * touching the call path; counting at hand-over (not once written) moves the counter before the reply.
 */
export function countRecorder(recorder: Recorder, metrics: ProxyMetrics): Recorder {
  const count = (entry: LedgerEntry) => {
    const { audit } = entry;
    const vendor = audit.vendor ?? '';
    metrics.calls.inc({ vendor, decision: audit.decision, code: audit.code ?? '' });
    const spent =
      entry.kind === 'settle'
        ? entry.amount
        : entry.kind === 'uncertain'
          ? (audit.costSettled ?? audit.costReserved ?? 0)
          : 0;
    if (spent > 0) {
      const settlement = entry.kind === 'settle' ? 'settled' : 'uncertain';
      metrics.spendUsd.inc({ vendor, settlement }, microsToUsd(spent));
    }
  };
  return {
    ...recorder,
    record(entry) {
      count(entry);
      return recorder.record(entry);
    },
    later(entry) {
      count(entry);
      recorder.later(entry);
    },
  };
}
