import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { runCli } from './run-cli.js';

let proxy: TestProxy;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  proxy = await startTestProxy({ overrides: { SPENDGATE_SANDBOX: true } });
  dir = mkdtempSync(join(tmpdir(), 'spendgate-cli-keys-'));
  // No .env in `dir`, so nothing from the repository's folder leaks in.
  env = { SPENDGATE_URL: proxy.url, SPENDGATE_ADMIN_TOKEN: ADMIN_TOKEN };
});

afterAll(async () => {
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], extra: Record<string, string> = {}) =>
  runCli(args, { env: { ...env, ...extra }, cwd: dir });

describe('spendgate keys', { timeout: 90_000 }, () => {
  it('creates a key with every flag, and the proxy holds exactly what was asked', async () => {
    const result = await cli([
      'keys',
      'create',
      '--json',
      '--vendor',
      'stripe',
      '--endpoint',
      'POST /v1/payment_intents',
      '--endpoint',
      'GET /v1/customers/*',
      '--usd-cap',
      '50',
      '--daily-usd-cap',
      '20.5',
      '--max-usd-per-call',
      '10',
      '--ttl',
      '1h30m',
      '--label',
      'cli-create',
      '--metadata',
      'tenant=acme',
      '--metadata',
      'run=7',
      '--connected-account',
      'acct_123',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const key = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(key).toMatchObject({
      vendor: 'stripe',
      usd_cap: 50,
      daily_usd_cap: 20.5,
      max_usd_per_call: 10,
      label: 'cli-create',
      metadata: { tenant: 'acme', run: '7' },
      allowed_endpoints: ['POST /v1/payment_intents', 'GET /v1/customers/*'],
      connected_accounts: ['acct_123'],
    });
    expect(String(key.token)).toMatch(/^vk_/);
    const ttl = Date.parse(String(key.expires_at)) - Date.parse(String(key.created_at));
    expect(ttl).toBe(5_400_000);
    const stored = await proxy.admin('GET', `/v1/keys/${String(key.id)}`);
    expect(stored.json).toMatchObject({ status: 'active', usd_cap: 50 });
  });

  it('prints a table by default, with the token and a note that it is shown once', async () => {
    const result = await cli([
      'keys',
      'create',
      '--vendor',
      'resend',
      '--endpoint',
      'POST /emails',
      '--usd-cap',
      '1',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^id\s+key_/m);
    expect(result.stdout).toMatch(/^token\s+vk_/m);
    expect(result.stderr).toContain('shown once');
  });

  it('sends --approval-above-usd as approval_above_usd', async () => {
    const result = await cli([
      'keys',
      'create',
      '--json',
      '--vendor',
      'stripe',
      '--endpoint',
      'POST /v1/payment_intents',
      '--usd-cap',
      '100',
      '--approval-above-usd',
      '25',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ approval_above_usd: 25 });
  });

  it('lists, filters and reads keys', async () => {
    const a = await proxy.issue({
      vendor: 'stripe',
      usd_cap: 5,
      allowed_endpoints: ['POST /v1/payment_intents'],
      label: 'list-a',
    });
    await proxy.issue({ vendor: 'twilio', usd_cap: 5, allowed_endpoints: ['POST /**'], label: 'list-b' });
    const table = await cli(['keys', 'list', '--label-prefix', 'list-']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^id\s+vendor\s+label\s+status/);
    expect(table.stdout).toContain('list-a');
    expect(table.stdout).toContain('list-b');
    const json = await cli(['keys', 'list', '--json', '--label', 'list-a']);
    const page = JSON.parse(json.stdout) as { data: { id: string }[] };
    expect(page.data.map((k) => k.id)).toEqual([a.id]);
    const got = await cli(['keys', 'get', a.id, '--json']);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({
      id: a.id,
      spent_usd: 0,
      remaining_usd: 5,
      uncertain_usd: 0,
    });
  });

  it('revokes one key, and in bulk by label', async () => {
    const one = await proxy.issue({
      vendor: 'stripe',
      usd_cap: 5,
      allowed_endpoints: ['POST /v1/payment_intents'],
    });
    const revoked = await cli(['keys', 'revoke', one.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked ${one.id} at \\d{4}-`));
    expect((await proxy.admin('GET', `/v1/keys/${one.id}`)).json.status).toBe('revoked');
    await proxy.issue({
      vendor: 'stripe',
      usd_cap: 5,
      allowed_endpoints: ['POST /v1/payment_intents'],
      label: 'bulk',
    });
    await proxy.issue({
      vendor: 'stripe',
      usd_cap: 5,
      allowed_endpoints: ['POST /v1/payment_intents'],
      label: 'bulk',
    });
    const bulk = await cli(['keys', 'revoke', '--label', 'bulk', '--json']);
    expect(JSON.parse(bulk.stdout)).toEqual({ revoked: 2 });
  });

  it('exits 1 naming the refusal code: a missing key, a wrong token, a refused issue', async () => {
    const missing = await cli(['keys', 'revoke', 'key_doesnotexist']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^spendgate: not_found \(HTTP 404\): /);
    const wrong = await cli(['keys', 'list'], { SPENDGATE_ADMIN_TOKEN: 'wrong-token-0123456789' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('unauthorized (HTTP 401)');
    const uncapped = await cli([
      'keys',
      'create',
      '--vendor',
      'stripe',
      '--endpoint',
      'POST /v1/payment_intents',
    ]);
    expect(uncapped.code).toBe(1);
    expect(uncapped.stderr).toContain('cap_required');
    const vendor = await cli(['keys', 'create', '--vendor', 'paypal', '--endpoint', '/x', '--usd-cap', '1']);
    expect(vendor.stderr).toContain('unknown_vendor');
  });

  it('exits 2 on usage errors without sending anything', async () => {
    const before = (await proxy.admin('GET', '/v1/keys?limit=500')).json.data.length as number;
    const cases = [
      ['keys', 'create', '--vendor', 'stripe', '--endpoint', '/x', '--usd-cap', '1', '--ttl', '500ms'],
      ['keys', 'create', '--vendor', 'stripe', '--endpoint', '/x', '--usd-cap', '1', '--ttl', '30m1h'],
      ['keys', 'create', '--vendor', 'stripe', '--usd-cap', '1'],
      ['keys', 'create', '--vendor', 'stripe', '--endpoint', '/x', '--usd-cap', '-3'],
      ['keys', 'revoke'],
      ['keys', 'frobnicate'],
    ];
    for (const args of cases) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
    }
    const tooShort = await cli(cases[0] ?? []);
    expect(tooShort.stderr).toContain('at least 1 s');
    expect((await proxy.admin('GET', '/v1/keys?limit=500')).json.data.length).toBe(before);
  });

  it('exits 2 with no token at all, and 3 when the proxy cannot be reached', async () => {
    const none = await runCli(['keys', 'list'], { env: { SPENDGATE_URL: proxy.url }, cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('SPENDGATE_ADMIN_TOKEN');
    const closed = await cli(['keys', 'list', '--url', 'http://127.0.0.1:9']);
    expect(closed.code).toBe(3);
    expect(closed.stderr).toContain('upstream_unreachable');
  });

  it('reads the token from --token-file, SPENDGATE_ADMIN_TOKEN_FILE or a .env file, never from a flag', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${ADMIN_TOKEN}\n`);
    const base = { SPENDGATE_URL: proxy.url };
    const byFlag = await runCli(['keys', 'list', '--json', '--token-file', file], { env: base, cwd: dir });
    expect(byFlag.code, byFlag.stderr).toBe(0);
    const byEnv = await runCli(['keys', 'list', '--json'], {
      env: { ...base, SPENDGATE_ADMIN_TOKEN_FILE: file },
      cwd: dir,
    });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    const envDir = mkdtempSync(join(dir, 'dotenv-'));
    writeFileSync(join(envDir, '.env'), `SPENDGATE_URL=${proxy.url}\nSPENDGATE_ADMIN_TOKEN=${ADMIN_TOKEN}\n`);
    const byDotenv = await runCli(['keys', 'list', '--json'], { cwd: envDir });
    expect(byDotenv.code, byDotenv.stderr).toBe(0);
    // The environment wins over .env: a wrong token in the environment is the one sent.
    const envWins = await runCli(['keys', 'list'], {
      env: { SPENDGATE_ADMIN_TOKEN: 'wrong-token-0123456789' },
      cwd: envDir,
    });
    expect(envWins.stderr).toContain('unauthorized');
    const both = await runCli(['keys', 'list'], {
      env: { ...base, SPENDGATE_ADMIN_TOKEN: ADMIN_TOKEN, SPENDGATE_ADMIN_TOKEN_FILE: file },
      cwd: dir,
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('SPENDGATE_ADMIN_TOKEN and SPENDGATE_ADMIN_TOKEN_FILE are both set');
    const flag = await runCli(['keys', 'list', '--token', ADMIN_TOKEN], { env: base, cwd: dir });
    expect(flag.code).toBe(2);
  });
});
