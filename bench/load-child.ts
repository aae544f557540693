/**
 * The fallback load generator of bench/full.ts when wrk is missing: undici, in its own process (so it never
 * shares an event loop with the proxy or the bench's driver). Same requests as bench/wrk.lua, same output line.
 *
 * tsx bench/load-child.ts '{"origin":…,"seconds":10,"connections":64,"prefix":…,"token":…|"tokensFile":…}'
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

interface Options {
  readonly origin: string;
  readonly seconds: number;
  readonly connections: number;
  readonly prefix: string;
  readonly token?: string;
  readonly tokensFile?: string;
  readonly tokenLimit?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
let tokens: string[] = options.token ? [options.token] : [];
if (options.tokensFile) {
  tokens = readFileSync(options.tokensFile, 'utf8').split('\n').filter(Boolean);
  if (options.tokenLimit) tokens = tokens.slice(0, options.tokenLimit);
}
if (tokens.length === 0) throw new Error('no token');

const pool = new Pool(options.origin, { connections: options.connections });
const latencies: number[] = [];
const errors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 };
let sent = 0;
const started = performance.now();
const deadline = started + options.seconds * 1000;

async function worker(): Promise<void> {
  while (performance.now() < deadline) {
    const i = sent++;
    const t0 = performance.now();
    try {
      const res = await pool.request({
        path: '/v1/payment_intents',
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Bearer ${tokens[i % tokens.length] ?? ''}`,
          'idempotency-key': `stripe-node-retry-${options.prefix}-${i}`,
        },
        body: 'amount=500&currency=usd&customer=cus_bench',
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      await res.body.dump();
      if (res.statusCode > 399) errors.status += 1;
    } catch {
      errors.read += 1;
    }
    latencies.push((performance.now() - t0) * 1000);
  }
}

await Promise.all(Array.from({ length: options.connections }, worker));
const durationUs = (performance.now() - started) * 1000;
await pool.close();
latencies.sort((a, b) => a - b);
const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
process.stdout.write(
  `LOADJSON ${JSON.stringify({
    requests: latencies.length,
    duration_us: Math.round(durationUs),
    ...errors,
    p50: pick(0.5),
    p90: pick(0.9),
    p99: pick(0.99),
    max: latencies.at(-1) ?? 0,
  })}\n`,
);
