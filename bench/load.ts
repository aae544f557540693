import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';

export interface LoadResult {
  readonly requests: number;
  readonly ok: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

export interface LoadOptions {
  /** One origin, or several spread round-robin (several proxy instances). */
  readonly origins: readonly string[];
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly requests: number;
  readonly concurrency: number;
  /** Send a fresh `Idempotency-Key` with every request, as the Stripe SDK does on every POST. */
  readonly idempotencyKeys?: boolean;
  /** Hard stop, whatever is left: every load loop here ends by itself. */
  readonly maxSeconds: number;
}

/** Fires `requests` POSTs with `concurrency` in flight, and reports throughput and latency in ms. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pools = options.origins.map(
    (origin) =>
      new Pool(origin, { connections: Math.ceil(options.concurrency / options.origins.length) + 1 }),
  );
  const latencies: number[] = [];
  let next = 0;
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.maxSeconds * 1000;
  const worker = async () => {
    while (next < options.requests && performance.now() < deadline) {
      const i = next++;
      const pool = pools[i % pools.length] as Pool;
      const t0 = performance.now();
      try {
        const headers = options.idempotencyKeys
          ? { ...options.headers, 'idempotency-key': `stripe-node-retry-${randomUUID()}` }
          : options.headers;
        const res = await pool.request({ path: options.path, method: 'POST', headers, body: options.body });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) ok += 1;
        else errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(pools.map((p) => p.close()));
  latencies.sort((a, b) => a - b);
  const pick = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    ok,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50: pick(0.5),
    p99: pick(0.99),
  };
}

export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}
