/**
 * `npm run bench`: direct calls to a fake Stripe vs the same calls through spendgate, in one run.
 * Options: BENCH_REQUESTS (default 20000), BENCH_CONCURRENCY (64), BENCH_PG_URL (adds PostgreSQL rows; CI's
 * database is postgres://postgres@127.0.0.1:5432/test), BENCH_PROFILE=1 (writes a CPU profile of the SQLite proxy
 * to bench/profiles/; summarise it with `npx tsx bench/profile-summary.ts <file>`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { percentile, runLoad, type LoadResult } from './load.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const PG_URL = process.env.BENCH_PG_URL;
const SECRET = 'sk_test_bench';
const ADMIN = 'bench-admin-token-0123456789';
const BODY = 'amount=500&currency=usd&customer=cus_bench';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const root = join(import.meta.dirname, '..');
const children: ChildProcess[] = [];

const PROFILE_DIR = process.env.BENCH_PROFILE ? join(root, 'bench', 'profiles') : undefined;

function start(
  script: string[],
  env: Record<string, string>,
  pattern: RegExp,
  profile = false,
): Promise<string> {
  const flags = profile && PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', ...script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`did not start: ${out}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

function startProxy(upstream: string, db: string, schema?: string, profile = false): Promise<string> {
  return start(
    ['src/cli/bin.ts', 'serve'],
    {
      SPENDGATE_ADMIN_TOKEN: ADMIN,
      SPENDGATE_PORT: '0',
      SPENDGATE_DB: db,
      ...(schema ? { SPENDGATE_DB_SCHEMA: schema } : {}),
      STRIPE_SECRET_KEY: SECRET,
      SPENDGATE_STRIPE_BASE_URL: upstream,
      SPENDGATE_LOG_LEVEL: 'warn',
    },
    /spendgate listening on (\S+)/,
    profile,
  );
}

async function admin(base: string, method: 'POST' | 'DELETE', path: string, body?: unknown) {
  const res = await request(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as { id: string; token: string };
}

const SERIAL = Number(process.env.BENCH_SERIAL_REQUESTS ?? 2000);

/** Priced payment-intent POSTs with a fresh Idempotency-Key each, as the Stripe SDK sends them. */
function payments(
  origins: string[],
  headers: Record<string, string>,
  phase: { requests: number; concurrency: number; maxSeconds: number },
) {
  return runLoad({
    origins,
    path: '/v1/payment_intents',
    headers,
    body: BODY,
    idempotencyKeys: true,
    ...phase,
  });
}

/** 1,000 warm-up requests, then the measured phase at BENCH_CONCURRENCY. */
async function underLoad(origins: string[], headers: Record<string, string>): Promise<LoadResult> {
  await payments(origins, headers, { requests: 1000, concurrency: CONCURRENCY, maxSeconds: 30 });
  return payments(origins, headers, { requests: REQUESTS, concurrency: CONCURRENCY, maxSeconds: 120 });
}

/** One request at a time: the latency the proxy adds to a call, without queueing behind other calls. */
function serial(origins: string[], headers: Record<string, string>): Promise<LoadResult> {
  return payments(origins, headers, { requests: SERIAL, concurrency: 1, maxSeconds: 60 });
}

async function vaultHeaders(origin: string): Promise<Record<string, string>> {
  const key = await admin(origin, 'POST', '/v1/keys', {
    vendor: 'stripe',
    usd_cap: 10_000_000,
    allowed_endpoints: ['POST /v1/payment_intents'],
    expires_in: '1h',
    label: 'bench',
  });
  return { ...FORM, authorization: `Bearer ${key.token}` };
}

/** A key at the bottom of a three-level budget tree (tenant → run → sub-agent), each level capped. */
async function budgetedHeaders(origin: string): Promise<Record<string, string>> {
  let parent: string | undefined;
  // Each level expires before its parent: a child may never outlive the budget it draws on.
  for (const [label, ttl] of [
    ['bench-tenant', '1h'],
    ['bench-run', '50m'],
    ['bench-subagent', '40m'],
  ]) {
    const budget = await admin(origin, 'POST', '/v1/budgets', {
      usd_cap: 10_000_000,
      expires_in: ttl,
      label,
      ...(parent ? { parent_id: parent } : {}),
    });
    parent = budget.id;
  }
  const key = await admin(origin, 'POST', '/v1/keys', {
    vendor: 'stripe',
    budget_id: parent,
    usd_cap: 10_000_000,
    allowed_endpoints: ['POST /v1/payment_intents'],
    expires_in: '30m',
    label: 'bench-budgeted',
  });
  return { ...FORM, authorization: `Bearer ${key.token}` };
}

async function throughProxy(origins: string[]): Promise<LoadResult> {
  return underLoad(origins, await vaultHeaders(origins[0] as string));
}

async function issueRevoke(base: string, rounds = 500): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const t0 = performance.now();
    const key = await admin(base, 'POST', '/v1/keys', {
      vendor: 'stripe',
      usd_cap: 5,
      allowed_endpoints: ['POST /v1/payment_intents'],
      label: `bench-ir-${i}`,
    });
    await admin(base, 'DELETE', `/v1/keys/${key.id}`);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

const fmt = (r: LoadResult) =>
  `${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  (${r.ok} ok, ${r.errors} errors, ${r.requests} sent)`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'spendgate-bench-'));
  try {
    const upstream = await start(['bench/upstream.ts'], { BENCH_STRIPE_SECRET: SECRET }, /upstream (\S+)/);
    console.log(
      `spendgate bench: ${REQUESTS} POST /v1/payment_intents at concurrency ${CONCURRENCY}, Node ${process.version}`,
    );
    const directHeaders = { ...FORM, authorization: `Bearer ${SECRET}` };
    const direct = await underLoad([upstream], directHeaders);
    console.log(`direct to upstream        ${fmt(direct)}`);
    const directSerial = await serial([upstream], directHeaders);
    console.log(`direct, one at a time     ${fmt(directSerial)}`);

    const sqliteProxy = await startProxy(upstream, join(dir, 'bench.db'), undefined, true);
    const sqlite = await throughProxy([sqliteProxy]);
    console.log(`proxy, sqlite             ${fmt(sqlite)}`);
    const sqliteSerial = await serial([sqliteProxy], await vaultHeaders(sqliteProxy));
    console.log(`proxy sqlite, one at a time ${fmt(sqliteSerial)}`);
    // Right after the plain key's phase, on the same proxy: the cost of a three-level budget chain.
    const treeSqlite = await underLoad([sqliteProxy], await budgetedHeaders(sqliteProxy));
    console.log(`proxy sqlite, 3-level budget ${fmt(treeSqlite)}`);
    const ir = await issueRevoke(sqliteProxy);
    console.log(
      `issue+revoke, sqlite      p50 ${ir.p50.toFixed(2)} ms  p99 ${ir.p99.toFixed(2)} ms (500 sequential rounds)`,
    );

    const rows: [string, LoadResult][] = [];
    let treePg: [LoadResult, LoadResult] | undefined;
    if (PG_URL) {
      const schema = `sg_bench_${process.pid}`;
      const pg1 = await startProxy(upstream, PG_URL, schema);
      const one = await throughProxy([pg1]);
      console.log(`proxy, postgres x1        ${fmt(one)}`);
      const pgSerial = await serial([pg1], await vaultHeaders(pg1));
      console.log(`proxy postgres, one at a time ${fmt(pgSerial)}`);
      treePg = [one, await underLoad([pg1], await budgetedHeaders(pg1))];
      console.log(`proxy postgres, 3-level budget ${fmt(treePg[1])}`);
      const pgIr = await issueRevoke(pg1, 200);
      console.log(
        `issue+revoke, postgres    p50 ${pgIr.p50.toFixed(2)} ms  p99 ${pgIr.p99.toFixed(2)} ms (200 sequential rounds)`,
      );
      const pg2 = await startProxy(upstream, PG_URL, schema);
      const two = await throughProxy([pg1, pg2]);
      console.log(`proxy, postgres x2        ${fmt(two)}`);
      rows.push(['postgres x1', one], ['postgres x2', two]);
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }

    console.log('\nratios (same run):');
    console.log(
      `  added latency one at a time (sqlite): p50 ${(sqliteSerial.p50 - directSerial.p50).toFixed(2)} ms, p99 ${(sqliteSerial.p99 - directSerial.p99).toFixed(2)} ms`,
    );
    console.log(
      `  added p50 via proxy (sqlite): ${(sqlite.p50 - direct.p50).toFixed(2)} ms; added p99: ${(sqlite.p99 - direct.p99).toFixed(2)} ms`,
    );
    console.log(
      `  throughput via proxy / direct (sqlite): ${((sqlite.rps / direct.rps) * 100).toFixed(0)} %`,
    );
    console.log(
      `  key under a 3-level budget / plain key (sqlite): ${((treeSqlite.rps / sqlite.rps) * 100).toFixed(0)} %, p99 ${treeSqlite.p99.toFixed(2)} vs ${sqlite.p99.toFixed(2)} ms`,
    );
    if (treePg) {
      console.log(
        `  key under a 3-level budget / plain key (postgres x1): ${((treePg[1].rps / treePg[0].rps) * 100).toFixed(0)} %, p99 ${treePg[1].p99.toFixed(2)} vs ${treePg[0].p99.toFixed(2)} ms`,
      );
    }
    for (const [name, r] of rows) {
      console.log(`  ${name} / sqlite throughput: ${((r.rps / sqlite.rps) * 100).toFixed(0)} %`);
    }
  } finally {
    // Wait for the children to stop, so a profiled proxy has written its profile.
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
