import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ADMIN_TOKEN, startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { REPO_ROOT, runCli, TSX_LOADER } from './run-cli.js';

let proxy: TestProxy;
let dir: string;
let env: Record<string, string>;
let key: { id: string; token: string };

const charge = (amount: number) =>
  proxy.call('POST', '/stripe/v1/payment_intents', {
    token: key.token,
    body: `amount=${amount}&currency=usd`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });

beforeAll(async () => {
  proxy = await startTestProxy({ overrides: { SPENDGATE_SANDBOX: true } });
  dir = mkdtempSync(join(tmpdir(), 'spendgate-cli-audit-'));
  env = { SPENDGATE_URL: proxy.url, SPENDGATE_ADMIN_TOKEN: ADMIN_TOKEN };
  key = await proxy.issue({
    vendor: 'stripe',
    usd_cap: 100,
    allowed_endpoints: ['POST /v1/payment_intents'],
    label: 'audit-run',
  });
  expect((await charge(1250)).status).toBe(200);
  expect((await proxy.call('GET', '/stripe/v1/customers', { token: key.token })).status).toBe(403);
});

afterAll(async () => {
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], extra: Record<string, string> = {}) =>
  runCli(args, { env: { ...env, ...extra }, cwd: dir });

describe('spendgate audit', { timeout: 90_000 }, () => {
  it('prints the rows as a table, JSON or CSV, with the query filters applied', async () => {
    const table = await cli(['audit', '--key-id', key.id]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ts\s+decision\s+code\s+vendor/);
    expect(lines).toHaveLength(3);
    expect(table.stdout).toMatch(/denied\s+endpoint_not_allowed/);

    const json = await cli(['audit', '--key-id', key.id, '--decision', 'allowed', '--json']);
    const page = JSON.parse(json.stdout) as { data: Record<string, unknown>[]; next_cursor: string | null };
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toMatchObject({
      path: '/v1/payment_intents',
      decision: 'allowed',
      cost_usd_settled: 12.5,
    });

    const csv = await cli(['audit', '--label', 'audit-run', '--format', 'csv', '--decision', 'denied']);
    const rows = csv.stdout.trim().split('\r\n');
    expect(rows[0]).toBe(
      'id,ts,key_id,label,vendor,method,path,decision,code,upstream_status,cost_usd_reserved,cost_usd_settled,settlement,idempotency_key,vendor_request_id,request_id,latency_ms',
    );
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain(',GET,/v1/customers,denied,endpoint_not_allowed,');

    const future = await cli(['audit', '--key-id', key.id, '--since', '2999-01-01T00:00:00Z', '--json']);
    expect(JSON.parse(future.stdout).data).toEqual([]);
    const bad = await cli(['audit', '--decision', 'maybe']);
    expect(bad.code).toBe(2);
  });

  it('--follow prints rows written while it runs, then stops at --follow-for', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        TSX_LOADER,
        `${REPO_ROOT}src/cli/bin.ts`,
        'audit',
        '--follow',
        '--json',
        '--key-id',
        key.id,
        '--interval',
        '1s',
        '--follow-for',
        '6s',
      ],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      // Bounded wait for the first batch (the two existing rows) before writing a new one.
      for (let i = 0; i < 100 && stdout.split('\n').length < 3; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(stdout.trim().split('\n')).toHaveLength(2);
      expect((await charge(300)).status).toBe(200);
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
    } finally {
      clearTimeout(killer);
    }
    const rows = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toHaveLength(3);
    // Oldest first, like tail -f.
    expect(rows.map((r) => r.path)).toEqual(['/v1/payment_intents', '/v1/customers', '/v1/payment_intents']);
    expect(rows[2]).toMatchObject({ decision: 'allowed', cost_usd_settled: 3 });
  });
});

describe('spendgate status', { timeout: 60_000 }, () => {
  it('reports readiness, active keys and spend today, and what the API does not report', async () => {
    const revoked = await proxy.issue({
      vendor: 'stripe',
      usd_cap: 1,
      allowed_endpoints: ['POST /v1/payment_intents'],
    });
    await proxy.admin('DELETE', `/v1/keys/${revoked.id}`);
    const keys = (await proxy.admin('GET', '/v1/keys?limit=500')).json.data as {
      status: string;
      spent_today_usd: number;
    }[];
    const active = keys.filter((k) => k.status === 'active').length;
    const spent = keys.reduce((sum, k) => sum + k.spent_today_usd, 0);

    const json = await cli(['status', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ ready: true, active_keys: active, complete: true });
    expect(report.spent_today_usd).toBeCloseTo(spent, 6);
    expect(report.not_reported).toContain('vendors_configured');

    const table = await cli(['status']);
    expect(table.stdout).toMatch(/^ready\s+yes/m);
    expect(table.stdout).toMatch(new RegExp(`^active keys\\s+${active}$`, 'm'));
    expect(table.stdout).toMatch(/^vendors configured\s+not reported by the admin API/m);
  });

  it('exits 1 with ledger_unavailable when the ledger does not answer', async () => {
    const store = new MemoryStore();
    await store.init();
    // The readiness probe is the only caller of ping(): failing it makes /readyz answer 503.
    store.ping = () => Promise.reject(new Error('ledger down'));
    const down = await startTestProxy({ store });
    try {
      const result = await runCli(['status', '--json'], {
        env: { SPENDGATE_URL: down.url, SPENDGATE_ADMIN_TOKEN: ADMIN_TOKEN },
        cwd: dir,
      });
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({
        ready: false,
        not_ready_code: 'ledger_unavailable',
        active_keys: null,
      });
      expect(result.stderr).toContain('ledger_unavailable (HTTP 503)');
    } finally {
      await down.close();
    }
  });

  it('exits 1 naming the code for a wrong token, and 3 when nothing answers', async () => {
    const wrong = await cli(['status'], { SPENDGATE_ADMIN_TOKEN: 'wrong-token-0123456789' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('unauthorized');
    const down = await cli(['status', '--url', 'http://127.0.0.1:9', '--timeout', '2s']);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('upstream_unreachable');
  });
});

describe('spendgate --version', () => {
  it('prints the version from package.json', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default as {
      version: string;
    };
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });
});
