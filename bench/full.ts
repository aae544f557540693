/**
 * `npm run bench:full`: every path to the same fake Stripe, measured in one run, so that every comparison is
 * a ratio from one run on a noisy machine. Runs bench/setup.sh first (installs wrk and nginx-light if it can).
 *
 * Throughput phases (each a priced POST /v1/payment_intents with a fresh Idempotency-Key, driven by wrk in its
 * own process, BENCH_WARMUP s of warm-up then BENCH_DURATION s measured; paths compared with each other are
 * measured interleaved, A B B A):
 *   direct to the upstream · nginx in front of it · the Node floor (node:http + undici, no ledger) ·
 *   spendgate on SQLite (plain key; key under a 3-level budget) · spendgate on PostgreSQL, 1 instance (plain;
 *   3-level budget) and 2 instances · scale: 10,000 active keys, load spread across 1,000 of them.
 * Then: RSS of the SQLite proxy at 100,000 active keys under load across all of them, and the audit log
 * queried by label at 1,000,000 rows (SQLite, and PostgreSQL).
 *
 * Knobs: BENCH_DURATION (10 s), BENCH_WARMUP (3 s), BENCH_CONCURRENCY (64), BENCH_WRK_THREADS (1),
 * BENCH_NGINX_WORKERS (1), BENCH_PG_URL (adds PostgreSQL), BENCH_SCALE_KEYS (10000), BENCH_SCALE_SPREAD
 * (1000), BENCH_RSS_KEYS (100000), BENCH_RSS_DURATION (20 s), BENCH_AUDIT_ROWS (1000000),
 * BENCH_AUDIT_QUERIES (50), BENCH_OUT (a file for the results as JSON), BENCH_ONLY (comma-separated:
 * direct,nginx,floor,sqlite,pg,scale,rss,audit), BENCH_PROXY_FROM=source (run the proxy through tsx instead
 * of a transpiled build, see bench/build.ts; or a path to a built bin.js), BENCH_SKIP_SETUP=1 (skip bench/setup.sh).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { request } from 'undici';
import { loadgenName, runLoad, type LoadSpec, type PhaseResult } from './loadgen.js';
import { nginxPath, startNginx } from './nginx.js';
import { memoryOf, startNode, startProcess, stop, stopAll, type Started } from './procs.js';
import { buildProxy, sourceFingerprint } from './build.js';
import { auditLabel, seedPgAudit, seedPgKeys, seedSqliteAudit, seedSqliteKeys, writeTokens } from './seed.js';

const num = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};
const SECONDS = num('BENCH_DURATION', 10);
const WARMUP = num('BENCH_WARMUP', 3);
const CONNECTIONS = num('BENCH_CONCURRENCY', 64);
const NGINX_WORKERS = num('BENCH_NGINX_WORKERS', 1);
const SCALE_KEYS = num('BENCH_SCALE_KEYS', 10_000);
const SCALE_SPREAD = num('BENCH_SCALE_SPREAD', 1000);
const RSS_KEYS = num('BENCH_RSS_KEYS', 100_000);
/** Longer than the other phases: at ~2,000 req/s, 20 s calls about 40,000 of the 100,000 keys. */
const RSS_SECONDS = num('BENCH_RSS_DURATION', 20);
const AUDIT_ROWS = num('BENCH_AUDIT_ROWS', 1_000_000);
const AUDIT_QUERIES = num('BENCH_AUDIT_QUERIES', 50);
const PG_URL = process.env.BENCH_PG_URL;
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;
const enabled = (part: string) => !ONLY || ONLY.has(part);

const SECRET = 'sk_test_bench';
const ADMIN = 'bench-admin-token-0123456789';
const BODY = 'amount=500&currency=usd&customer=cus_bench';
const PRICED = ['POST /v1/payment_intents'];
/** A phase whose errors exceed this share of its requests is not a valid measurement. */
const MAX_ERROR_SHARE = 0.01;

// ---------------------------------------------------------------------------------------------- results

interface Row {
  readonly id: string;
  readonly name: string;
  readonly result?: PhaseResult;
  readonly skipped?: string;
  /** req/s of the Node floor and of nginx measured in the same group, interleaved with this path. */
  readonly floor?: number | undefined;
  readonly nginx?: number | undefined;
}
const rows: Row[] = [];
const notes: Record<string, unknown> = {};
const skips: string[] = [];

const valid = (r: PhaseResult | undefined): boolean =>
  r !== undefined && r.requests > 0 && r.errors <= r.requests * MAX_ERROR_SHARE;
const get = (id: string) => rows.find((r) => r.id === id)?.result;
const rps = (id: string) => {
  const r = get(id);
  return r && valid(r) ? r.rps : undefined;
};
const pct = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : (a / b) * 100;
/**
 * A path's throughput over a reference's (the Node floor or nginx): the reference measured in the same group,
 * interleaved with the path, or else (`nearby: false`) the one of the baselines group.
 */
/** Two paths of different groups compared through their groups' floors: (a ÷ its floor) / (b ÷ its floor). */
function ratioOfRatios(a: string, b: string): number | undefined {
  const ra = toReference(a, 'floor').value;
  const rb = toReference(b, 'floor').value;
  return ra === undefined || rb === undefined ? undefined : (ra / rb) * 100;
}

function toReference(id: string, reference: 'floor' | 'nginx'): { value?: number; nearby: boolean } {
  const row = rows.find((r) => r.id === id);
  const own = rps(id);
  const nearby = row?.[reference];
  if (nearby !== undefined) return { value: pct(own, nearby), nearby: true };
  return {
    value: pct(own, rps(reference)),
    nearby: id === reference || ['direct', 'nginx', 'floor'].includes(id),
  };
}
const showPct = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(0)} %`);

/** Records a skipped part, in the throughput table too unless `inTable` is false. */
function skip(id: string, name: string, reason: string, inTable = true): void {
  if (inTable) rows.push({ id, name, skipped: reason });
  skips.push(`${name}: ${reason}`);
  console.log(`  SKIPPED ${name}: ${reason}`);
}

// ---------------------------------------------------------------------------------------------- helpers

let upstream: Started | undefined;

/** Between phases, the upstream forgets what the phase before stored (see bench/upstream.ts). */
async function resetUpstream(): Promise<void> {
  upstream?.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 200));
}

const fmt = (r: PhaseResult) =>
  `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99
    .toFixed(2)
    .padStart(7)} ms  ${r.requests} requests, ${r.errors} errors, ${r.seconds.toFixed(1)} s`;

type Spec = Omit<LoadSpec, 'seconds' | 'connections'>;

function record(
  id: string,
  name: string,
  result: PhaseResult,
  references: { floor?: number | undefined; nginx?: number | undefined } = {},
): PhaseResult {
  rows.push({ id, name, result, ...references });
  console.log(`  ${name.padEnd(44)} ${fmt(result)}`);
  if (!valid(result)) console.log(`  WARNING ${name}: ${result.errors} errors; not a valid measurement`);
  return result;
}

/** Warm-up, then the measured run; the row is recorded (with a warning when errors make it invalid). */
async function measure(id: string, name: string, spec: Spec, seconds = SECONDS): Promise<PhaseResult> {
  const load = { ...spec, connections: CONNECTIONS };
  await resetUpstream();
  if (WARMUP > 0) await runLoad({ ...load, seconds: WARMUP });
  await resetUpstream();
  return record(id, name, await runLoad({ ...load, seconds }));
}

/** Two halves of one phase as one: their requests over their time, mean p50, worst p99. */
function combine(a: PhaseResult, b: PhaseResult): PhaseResult {
  const seconds = a.seconds + b.seconds;
  return {
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    seconds,
    rps: (a.rps * a.seconds + b.rps * b.seconds) / seconds,
    p50: (a.p50 + b.p50) / 2,
    p99: Math.max(a.p99, b.p99),
  };
}

interface Path {
  readonly id: string;
  readonly name: string;
  readonly spec: Spec;
}

/** The Node floor and nginx once the baselines group started them: measured again inside every later group. */
const references: Path[] = [];

/**
 * Paths compared with each other, measured interleaved, with the Node floor and nginx as references: each
 * warmed up, then half of BENCH_DURATION each in order and half in reverse order (A B C C B A), so a machine
 * getting slower or faster during the group (other processes starting or stopping) weighs on each path alike,
 * and each path's ratio to the floor and to nginx comes from the same minute.
 */
async function measureGroup(paths: readonly Path[]): Promise<void> {
  const half = Math.max(1, Math.round(SECONDS / 2));
  const refs = references.map((r) => ({ ...r, id: `ref:${r.id}` }));
  const all = [...refs, ...paths];
  for (const path of all) {
    await resetUpstream();
    // The references are warm already (they ran in the baselines group).
    const warmup = path.id.startsWith('ref:') ? Math.min(WARMUP, 1) : WARMUP;
    if (warmup > 0) await runLoad({ ...path.spec, connections: CONNECTIONS, seconds: warmup });
  }
  const halves = new Map<string, PhaseResult[]>();
  for (const path of [...all, ...[...all].reverse()]) {
    await resetUpstream();
    const result = await runLoad({ ...path.spec, connections: CONNECTIONS, seconds: half });
    halves.set(path.id, [...(halves.get(path.id) ?? []), result]);
  }
  const combined = (id: string) => {
    const [a, b] = halves.get(id) ?? [];
    return a && b ? combine(a, b) : undefined;
  };
  const refRps = (id: string) => {
    const r = combined(`ref:${id}`);
    return r && valid(r) ? r.rps : undefined;
  };
  const nearby = { floor: refRps('floor'), nginx: refRps('nginx') };
  if (refs.length)
    console.log(
      `  (references in this group: Node floor ${nearby.floor?.toFixed(0) ?? 'n/a'} req/s, nginx ${
        nearby.nginx?.toFixed(0) ?? 'n/a'
      } req/s)`,
    );
  for (const path of paths) {
    const result = combined(path.id);
    if (result) record(path.id, path.name, result, refs.length ? nearby : {});
  }
}

/** Runs one part; a failure is printed and recorded, and the run goes on with the next part. */
async function part(name: string, fn: () => Promise<void>): Promise<void> {
  console.log(`\n${name}`);
  try {
    await fn();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    skips.push(`${name}: FAILED: ${reason}`);
    console.log(`  FAILED ${name}: ${reason}`);
  }
}

/** `node <build>/src/cli/bin.js` (see bench/build.ts), or `node --import tsx src/cli/bin.ts` from source. */
let proxyCommand: string[] = ['--import', 'tsx', 'src/cli/bin.ts'];

function startProxy(db: string, schema?: string): Promise<Started> {
  if (!upstream) throw new Error('no upstream');
  return startProcess(
    process.execPath,
    [...proxyCommand, 'serve'],
    {
      SPENDGATE_ADMIN_TOKEN: ADMIN,
      SPENDGATE_PORT: '0',
      SPENDGATE_DB: db,
      ...(schema ? { SPENDGATE_DB_SCHEMA: schema } : {}),
      STRIPE_SECRET_KEY: SECRET,
      SPENDGATE_STRIPE_BASE_URL: upstream.value,
      SPENDGATE_LOG_LEVEL: 'warn',
    },
    /spendgate listening on (\S+)/,
  );
}

async function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  const res = await request(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

async function admin(base: string, path: string, body: unknown): Promise<{ id: string; token: string }> {
  const res = await call(
    base,
    'POST',
    path,
    { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    JSON.stringify(body),
  );
  if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${res.text}`);
  return JSON.parse(res.text) as { id: string; token: string };
}

function vaultKey(base: string, label = 'bench'): Promise<{ id: string; token: string }> {
  return admin(base, '/v1/keys', {
    vendor: 'stripe',
    usd_cap: 10_000_000,
    allowed_endpoints: PRICED,
    expires_in: '2h',
    label,
  });
}

/** A key at the bottom of a three-level budget tree (tenant → run → sub-agent), each level capped. */
async function budgetedKey(base: string): Promise<string> {
  let parent: string | undefined;
  for (const [label, ttl] of [
    ['bench-tenant', '2h'],
    ['bench-run', '110m'],
    ['bench-subagent', '100m'],
  ]) {
    const budget = await admin(base, '/v1/budgets', {
      usd_cap: 10_000_000,
      expires_in: ttl,
      label,
      ...(parent ? { parent_id: parent } : {}),
    });
    parent = budget.id;
  }
  const key = await admin(base, '/v1/keys', {
    vendor: 'stripe',
    budget_id: parent,
    usd_cap: 10_000_000,
    allowed_endpoints: PRICED,
    expires_in: '90m',
    label: 'bench-budgeted',
  });
  return key.token;
}

/** One priced call with `token`; throws unless it succeeds. */
async function pay(base: string, token: string, n: number): Promise<void> {
  const res = await call(
    base,
    'POST',
    '/v1/payment_intents',
    {
      authorization: `Bearer ${token}`,
      'content-type': 'application/x-www-form-urlencoded',
      'idempotency-key': `bench-check-${process.pid}-${Date.now()}-${n}`,
    },
    BODY,
  );
  if (res.status !== 200) throw new Error(`payment through the proxy: ${res.status} ${res.text}`);
}

interface AuditTiming {
  readonly rows: number;
  readonly firstMs: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
  readonly returned: number;
}

/** GET /v1/audit?label=…&limit=50: one untimed-in-the-median first request, then AUDIT_QUERIES in a row. */
async function timeAudit(base: string, rowsInLog: number): Promise<AuditTiming> {
  const once = async (i: number) => {
    const label = auditLabel(42 + (i % 7) * 101);
    const t0 = performance.now();
    const res = await call(base, 'GET', `/v1/audit?label=${label}&limit=50`, {
      authorization: `Bearer ${ADMIN}`,
    });
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`GET /v1/audit: ${res.status} ${res.text.slice(0, 200)}`);
    return { ms, returned: (JSON.parse(res.text) as { data: unknown[] }).data.length };
  };
  const first = await once(0);
  const times: number[] = [];
  let returned = first.returned;
  for (let i = 1; i <= AUDIT_QUERIES; i += 1) {
    const r = await once(i);
    times.push(r.ms);
    returned = Math.min(returned, r.returned);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  return {
    rows: rowsInLog,
    firstMs: first.ms,
    p50: at(0.5),
    p90: at(0.9),
    max: times.at(-1) ?? NaN,
    returned,
  };
}

const showAudit = (a: AuditTiming) =>
  `median ${a.p50.toFixed(2)} ms, p90 ${a.p90.toFixed(2)} ms, max ${a.max.toFixed(2)} ms, first ${a.firstMs.toFixed(
    2,
  )} ms (${AUDIT_QUERIES} queries, ${a.returned} rows per page, ${a.rows.toLocaleString('en')} rows in the log)`;

interface MemoryRun {
  readonly idle: { rssMb: number; peakMb: number };
  readonly after: { rssMb: number; peakMb: number };
  /** RSS in MB, once a second from the start of the warm-up. */
  readonly series: number[];
  readonly requests: number;
}

/** A measured phase on `proxy` with RSS read before, once a second during, and after it. */
async function measureMemory(
  proxy: Started,
  id: string,
  name: string,
  tokensFile: string,
): Promise<MemoryRun> {
  const pid = proxy.child.pid as number;
  const idle = memoryOf(pid);
  const series: number[] = [];
  const timer = setInterval(() => series.push(memoryOf(pid).rssMb), 1000);
  let result: PhaseResult;
  try {
    result = await measure(id, name, { origins: [proxy.value], tokensFile }, RSS_SECONDS);
  } finally {
    clearInterval(timer);
  }
  const after = memoryOf(pid);
  const every5 = series.filter((_, i) => (i + 1) % 5 === 0).map((mb) => mb.toFixed(0));
  console.log(
    `  RSS idle ${idle.rssMb.toFixed(1)} MB; every 5 s from the warm-up on: ${every5.join(', ')} MB; after ${after.rssMb.toFixed(
      1,
    )} MB, peak (VmHWM) ${after.peakMb.toFixed(1)} MB`,
  );
  return { idle, after, series, requests: result.requests };
}

// ---------------------------------------------------------------------------------------------- the run

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spendgate-bench-full-'));
  const schema = `sg_benchfull_${process.pid}_${Date.now().toString(36)}`;
  // A holder, not two `let`s: they are assigned inside the parts' closures.
  const shared: { pgClient?: pg.Client; pg1?: Started } = {};
  const startedAt = new Date();
  console.log(
    `spendgate bench:full — ${startedAt.toISOString()}, ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}`,
  );
  console.log(
    `load: ${loadgenName}, ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${SECONDS} s per phase; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  notes.loadAverageAtStart = loadavg();
  const from = process.env.BENCH_PROXY_FROM ?? 'build';
  notes.srcFingerprint = sourceFingerprint();
  if (from === 'source') console.log('proxy: from source through tsx (BENCH_PROXY_FROM=source)');
  else if (from.endsWith('.js')) {
    proxyCommand = [from];
    console.log(`proxy: node ${from} (BENCH_PROXY_FROM)`);
  } else {
    try {
      const t0 = performance.now();
      proxyCommand = [buildProxy(join(dir, 'build'))];
      console.log(
        `proxy: node ${join('<tmp>', 'build', 'src', 'cli', 'bin.js')} (src/ transpiled in ${(
          (performance.now() - t0) /
          1000
        ).toFixed(1)} s; BENCH_PROXY_FROM=source runs it through tsx)`,
      );
    } catch (error) {
      console.log(`proxy: from source through tsx (the transpiled build failed: ${String(error)})`);
    }
  }
  console.log(`src/ and adapters/ fingerprint (sha256 of their .ts files): ${String(notes.srcFingerprint)}`);
  notes.proxy = proxyCommand.join(' ');
  try {
    upstream = await startNode(['bench/upstream.ts'], { BENCH_STRIPE_SECRET: SECRET }, /upstream (\S+)/);
    const up = upstream.value;

    await part('baselines: direct, nginx, Node floor (interleaved)', async () => {
      const group: { id: string; name: string; spec: Spec }[] = [];
      if (enabled('direct'))
        group.push({ id: 'direct', name: 'direct to upstream', spec: { origins: [up], token: SECRET } });
      if (enabled('nginx')) {
        if (!nginxPath()) skip('nginx', 'nginx', 'nginx not installed (bench/setup.sh could not install it)');
        else {
          const nginx = await startNginx(up, dir, NGINX_WORKERS);
          group.push({
            id: 'nginx',
            name: `nginx (${NGINX_WORKERS} worker) → upstream`,
            spec: { origins: [nginx.value], token: SECRET },
          });
        }
      }
      if (enabled('floor')) {
        const floor = await startNode(['bench/node-floor.ts'], { BENCH_UPSTREAM: up }, /floor (\S+)/);
        group.push({
          id: 'floor',
          name: 'Node floor → upstream',
          spec: { origins: [floor.value], token: SECRET },
        });
      }
      await measureGroup(group);
      // nginx and the floor stay up (idle, they cost nothing) and are measured again in every later group.
      for (const path of group) if (path.id !== 'direct') references.push(path);
    });

    if (enabled('sqlite'))
      await part('spendgate, SQLite', async () => {
        const proxy = await startProxy(join(dir, 'bench.db'));
        try {
          const plain = await vaultKey(proxy.value);
          const budgeted = await budgetedKey(proxy.value);
          // On the same proxy, interleaved: the cost of a three-level budget chain.
          await measureGroup([
            {
              id: 'sqlite',
              name: 'spendgate SQLite, plain key',
              spec: { origins: [proxy.value], token: plain.token },
            },
            {
              id: 'sqliteBudget',
              name: 'spendgate SQLite, key under 3-level budget',
              spec: { origins: [proxy.value], token: budgeted },
            },
          ]);
          if (proxy.child.pid) notes.sqliteProxyMemoryAfterLoad = memoryOf(proxy.child.pid);
        } finally {
          await stop(proxy.child);
        }
      });

    if (enabled('pg') || enabled('scale') || enabled('audit')) {
      if (!PG_URL) {
        console.log('\nPostgreSQL');
        const parts = [
          ['pg', 'pg1', 'spendgate PostgreSQL x1'],
          ['pg', 'pg1Budget', 'spendgate PostgreSQL x1, 3-level budget'],
          ['pg', 'pg2', 'spendgate PostgreSQL x2'],
          ['scale', 'scalePg', 'scale, PostgreSQL x1'],
          ['audit', 'auditPg', 'audit query by label, PostgreSQL'],
        ] as const;
        for (const [part, id, name] of parts)
          if (enabled(part)) skip(id, name, 'BENCH_PG_URL not set', part !== 'audit');
      } else {
        await part('PostgreSQL connection', async () => {
          const { default: pgModule } = await import('pg');
          const client = new pgModule.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
          await client.connect();
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
          shared.pgClient = client;
          console.log(`  schema ${schema}`);
        });
      }
    }

    if (shared.pgClient && enabled('pg'))
      await part('spendgate, PostgreSQL', async () => {
        const pg1 = await startProxy(PG_URL as string, schema);
        shared.pg1 = pg1;
        const plain = await vaultKey(pg1.value);
        const budgeted = await budgetedKey(pg1.value);
        await measureGroup([
          {
            id: 'pg1',
            name: 'spendgate PostgreSQL x1, plain key',
            spec: { origins: [pg1.value], token: plain.token },
          },
          {
            id: 'pg1Budget',
            name: 'spendgate PostgreSQL x1, 3-level budget',
            spec: { origins: [pg1.value], token: budgeted },
          },
        ]);
        // Two instances against one, interleaved: the one-instance path runs with the second one up and idle.
        const pg2 = await startProxy(PG_URL as string, schema);
        try {
          await measureGroup([
            {
              id: 'pg1With2',
              name: 'spendgate PostgreSQL x1, 2nd instance idle',
              spec: { origins: [pg1.value], token: plain.token },
            },
            {
              id: 'pg2',
              name: 'spendgate PostgreSQL x2, plain key',
              spec: { origins: [pg1.value, pg2.value], token: plain.token },
            },
          ]);
        } finally {
          await stop(pg2.child);
        }
      });

    if (enabled('scale')) {
      await part(`scale, SQLite: ${SCALE_KEYS} active keys, load across ${SCALE_SPREAD}`, async () => {
        const file = join(dir, 'scale.db');
        let proxy = await startProxy(file);
        const template = await vaultKey(proxy.value, 'bench-scale');
        await stop(proxy.child);
        const t0 = performance.now();
        const tokens = [template.token, ...(await seedSqliteKeys(file, template.id, SCALE_KEYS - 1))];
        console.log(`  seeded ${SCALE_KEYS} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        const tokensFile = join(dir, 'scale-sqlite.tokens');
        writeTokens(tokensFile, tokens);
        proxy = await startProxy(file);
        try {
          await pay(proxy.value, tokens[SCALE_SPREAD - 1] ?? template.token, 0);
          // Against one key on the same proxy and file, interleaved.
          await measureGroup([
            {
              id: 'scaleSqliteOne',
              name: `scale, SQLite, ${SCALE_KEYS} keys, load on 1`,
              spec: { origins: [proxy.value], token: template.token },
            },
            {
              id: 'scaleSqlite',
              name: `scale, SQLite, ${SCALE_KEYS} keys, load on ${SCALE_SPREAD}`,
              spec: { origins: [proxy.value], tokensFile, tokenLimit: SCALE_SPREAD },
            },
          ]);
        } finally {
          await stop(proxy.child);
        }
      });
      if (shared.pgClient)
        await part(
          `scale, PostgreSQL x1: ${SCALE_KEYS} active keys, load across ${SCALE_SPREAD}`,
          async () => {
            const pg1 = (shared.pg1 ??= await startProxy(PG_URL as string, schema));
            const template = await vaultKey(pg1.value, 'bench-scale');
            const t0 = performance.now();
            const client = shared.pgClient as pg.Client;
            const tokens = [
              template.token,
              ...(await seedPgKeys(client, schema, template.id, SCALE_KEYS - 1)),
            ];
            console.log(`  seeded ${SCALE_KEYS} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
            const tokensFile = join(dir, 'scale-pg.tokens');
            writeTokens(tokensFile, tokens);
            await pay(pg1.value, tokens[SCALE_SPREAD - 1] ?? template.token, 0);
            await measureGroup([
              {
                id: 'scalePgOne',
                name: `scale, PostgreSQL x1, ${SCALE_KEYS} keys, load on 1`,
                spec: { origins: [pg1.value], token: template.token },
              },
              {
                id: 'scalePg',
                name: `scale, PostgreSQL x1, ${SCALE_KEYS} keys, load on ${SCALE_SPREAD}`,
                spec: { origins: [pg1.value], tokensFile, tokenLimit: SCALE_SPREAD },
              },
            ]);
          },
        );
    }

    if (enabled('rss'))
      await part(`memory: SQLite proxy at ${RSS_KEYS.toLocaleString('en')} active keys`, async () => {
        const file = join(dir, 'rss.db');
        // The baseline: a fresh proxy with only 5 issued keys, under the same load for the same time.
        let proxy = await startProxy(file);
        const real = [];
        let few: MemoryRun | undefined;
        try {
          for (let i = 0; i < 5; i += 1) real.push(await vaultKey(proxy.value, `bench-rss-${i}`));
          const realFile = join(dir, 'rss-real.tokens');
          writeTokens(
            realFile,
            real.map((k) => k.token),
          );
          few = await measureMemory(
            proxy,
            'rssFew',
            '5 keys in rotation, SQLite (memory baseline)',
            realFile,
          );
        } finally {
          await stop(proxy.child);
        }
        const template = real[0] as { id: string; token: string };
        const t0 = performance.now();
        const seeded = await seedSqliteKeys(file, template.id, RSS_KEYS - real.length);
        console.log(`  seeded ${RSS_KEYS} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        const tokensFile = join(dir, 'rss.tokens');
        writeTokens(tokensFile, [...real.map((k) => k.token), ...seeded]);
        proxy = await startProxy(file);
        try {
          // The issued keys work, and so do seeded ones (first and last).
          for (const [i, token] of [...real.map((k) => k.token), seeded[0], seeded.at(-1)].entries()) {
            await pay(proxy.value, token as string, i);
          }
          const many = await measureMemory(
            proxy,
            'rss',
            `all ${RSS_KEYS} keys in rotation, SQLite`,
            tokensFile,
          );
          const distinct = Math.min(RSS_KEYS, many.requests);
          notes.rss = { keys: RSS_KEYS, few, many, distinctKeysCalled: distinct };
          console.log(`  about ${distinct} distinct keys called in the measured phase`);
        } finally {
          await stop(proxy.child);
        }
      });

    if (enabled('audit')) {
      await part(`audit query by label, SQLite, ${AUDIT_ROWS.toLocaleString('en')} rows`, async () => {
        const file = join(dir, 'audit.db');
        let proxy = await startProxy(file);
        const key = await vaultKey(proxy.value, auditLabel(0));
        await pay(proxy.value, key.token, 0);
        await stop(proxy.child);
        const t0 = performance.now();
        await seedSqliteAudit(file, AUDIT_ROWS);
        console.log(`  seeded ${AUDIT_ROWS} audit rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        proxy = await startProxy(file);
        try {
          const timing = await timeAudit(proxy.value, AUDIT_ROWS + 1);
          notes.auditSqlite = timing;
          console.log(`  ${showAudit(timing)}`);
        } finally {
          await stop(proxy.child);
        }
      });
      if (shared.pgClient)
        await part(`audit query by label, PostgreSQL, ${AUDIT_ROWS.toLocaleString('en')} rows`, async () => {
          const pg1 = (shared.pg1 ??= await startProxy(PG_URL as string, schema));
          const key = await vaultKey(pg1.value, auditLabel(0));
          await pay(pg1.value, key.token, 0);
          const client = shared.pgClient as pg.Client;
          const before = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.audit`);
          const t0 = performance.now();
          await seedPgAudit(client, schema, AUDIT_ROWS);
          console.log(
            `  seeded ${AUDIT_ROWS} audit rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
          );
          const timing = await timeAudit(pg1.value, AUDIT_ROWS + Number(before.rows[0]?.n ?? 0));
          notes.auditPg = timing;
          console.log(`  ${showAudit(timing)}`);
        });
    }
  } finally {
    if (shared.pg1) await stop(shared.pg1.child);
    await stopAll();
    const pgClient = shared.pgClient;
    if (pgClient) {
      await pgClient.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((error: unknown) => {
        console.log(`could not drop schema ${schema}: ${String(error)}`);
      });
      await pgClient.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  notes.loadAverageAtEnd = loadavg();
  report(startedAt);
}

// ---------------------------------------------------------------------------------------------- report

function report(startedAt: Date): void {
  console.log(`\nresults (one run, ${loadgenName}, ${CONNECTIONS} connections, ${SECONDS} s per phase)\n`);
  const header = `| ${'phase'.padEnd(46)} | ${'req/s'.padStart(6)} | ${'p50 ms'.padStart(7)} | ${'p99 ms'.padStart(
    7,
  )} | ${'errors'.padStart(6)} | ${'÷ Node floor'.padStart(12)} | ${'÷ nginx'.padStart(7)} |`;
  console.log(header);
  console.log(header.replace(/[^|]/g, '-'));
  const cell = (id: string, reference: 'floor' | 'nginx') => {
    const ratio = toReference(id, reference);
    return `${showPct(ratio.value)}${ratio.nearby || ratio.value === undefined ? '' : ' *'}`;
  };
  let far = false;
  for (const row of rows) {
    const r = row.result;
    if (!r) {
      console.log(`| ${row.name.padEnd(46)} | skipped: ${row.skipped ?? ''}`);
      continue;
    }
    const mark = valid(r) ? '' : ' (!)';
    far ||= !toReference(row.id, 'floor').nearby;
    console.log(
      `| ${(row.name + mark).padEnd(46)} | ${r.rps.toFixed(0).padStart(6)} | ${r.p50.toFixed(2).padStart(7)} | ${r.p99
        .toFixed(2)
        .padStart(7)} | ${String(r.errors).padStart(6)} | ${cell(row.id, 'floor').padStart(12)} | ${cell(
        row.id,
        'nginx',
      ).padStart(7)} |`,
    );
  }
  console.log('÷ Node floor, ÷ nginx: against the floor and nginx measured in the same group, interleaved');
  if (far) console.log('* against the floor and nginx of the baselines group (measured earlier in the run)');
  if (rows.some((row) => row.result && !valid(row.result)))
    console.log(`(!) more than ${MAX_ERROR_SHARE * 100} % errors: left out of every ratio`);

  const ratios: [string, number | undefined][] = [
    ['nginx / Node floor (baselines group)', pct(rps('nginx'), rps('floor'))],
    ['direct / Node floor (baselines group)', pct(rps('direct'), rps('floor'))],
    ['spendgate SQLite / Node floor', toReference('sqlite', 'floor').value],
    ['spendgate SQLite / nginx', toReference('sqlite', 'nginx').value],
    ['spendgate PostgreSQL x1 / Node floor', toReference('pg1', 'floor').value],
    ['spendgate PostgreSQL x1 / nginx', toReference('pg1', 'nginx').value],
    ['spendgate PostgreSQL x2 / Node floor', toReference('pg2', 'floor').value],
    ['spendgate PostgreSQL x2 / nginx', toReference('pg2', 'nginx').value],
    ['3-level budget / plain key (SQLite)', pct(rps('sqliteBudget'), rps('sqlite'))],
    ['3-level budget / plain key (PostgreSQL x1)', pct(rps('pg1Budget'), rps('pg1'))],
    ['PostgreSQL x1 / SQLite (each ÷ its floor)', ratioOfRatios('pg1', 'sqlite')],
    ['PostgreSQL x2 / x1 (x1 with the 2nd instance up, same group)', pct(rps('pg2'), rps('pg1With2'))],
    ['PostgreSQL x1 with a 2nd instance up / alone (each ÷ its floor)', ratioOfRatios('pg1With2', 'pg1')],
    [
      `scale: load on ${SCALE_SPREAD} of ${SCALE_KEYS} keys / on 1 (SQLite)`,
      pct(rps('scaleSqlite'), rps('scaleSqliteOne')),
    ],
    [
      `scale: load on ${SCALE_SPREAD} of ${SCALE_KEYS} keys / on 1 (PostgreSQL x1)`,
      pct(rps('scalePg'), rps('scalePgOne')),
    ],
  ];
  console.log('\nratios (same run)');
  for (const [name, value] of ratios) console.log(`  ${name.padEnd(52)} ${showPct(value)}`);

  const rss = notes.rss as { few?: MemoryRun; many: MemoryRun } | undefined;
  const baseline = notes.sqliteProxyMemoryAfterLoad as { rssMb: number; peakMb: number } | undefined;
  const showMemory = (label: string, m: MemoryRun) =>
    console.log(
      `  ${label.padEnd(44)} idle ${m.idle.rssMb.toFixed(1).padStart(6)} MB, after load ${m.after.rssMb
        .toFixed(1)
        .padStart(6)} MB, peak ${m.after.peakMb.toFixed(1).padStart(6)} MB`,
    );
  console.log(`\nmemory (RSS of the proxy process, MB = 10^6 bytes; ${RSS_SECONDS} s of load each)`);
  if (rss?.few) showMemory('SQLite proxy, 5 keys (baseline)', rss.few);
  if (rss) showMemory(`SQLite proxy, ${RSS_KEYS} keys`, rss.many);
  if (rss?.few)
    console.log(
      `  ${RSS_KEYS} keys / 5 keys, peak: ${showPct(pct(rss.many.after.peakMb, rss.few.after.peakMb))}; idle: ${showPct(
        pct(rss.many.idle.rssMb, rss.few.idle.rssMb),
      )}`,
    );
  if (baseline)
    console.log(
      `  (the SQLite proxy of the throughput phases, 2 keys, after its load: ${baseline.rssMb.toFixed(1)} MB)`,
    );

  const auditSqlite = notes.auditSqlite as AuditTiming | undefined;
  const auditPg = notes.auditPg as AuditTiming | undefined;
  type Verdict = [string, string, boolean | undefined];
  const check = (value: number | undefined, ok: (v: number) => boolean) =>
    value === undefined || Number.isNaN(value) ? undefined : ok(value);
  const targets: Verdict[] = [
    [
      'key under a 3-level budget ≥ 80 % of plain key (SQLite)',
      showPct(pct(rps('sqliteBudget'), rps('sqlite'))),
      check(pct(rps('sqliteBudget'), rps('sqlite')), (v) => v >= 80),
    ],
    [
      'key under a 3-level budget ≥ 80 % of plain key (PostgreSQL x1)',
      showPct(pct(rps('pg1Budget'), rps('pg1'))),
      check(pct(rps('pg1Budget'), rps('pg1')), (v) => v >= 80),
    ],
    [
      `audit by label at ${AUDIT_ROWS.toLocaleString('en')} rows ≤ 20 ms (median, SQLite)`,
      auditSqlite ? `${auditSqlite.p50.toFixed(2)} ms` : 'n/a',
      check(auditSqlite?.p50, (v) => v <= 20),
    ],
    [
      `audit by label at ${AUDIT_ROWS.toLocaleString('en')} rows ≤ 20 ms (median, PostgreSQL)`,
      auditPg ? `${auditPg.p50.toFixed(2)} ms` : 'n/a',
      check(auditPg?.p50, (v) => v <= 20),
    ],
    [
      `RSS at ${RSS_KEYS.toLocaleString('en')} active keys ≤ 200 MB (peak, SQLite)`,
      rss ? `${rss.many.after.peakMb.toFixed(1)} MB` : 'n/a',
      check(rss?.many.after.peakMb, (v) => v <= 200),
    ],
    [
      'earlier target: SQLite ≥ 60 % of the Node floor (group commit)',
      showPct(toReference('sqlite', 'floor').value),
      check(toReference('sqlite', 'floor').value, (v) => v >= 60),
    ],
    [
      'earlier target: PostgreSQL x1 ≥ 60 % of SQLite (each ÷ its floor)',
      showPct(ratioOfRatios('pg1', 'sqlite')),
      check(ratioOfRatios('pg1', 'sqlite'), (v) => v >= 60),
    ],
  ];
  console.log('\ntargets');
  for (const [name, value, ok] of targets) {
    const verdict = ok === undefined ? 'NOT MEASURED' : ok ? 'PASS' : 'FAIL';
    console.log(`  ${verdict.padEnd(12)} ${name}: ${value}`);
  }
  if (skips.length) {
    console.log('\nskipped or failed');
    for (const line of skips) console.log(`  ${line}`);
  }
  console.log(
    `\nload average at start ${(notes.loadAverageAtStart as number[]).map((l) => l.toFixed(2)).join(' ')}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other processes on this machine share its cores)`,
  );
  const json = {
    startedAt: startedAt.toISOString(),
    cores: availableParallelism(),
    node: process.version,
    loadgen: loadgenName,
    connections: CONNECTIONS,
    seconds: SECONDS,
    rows,
    ratios: Object.fromEntries(ratios),
    targets: targets.map(([name, value, ok]) => ({ name, value, ok })),
    notes,
    skips,
  };
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(json, null, 2)}\n`);
}

await main();
