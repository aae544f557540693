/**
 * The load generator of bench/full.ts, always in processes of its own: wrk (bench/wrk.lua) when installed,
 * else undici in a child process (bench/load-child.ts). Every run is bounded by its duration, and the process
 * is killed if it overruns by 30 s.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { root, runToEnd, which } from './procs.js';

export interface PhaseResult {
  readonly requests: number;
  /** Answers with status ≥ 400, plus socket errors and timeouts. */
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  /** Milliseconds. With several origins: the mean of their p50s and the highest p99. */
  readonly p50: number;
  readonly p99: number;
}

export interface LoadSpec {
  /** One origin, or several (proxy instances), each driven by its own generator with its share of the load. */
  readonly origins: readonly string[];
  readonly seconds: number;
  readonly connections: number;
  /** One Authorization for every request… */
  readonly token?: string;
  /** …or one rotating among the first `tokenLimit` lines (0: all) of this file. */
  readonly tokensFile?: string;
  readonly tokenLimit?: number;
}

interface RawResult {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p99: number;
}

/** BENCH_LOADGEN=undici uses the fallback even where wrk is installed. */
export const WRK = process.env.BENCH_LOADGEN === 'undici' ? undefined : which('wrk');
export const WRK_THREADS = Number(process.env.BENCH_WRK_THREADS ?? 1);
export const loadgenName = WRK
  ? `wrk (${WRK}, ${WRK_THREADS} thread per origin)`
  : `undici in its own process (bench/load-child.ts; ${
      process.env.BENCH_LOADGEN === 'undici' ? 'BENCH_LOADGEN=undici' : 'wrk not installed'
    })`;

async function one(origin: string, spec: LoadSpec, connections: number): Promise<RawResult> {
  const prefix = randomBytes(6).toString('hex');
  const timeoutMs = (spec.seconds + 30) * 1000;
  let out: { code: number | null; stdout: string; stderr: string };
  if (WRK) {
    const threads = Math.max(1, Math.min(WRK_THREADS, connections));
    out = await runToEnd(
      WRK,
      [
        `-t${threads}`,
        `-c${connections}`,
        `-d${spec.seconds}s`,
        '--timeout',
        '10s',
        '-s',
        join(root, 'bench', 'wrk.lua'),
        origin,
        '--',
        prefix,
        spec.token ?? '-',
        spec.tokensFile ?? '-',
        String(spec.tokenLimit ?? 0),
      ],
      timeoutMs,
    );
  } else {
    out = await runToEnd(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'bench', 'load-child.ts'),
        JSON.stringify({
          origin,
          seconds: spec.seconds,
          connections,
          prefix,
          token: spec.token,
          tokensFile: spec.tokensFile,
          tokenLimit: spec.tokenLimit,
        }),
      ],
      timeoutMs,
    );
  }
  const line = /(?:WRKJSON|LOADJSON) (\{.*\})/.exec(out.stdout)?.[1];
  if (!line) throw new Error(`load generator gave no result (exit ${out.code}): ${out.stdout}${out.stderr}`);
  return JSON.parse(line) as RawResult;
}

export async function runLoad(spec: LoadSpec): Promise<PhaseResult> {
  const share = Math.max(1, Math.round(spec.connections / spec.origins.length));
  const raws = await Promise.all(spec.origins.map((origin) => one(origin, spec, share)));
  const requests = raws.reduce((n, r) => n + r.requests, 0);
  const errors = raws.reduce((n, r) => n + r.connect + r.read + r.write + r.status + r.timeout, 0);
  const seconds = Math.max(...raws.map((r) => r.duration_us / 1e6));
  return {
    requests,
    errors,
    seconds,
    rps: raws.reduce((n, r) => n + r.requests / (r.duration_us / 1e6), 0),
    p50: raws.reduce((n, r) => n + r.p50, 0) / raws.length / 1000,
    p99: Math.max(...raws.map((r) => r.p99)) / 1000,
  };
}
