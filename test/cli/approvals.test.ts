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
  dir = mkdtempSync(join(tmpdir(), 'spendgate-cli-approvals-'));
  env = { SPENDGATE_URL: proxy.url, SPENDGATE_ADMIN_TOKEN: ADMIN_TOKEN };
});

afterAll(async () => {
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, { env, cwd: dir });

/** A $10 charge on a key that needs approval above $5: refused with the pending request's id. */
async function pendingCharge(token: string, amount = 1000, headers: Record<string, string> = {}) {
  return proxy.call('POST', '/stripe/v1/payment_intents', {
    token,
    body: `amount=${amount}&currency=usd`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

describe('spendgate approvals', { timeout: 90_000 }, () => {
  it('lists a pending request, approves it, and the grant lets exactly that call through', async () => {
    const key = await proxy.issue({
      vendor: 'stripe',
      usd_cap: 100,
      approval_above_usd: 5,
      allowed_endpoints: ['POST /v1/payment_intents'],
      label: 'approve-me',
    });
    const refused = await pendingCharge(key.token);
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('approval_required');
    const approvalId = refused.json.error.approval.id as string;

    const table = await cli(['approvals', 'list', '--label', 'approve-me']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^id\s+status\s+amount\s+method\s+path/);
    expect(table.stdout).toMatch(
      new RegExp(`^${approvalId}\\s+pending\\s+10\\s+POST\\s+/v1/payment_intents`, 'm'),
    );
    const json = await cli(['approvals', 'list', '--json', '--key-id', key.id]);
    expect((JSON.parse(json.stdout) as { data: { id: string }[] }).data.map((a) => a.id)).toEqual([
      approvalId,
    ]);

    const approved = await cli(['approvals', 'approve', approvalId, '--json', '--note', 'ok by ops']);
    expect(approved.code, approved.stderr).toBe(0);
    const grant = JSON.parse(approved.stdout) as {
      id: string;
      status: string;
      grant: string;
      expires_at: string;
    };
    expect(grant).toMatchObject({ id: approvalId, status: 'approved' });
    expect(grant.grant).toMatch(/^apv_/);
    const allowed = await pendingCharge(key.token, 1000, { 'spendgate-approval': grant.grant });
    expect(allowed.status).toBe(200);

    const none = await cli(['approvals', 'list', '--json', '--key-id', key.id]);
    expect((JSON.parse(none.stdout) as { data: unknown[] }).data).toEqual([]);
    const all = await cli(['approvals', 'list', '--json', '--key-id', key.id, '--status', 'all']);
    expect((JSON.parse(all.stdout) as { data: unknown[] }).data).toHaveLength(1);
  });

  it('denies a request, and a second decision is refused naming approval_invalid', async () => {
    const key = await proxy.issue({
      vendor: 'stripe',
      usd_cap: 100,
      approval_above_usd: 5,
      allowed_endpoints: ['POST /v1/payment_intents'],
    });
    const approvalId = (await pendingCharge(key.token)).json.error.approval.id as string;
    const denied = await cli(['approvals', 'deny', approvalId]);
    expect(denied.code, denied.stderr).toBe(0);
    expect(denied.stdout).toMatch(/^status\s+denied$/m);
    const again = await cli(['approvals', 'approve', approvalId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('approval_invalid');
    const missing = await cli(['approvals', 'deny', 'apr_missing']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not_found');
  });
});
