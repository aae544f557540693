import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The proxy's Prometheus metrics, on a registry of its own: two proxies in one process (tests, an embedding
 * application) never share or collide on series, and nothing is registered until a proxy starts.
 */
export interface ProxyMetrics {
  readonly registry: Registry;
  /** One per audited call: `decision` allowed or denied, `code` why (empty for a plain allowed call). */
  readonly calls: Counter<'vendor' | 'decision' | 'code'>;
  /** USD that calls settled or left uncertain, as each call ended (the ledger's key views are the balance). */
  readonly spendUsd: Counter<'vendor' | 'settlement'>;
  /** Every ledger operation, by the store method it called. */
  readonly ledgerSeconds: Histogram<'op'>;
  /** Every forward to a vendor, until its whole response was read or it failed. */
  readonly upstreamSeconds: Histogram<'vendor'>;
}

export function createProxyMetrics(): ProxyMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    calls: new Counter({
      name: 'spendgate_calls_total',
      help: 'Vendor calls by vendor, decision (allowed, denied) and refusal code',
      labelNames: ['vendor', 'decision', 'code'] as const,
      registers,
    }),
    spendUsd: new Counter({
      name: 'spendgate_spend_usd_total',
      help: 'USD settled or kept as uncertain by vendor calls, by vendor and settlement',
      labelNames: ['vendor', 'settlement'] as const,
      registers,
    }),
    ledgerSeconds: new Histogram({
      name: 'spendgate_ledger_seconds',
      help: 'Duration of ledger operations, by operation',
      labelNames: ['op'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    upstreamSeconds: new Histogram({
      name: 'spendgate_upstream_seconds',
      help: 'Duration of forwards to vendors, by vendor',
      labelNames: ['vendor'] as const,
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}
