import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_ADMIN_TOKEN, startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import { bodyOf, chargeUntilRefused, connectStdio, eventually, REPO_ROOT } from './helpers.js';

/**
 * `spendgate mcp --stdio` as a real child process (spawned from source by the SDK's StdioClientTransport),
 * against a real proxy in front of fake Stripe/Twilio/Resend. Each test gets its own process and session.
 */

let stack: AgentStack;

beforeAll(async () => {
  stack = await startAgentStack();
});

afterAll(async () => {
  await stack.close();
});

describe('spendgate mcp --stdio', () => {
  it("charges exactly the cap's worth, then answers isError with cap_exhausted", async () => {
    const before = stack.charges();
    const session = await connectStdio({ proxyUrl: stack.proxyUrl, flags: ['--stripe-usd-cap', '50'] });
    try {
      const { tools } = await session.client.listTools();
      // Only Stripe has a cap, so no SMS or email tool is listed at all.
      expect(tools.map((t) => t.name).sort()).toEqual(['charge_customer', 'spendgate_budget']);
      const charge = tools.find((t) => t.name === 'charge_customer');
      expect(charge?.annotations).toEqual({
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      });
      expect(charge?.inputSchema.required).toEqual(['customer', 'amount', 'currency', 'description']);

      const results = await chargeUntilRefused(session.client, 8);
      expect(results.filter((r) => !r.isError)).toHaveLength(5);
      const refusal = results.at(-1);
      expect(refusal?.isError).toBe(true);
      expect(bodyOf(refusal)).toMatchObject({
        ok: false,
        error: 'cap_exhausted',
        retryable: false,
        remaining_budget_usd: 0,
      });
      expect(stack.charges() - before).toBe(5);

      const budget = bodyOf(await session.client.callTool({ name: 'spendgate_budget', arguments: {} }));
      expect(budget).toMatchObject({
        ok: true,
        vendors: [{ vendor: 'stripe', spent_usd: 50, held_usd: 0, remaining_usd: 0, usd_cap: 50 }],
      });
      // Nothing the model or the client sees holds the admin token.
      expect(JSON.stringify({ tools, results, budget })).not.toContain(STACK_ADMIN_TOKEN);
    } finally {
      await session.client.close();
    }
  });

  it('issues the key at initialisation, and closing the session revokes it', async () => {
    const session = await connectStdio({ proxyUrl: stack.proxyUrl, flags: ['--stripe-usd-cap', '5'] });
    let keyId: string | undefined;
    try {
      // No tool call yet: the session's initialisation started its run.
      expect(await eventually(async () => (await activeSessionKeys()).length === 1)).toBe(true);
      keyId = (await activeSessionKeys())[0]?.id;
      const result = await session.client.callTool({ name: 'charge_customer', arguments: CHARGE_1 });
      expect(bodyOf(result)).toMatchObject({ ok: true });
    } finally {
      await session.client.close();
    }
    const revoked = await eventually(
      async () => (await stack.client.getKey(keyId ?? '')).status === 'revoked',
    );
    expect(revoked, session.stderr()).toBe(true);
    expect(session.stderr()).toMatch(/closed \(client_disconnected\); keys revoked/);
    // It exited by itself once stdin ended: the client did not have to signal it.
    expect(session.stderr()).not.toContain('received SIGTERM');
  });

  it("with an issuer token as SPENDGATE_ADMIN_TOKEN, the session's key lands in the issuer's budget and is revoked at close", async () => {
    const tenant = await stack.client.createBudget({
      usdCap: 50,
      label: 'mcp-stdio-tenant',
      expiresIn: '2h',
    });
    const issuer = await stack.client.createIssuer({
      budgetId: tenant.id,
      vendors: ['stripe'],
      maxKeyUsdCap: 10,
      maxTtl: '2h',
    });
    const session = await connectStdio({
      proxyUrl: stack.proxyUrl,
      flags: ['--stripe-usd-cap', '5'],
      adminToken: issuer.token,
    });
    let keyId: string | undefined;
    try {
      const result = await session.client.callTool({ name: 'charge_customer', arguments: CHARGE_1 });
      expect(bodyOf(result)).toMatchObject({ ok: true, remaining_budget_usd: 4 });
      const [key] = await activeSessionKeys();
      keyId = key?.id;
      // Read with the admin token: the key sits directly under the issuer's budget, with its own $5 cap.
      expect(key).toMatchObject({ budgetId: tenant.id, usdCap: 5 });
      expect((await stack.client.getBudget(tenant.id)).spentUsd).toBe(1);
      const budget = await session.client.callTool({ name: 'spendgate_budget', arguments: {} });
      expect(bodyOf(budget)).toMatchObject({ ok: true, vendors: [{ vendor: 'stripe', spent_usd: 1 }] });
      expect(JSON.stringify({ result, budget })).not.toContain(issuer.token);
    } finally {
      await session.client.close();
    }
    const revoked = await eventually(
      async () => (await stack.client.getKey(keyId ?? '')).status === 'revoked',
    );
    expect(revoked, session.stderr()).toBe(true);
    expect(session.stderr()).not.toContain(issuer.token);
  });

  it('a session budget (--session-usd-cap) caps Stripe and Twilio together, is reported, and is revoked at close', async () => {
    const session = await connectStdio({
      proxyUrl: stack.proxyUrl,
      // No vendor has a cap of its own: the session's $3 budget caps both.
      flags: ['--session-usd-cap', '3', '--vendors', 'stripe,twilio', '--sms-from', '+15005550006'],
    });
    let budgetId = '';
    let keyIds: string[] = [];
    try {
      const { tools } = await session.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['charge_customer', 'send_sms', 'spendgate_budget']);
      const charge = (amount: number) =>
        session.client.callTool({
          name: 'charge_customer',
          arguments: { customer: 'cus_ada', amount, currency: 'usd', description: `Charge ${amount}` },
        });
      expect(bodyOf(await charge(295))).toMatchObject({ ok: true });
      // $0.05 is left for texts (about $0.0083 each): a bounded loop until the shared budget refuses.
      let texts = 0;
      let refusal: Record<string, unknown> | undefined;
      for (let n = 0; n < 30 && !refusal; n += 1) {
        const body = bodyOf(
          await session.client.callTool({
            name: 'send_sms',
            arguments: { to: '+15558675310', body: `Your code is ${n}` },
          }),
        );
        if (body.ok) texts += 1;
        else refusal = body;
      }
      expect(texts).toBeGreaterThan(0);
      expect(refusal).toMatchObject({ error: 'cap_exhausted', retryable: false });
      // Stripe has budget of its own no more: the one cap is shared.
      expect(bodyOf(await charge(100))).toMatchObject({
        ok: false,
        error: 'cap_exhausted',
        retryable: false,
      });

      const report = bodyOf(await session.client.callTool({ name: 'spendgate_budget', arguments: {} })) as {
        budget: { id: string; usd_cap: number; spent_usd: number; held_usd: number; parent_id: null };
        vendors: { vendor: string }[];
      };
      expect(report.budget).toMatchObject({ usd_cap: 3, parent_id: null, held_usd: 0 });
      expect(report.budget.spent_usd).toBeGreaterThan(2.95);
      expect(report.budget.spent_usd).toBeLessThanOrEqual(3);
      expect(report.vendors.map((v) => v.vendor).sort()).toEqual(['stripe', 'twilio']);
      budgetId = report.budget.id;
      const keys = (await stack.client.listKeys({ labelPrefix: 'mcp-', status: 'active' })).data.filter(
        (key) => key.budgetId === budgetId,
      );
      expect(keys.map((k) => k.vendor).sort()).toEqual(['stripe', 'twilio']);
      keyIds = keys.map((k) => k.id);
    } finally {
      await session.client.close();
    }
    const revoked = await eventually(
      async () => (await stack.client.getBudget(budgetId)).status === 'revoked',
    );
    expect(revoked, session.stderr()).toBe(true);
    for (const id of keyIds) expect((await stack.client.getKey(id)).status).toBe('revoked');
  });

  it('SIGTERM (server shutdown) revokes the key before the process exits', async () => {
    const session = await connectStdio({ proxyUrl: stack.proxyUrl, flags: ['--stripe-usd-cap', '5'] });
    try {
      expect(await eventually(async () => (await activeSessionKeys()).length === 1)).toBe(true);
      const [key] = await activeSessionKeys();
      const pid = session.transport.pid;
      expect(pid).not.toBeNull();
      process.kill(pid ?? 0, 'SIGTERM');
      const revoked = await eventually(
        async () => (await stack.client.getKey(key?.id ?? '')).status === 'revoked',
      );
      expect(revoked, session.stderr()).toBe(true);
      // The child's stderr reaches this process on its own schedule: wait (bounded) for the lines.
      const logged = /received SIGTERM[\s\S]*closed \(shutdown\); keys revoked/;
      await eventually(async () => logged.test(session.stderr()));
      expect(session.stderr()).toMatch(logged);
    } finally {
      await session.client.close();
    }
  });

  it('a killed client revokes the key: the server sees stdin end, revokes and exits', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/mcp/fixtures/stdio-client.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, SPENDGATE_URL: stack.proxyUrl, SPENDGATE_ADMIN_TOKEN: STACK_ADMIN_TOKEN },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let serverPid: number | undefined;
    try {
      const [line] = (await Promise.race([
        once(createInterface({ input: child.stdout }), 'line'),
        once(child, 'exit').then(() => ['{}']),
      ])) as [string];
      const ready = JSON.parse(line) as { serverPid?: number; isError?: boolean };
      serverPid = ready.serverPid;
      expect(ready).toMatchObject({ isError: false });
      const [key] = await activeSessionKeys();
      expect(key).toBeDefined();

      child.kill('SIGKILL');
      await once(child, 'exit');
      const revoked = await eventually(
        async () => (await stack.client.getKey(key?.id ?? '')).status === 'revoked',
      );
      expect(revoked).toBe(true);
      expect(await eventually(async () => !isAlive(serverPid))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      if (isAlive(serverPid)) process.kill(serverPid ?? 0, 'SIGKILL');
    }
  });
});

const CHARGE_1 = { customer: 'cus_ada', amount: 100, currency: 'usd', description: 'One dollar' };

/** Session keys (label `mcp-…`) still active on this proxy. */
async function activeSessionKeys() {
  const { data } = await stack.client.listKeys({ labelPrefix: 'mcp-', status: 'active' });
  return data;
}

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
