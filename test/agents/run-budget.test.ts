import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpendgateClient } from '../../src/client/index.js';
import { createRun, startRun } from '../../src/run/index.js';
import { chargeCustomerTool, sendSmsTool } from '../../src/tools/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';

let stack: AgentStack;

beforeAll(async () => {
  stack = await startAgentStack();
});

afterAll(async () => {
  await stack.close();
});

const charge = chargeCustomerTool();
const sms = sendSmsTool({ from: '+15017122661' });
const order = (n: number, amount = 100) => ({
  customer: 'cus_budget',
  amount,
  currency: 'usd',
  description: `Order ${n}`,
});
const text = (n: number) => ({ to: '+15558675310', body: `Your code is ${n}` });

/** Calls the tool until it refuses (bounded), returning the successes and the refusal. */
async function spendUntilRefused(
  tool: { execute: (input: never, ctx: { toolCallId: string }) => Promise<unknown> },
  input: (n: number) => unknown,
  max = 50,
) {
  let ok = 0;
  for (let n = 0; n < max; n += 1) {
    const result = (await tool.execute(input(n) as never, { toolCallId: `call_${n}_${Math.random()}` })) as {
      ok: boolean;
    };
    if (!result.ok) return { ok, refusal: result as unknown as Record<string, unknown> };
    ok += 1;
  }
  return { ok, refusal: null };
}

describe('a run with one budget across vendors', () => {
  it('caps Stripe and Twilio together at the run cap, and revokes the budget and both keys at the end', async () => {
    const run = await startRun({
      client: stack.client,
      budget: { label: 'run-budget-across', usdCap: 3, caps: { twilio: { usdCap: 1 } } },
      tools: [charge, sms],
    });
    const budgetId = run.budgetId ?? '';
    expect(budgetId).toMatch(/^bud_/);
    const budget = await stack.client.getBudget(budgetId);
    expect(budget).toMatchObject({ usdCap: 3, label: 'run-budget-across', keys: 2 });
    // Keys expire with the budget: a key never outlives what it draws on.
    for (const key of run.keys) expect(key.expiresAt.getTime()).toBe(budget.expiresAt.getTime());
    const listed = await stack.client.listKeys({ budgetId });
    expect(listed.data.map((k) => k.id).sort()).toEqual(run.keys.map((k) => k.id).sort());
    expect(listed.data.every((k) => k.budgetId === budgetId)).toBe(true);
    const [chargeTool, smsTool] = run.tools;
    const charges = await spendUntilRefused(chargeTool as never, (n) => order(n, 100), 2);
    expect(charges.ok).toBe(2);
    const texts = await spendUntilRefused(smsTool as never, text, 200);
    // $2 charged leaves $1 of the run: the SMS key's own $1 cap and the run's remainder bind together.
    expect(texts.refusal).toMatchObject({ error: 'cap_exhausted', retryable: false });
    const more = await spendUntilRefused(chargeTool as never, (n) => order(100 + n, 100), 5);
    expect(more.ok).toBe(0);
    expect(more.refusal).toMatchObject({ error: 'cap_exhausted', retryable: false });
    const spent = await stack.client.getBudget(budgetId);
    expect(spent.spentUsd + spent.reservedUsd).toBeLessThanOrEqual(3);
    expect(spent.spentUsd).toBeGreaterThan(2.9);
    await run.end();
    expect((await stack.client.getBudget(budgetId)).status).toBe('revoked');
    for (const key of run.keys) expect((await stack.client.getKey(key.id)).status).toBe('revoked');
  });

  it('starts under a tenant budget and stops at what the tenant has left', async () => {
    const tenant = await stack.client.createBudget({ usdCap: 2.5, label: 'tenant-acme', expiresIn: '1h' });
    const run = await startRun({
      client: stack.client,
      budget: { parentBudgetId: tenant.id, caps: { stripe: { usdCap: 100 } }, ttl: '10m' },
      tools: [charge],
    });
    const result = await spendUntilRefused(run.tools[0] as never, (n) => order(n, 100), 10);
    expect(result.ok).toBe(2);
    expect(result.refusal).toMatchObject({ error: 'cap_exhausted' });
    expect((await stack.client.getBudget(tenant.id)).spentUsd).toBe(2);
    await run.end();
    // Ending the run revokes its own budget, not the tenant's.
    expect((await stack.client.getBudget(tenant.id)).status).toBe('active');
  });

  it('runs with an issuer token instead of the admin token, inside the issuer budget', async () => {
    const tenant = await stack.client.createBudget({ usdCap: 10, label: 'tenant-issued', expiresIn: '1h' });
    const issuer = await stack.client.createIssuer({
      budgetId: tenant.id,
      vendors: ['stripe'],
      maxKeyUsdCap: 5,
      maxTtl: '30m',
    });
    const client = createSpendgateClient({ baseUrl: stack.proxyUrl, adminToken: issuer.token });
    const run = await startRun({
      client,
      budget: { parentBudgetId: tenant.id, caps: { stripe: { usdCap: 1 } }, ttl: '10m' },
      tools: [charge],
    });
    const result = await spendUntilRefused(run.tools[0] as never, (n) => order(n, 100), 5);
    expect(result.ok).toBe(1);
    await run.end();
    expect((await stack.client.getKey(run.keys[0]?.id ?? '')).status).toBe('revoked');
    // Beyond the issuer's ceilings the run does not start, and nothing is left active.
    const greedy = createRun({
      client,
      budget: { parentBudgetId: tenant.id, caps: { stripe: { usdCap: 50 } }, ttl: '10m', label: 'greedy' },
      tools: [charge],
    });
    await expect(greedy.start()).rejects.toMatchObject({ code: 'issuer_scope' });
    expect(
      (await stack.client.listBudgets({ label: 'greedy' })).data.every((b) => b.status === 'revoked'),
    ).toBe(true);
  });
});

describe('sub-agent runs', () => {
  it('stops a child at what its parent has left, and ending the parent ends the child', async () => {
    const parent = await startRun({
      client: stack.client,
      budget: { label: 'parent-run', usdCap: 3, caps: {} },
      tools: [charge],
    });
    const first = await spendUntilRefused(parent.tools[0] as never, (n) => order(n, 100), 1);
    expect(first.ok).toBe(1);
    const child = await parent.child({ tools: [charge], usdCap: 10 }).start();
    const childBudget = await stack.client.getBudget(child.budgetId ?? '');
    expect(childBudget).toMatchObject({ parentId: parent.budgetId, usdCap: 10, remainingUsd: 2 });
    const runaway = await spendUntilRefused(child.tools[0] as never, (n) => order(1000 + n, 100), 20);
    expect(runaway.ok).toBe(2);
    expect(runaway.refusal).toMatchObject({ error: 'cap_exhausted', retryable: false });
    expect((await stack.client.getBudget(parent.budgetId ?? '')).spentUsd).toBe(3);
    await parent.end();
    expect(child.state).toBe('ended');
    for (const key of [...parent.keys, ...child.keys]) {
      expect((await stack.client.getKey(key.id)).status).toBe('revoked');
    }
    const again = await child.tools[0]?.execute(order(9999), { toolCallId: 'after-end' });
    expect(again).toMatchObject({ ok: false, retryable: false });
  });

  it('refuses to start a child under a run with no budget of its own, leaving nothing active', async () => {
    const parent = await startRun({
      client: stack.client,
      budget: { label: 'plain-parent', caps: { stripe: { usdCap: 1 } } },
      tools: [charge],
    });
    try {
      await expect(parent.child({ tools: [charge] }).start()).rejects.toMatchObject({ code: 'bad_request' });
    } finally {
      await parent.end();
    }
    expect(await stack.activeKeys()).toEqual([]);
  });

  it('refuses to start a child once its parent has ended', async () => {
    const parent = await startRun({
      client: stack.client,
      budget: { label: 'ended-parent', usdCap: 1, caps: {} },
      tools: [charge],
    });
    const child = parent.child({ tools: [charge] });
    await parent.end();
    await expect(child.start()).rejects.toMatchObject({ code: 'key_revoked' });
  });
});
