import { mkdtempSync, rmSync } from 'node:fs';
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
  dir = mkdtempSync(join(tmpdir(), 'spendgate-cli-budgets-'));
  env = { SPENDGATE_URL: proxy.url, SPENDGATE_ADMIN_TOKEN: ADMIN_TOKEN };
});

afterAll(async () => {
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], extra: Record<string, string> = {}) =>
  runCli(args, { env: { ...env, ...extra }, cwd: dir });

/** Runs a command with --json that must succeed, and returns its parsed output. */
async function json(args: string[], extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const result = await cli([...args, '--json'], extra);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** A root budget through the admin API, as a fixture. */
async function rootBudget(label: string): Promise<string> {
  const res = await proxy.admin('POST', '/v1/budgets', { usd_cap: 100, expires_in: '2h', label });
  if (res.status !== 201) throw new Error(`budget failed: ${res.status} ${res.text}`);
  return res.json.id as string;
}

describe('spendgate budgets', { timeout: 90_000 }, () => {
  it('creates a root and a child budget with every flag, and the proxy holds what was asked', async () => {
    const root = await json([
      'budgets',
      'create',
      '--usd-cap',
      '100',
      '--daily-usd-cap',
      '40.5',
      '--max-usd-per-call',
      '10',
      '--ttl',
      '2h',
      '--label',
      'cli-bud-root',
      '--metadata',
      'tenant=acme',
    ]);
    expect(root).toMatchObject({
      parent_id: null,
      usd_cap: 100,
      daily_usd_cap: 40.5,
      max_usd_per_call: 10,
      label: 'cli-bud-root',
      metadata: { tenant: 'acme' },
      status: 'active',
      depth: 1,
    });
    expect(String(root.id)).toMatch(/^bud_/);
    expect(Date.parse(String(root.expires_at)) - Date.parse(String(root.created_at))).toBe(7_200_000);
    const expiresAt = new Date(Date.now() + 30 * 60_000).toISOString();
    const child = await json([
      'budgets',
      'create',
      '--parent',
      String(root.id),
      '--usd-cap',
      '5',
      '--expires-at',
      expiresAt,
    ]);
    expect(child).toMatchObject({ parent_id: root.id, depth: 2, usd_cap: 5, remaining_usd: 5 });
    expect(Date.parse(String(child.expires_at))).toBe(Date.parse(expiresAt));
    const stored = await proxy.admin('GET', `/v1/budgets/${String(root.id)}`);
    expect(stored.json).toMatchObject({ child_budgets: 1, usd_cap: 100 });
  });

  it('prints a table by default', async () => {
    const result = await cli(['budgets', 'create', '--usd-cap', '1', '--ttl', '10m']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^id\s+bud_/m);
    expect(result.stdout).toMatch(/^depth\s+1$/m);
  });

  it('lists by parent and label, and reads one budget', async () => {
    const root = await rootBudget('cli-bud-list-root');
    for (const n of [1, 2]) {
      await json(['budgets', 'create', '--parent', root, '--usd-cap', '1', '--label', `cli-bud-list-${n}`]);
    }
    const table = await cli(['budgets', 'list', '--parent', root]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^id\s+parent\s+label\s+status/);
    expect(table.stdout).toContain('cli-bud-list-1');
    expect(table.stdout).toContain('cli-bud-list-2');
    expect(table.stdout).not.toContain('cli-bud-list-root');
    const page = (await json(['budgets', 'list', '--label-prefix', 'cli-bud-list-', '--limit', '1'])) as {
      data: { label: string }[];
      next_cursor: string | null;
    };
    expect(page.data).toHaveLength(1);
    expect(page.next_cursor).not.toBeNull();
    const next = await cli(['budgets', 'list', '--label-prefix', 'cli-bud-list-', '--limit', '1']);
    expect(next.stderr).toContain('More budgets: --cursor ');
    const byLabel = (await json([
      'budgets',
      'list',
      '--label',
      'cli-bud-list-root',
      '--status',
      'active',
    ])) as {
      data: { id: string }[];
    };
    expect(byLabel.data.map((b) => b.id)).toEqual([root]);
    const got = await json(['budgets', 'get', root]);
    expect(got).toMatchObject({ id: root, spent_usd: 0, remaining_usd: 100, child_budgets: 2, keys: 0 });
  });

  it('keys create --budget issues a key without a cap of its own, drawing from the budget', async () => {
    const root = await rootBudget('cli-bud-key');
    const key = await json([
      'keys',
      'create',
      '--budget',
      root,
      '--vendor',
      'stripe',
      '--endpoint',
      'POST /v1/payment_intents',
      '--ttl',
      '10m',
    ]);
    expect(key).toMatchObject({ budget_id: root, usd_cap: null, status: 'active' });
    expect(String(key.token)).toMatch(/^vk_/);
    expect((await proxy.admin('GET', `/v1/budgets/${root}`)).json.keys).toBe(1);
  });

  it('revokes a budget with its subtree and keys', async () => {
    const root = await rootBudget('cli-bud-revoke');
    const child = await json(['budgets', 'create', '--parent', root, '--usd-cap', '1', '--ttl', '10m']);
    await proxy.issue({
      vendor: 'stripe',
      budget_id: child.id,
      allowed_endpoints: ['POST /v1/payment_intents'],
      expires_in: '5m',
    });
    const revoked = await cli(['budgets', 'revoke', root]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked ${root} at \\d{4}-.*: 2 budgets and 1 keys$`, 'm'));
    expect((await proxy.admin('GET', `/v1/budgets/${String(child.id)}`)).json.status).toBe('revoked');
    const again = await json(['budgets', 'get', root]);
    expect(again).toMatchObject({ status: 'revoked' });
  });

  it('exits 1 naming the refusal code', async () => {
    const unknown = await cli(['budgets', 'create', '--parent', 'bud_doesnotexist', '--usd-cap', '1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^spendgate: not_found \(HTTP 404\): /);
    const uncapped = await cli(['budgets', 'create', '--label', 'cli-bud-nocap']);
    expect(uncapped.code).toBe(1);
    expect(uncapped.stderr).toMatch(/^spendgate: cap_required \(HTTP 400\): /);
    const revoked = await rootBudget('cli-bud-inactive');
    await proxy.admin('DELETE', `/v1/budgets/${revoked}`);
    const inactive = await cli(['budgets', 'create', '--parent', revoked, '--usd-cap', '1']);
    expect(inactive.code).toBe(1);
    expect(inactive.stderr).toContain('parent_inactive (HTTP 400)');
    const root = await rootBudget('cli-bud-outlives');
    const outlives = await cli(['budgets', 'create', '--parent', root, '--usd-cap', '1', '--ttl', '3h']);
    expect(outlives.code).toBe(1);
    expect(outlives.stderr).toContain('outlives_parent (HTTP 400)');
    const missing = await cli(['budgets', 'revoke', 'bud_doesnotexist']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^spendgate: not_found \(HTTP 404\): /);
  });

  it('exits 2 on usage errors without sending anything', async () => {
    const before = (await proxy.admin('GET', '/v1/budgets?limit=500')).json.data.length as number;
    const cases = [
      ['budgets', 'create', '--usd-cap', '-3'],
      ['budgets', 'create', '--usd-cap', '1', '--ttl', '500ms'],
      ['budgets', 'create', '--usd-cap', '1', '--ttl', '1h', '--expires-at', '2030-01-01T00:00:00Z'],
      ['budgets', 'list', '--status', 'frozen'],
      ['budgets', 'get'],
      ['budgets', 'frobnicate'],
      ['issuers', 'create'],
      ['issuers', 'create', '--budget', 'bud_x', '--max-key-usd-cap', 'lots'],
    ];
    for (const args of cases) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
    }
    expect((await proxy.admin('GET', '/v1/budgets?limit=500')).json.data.length).toBe(before);
  });
});

describe('spendgate issuers', { timeout: 90_000 }, () => {
  it('creates, lists, reads and revokes an issuer', async () => {
    const budget = await rootBudget('cli-iss');
    const created = await cli([
      'issuers',
      'create',
      '--budget',
      budget,
      '--vendor',
      'stripe',
      '--vendor',
      'twilio',
      '--max-key-usd-cap',
      '10',
      '--max-ttl',
      '1h',
      '--endpoint',
      'POST /v1/payment_intents',
      '--ttl',
      '1h',
      '--label',
      'cli-iss',
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const issuer = JSON.parse(created.stdout) as Record<string, unknown>;
    expect(issuer).toMatchObject({
      budget_id: budget,
      label: 'cli-iss',
      vendors: ['stripe', 'twilio'],
      max_key_usd_cap: 10,
      max_ttl: 3600,
      allowed_endpoints: ['POST /v1/payment_intents'],
      status: 'active',
    });
    expect(String(issuer.id)).toMatch(/^iss_/);
    expect(String(issuer.token)).toMatch(/^it_/);
    const id = String(issuer.id);

    const shown = await cli(['issuers', 'create', '--budget', budget]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^token\s+it_/m);
    expect(shown.stderr).toContain('shown once');

    const table = await cli(['issuers', 'list', '--budget', budget]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^id\s+budget\s+label\s+status/);
    expect(table.stdout).toContain(id);
    const got = await json(['issuers', 'get', id]);
    expect(got).toMatchObject({ id, budget_id: budget });
    expect(got).not.toHaveProperty('token');
    const plain = await cli(['issuers', 'get', id]);
    expect(plain.stdout).toMatch(/^vendors\s+stripe,twilio$/m);

    const revoked = await cli(['issuers', 'revoke', id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked ${id} at \\d{4}-`));
    const active = (await json(['issuers', 'list', '--budget', budget, '--status', 'active'])) as {
      data: { id: string }[];
    };
    expect(active.data.map((i) => i.id)).not.toContain(id);
    expect(active.data).toHaveLength(1);
  });

  it('an issuer token works as the CLI’s token inside its subtree, and is refused outside it', async () => {
    const mine = await rootBudget('cli-iss-mine');
    const other = await rootBudget('cli-iss-other');
    const issuer = await json(['issuers', 'create', '--budget', mine, '--max-key-usd-cap', '5']);
    const asIssuer = { SPENDGATE_ADMIN_TOKEN: String(issuer.token) };
    const child = await json(
      ['budgets', 'create', '--parent', mine, '--usd-cap', '5', '--ttl', '10m'],
      asIssuer,
    );
    expect(child).toMatchObject({ parent_id: mine });
    const key = await json(
      [
        'keys',
        'create',
        '--budget',
        String(child.id),
        '--vendor',
        'stripe',
        '--endpoint',
        'POST /v1/payment_intents',
        '--usd-cap',
        '5',
        '--ttl',
        '5m',
      ],
      asIssuer,
    );
    expect(key).toMatchObject({ budget_id: child.id });
    const outside = await cli(['budgets', 'get', other], asIssuer);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/^spendgate: not_found \(HTTP 404\): /);
    const scope = await cli(['issuers', 'create', '--budget', mine], asIssuer);
    expect(scope.code).toBe(1);
    expect(scope.stderr).toMatch(/^spendgate: issuer_scope \(HTTP 403\): /);
    await json(['issuers', 'revoke', String(issuer.id)]);
    const gone = await cli(['budgets', 'get', mine], asIssuer);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^spendgate: issuer_revoked \(HTTP 401\): /);
  });
});
