import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SpendgateClient } from '../../src/client/index.js';
import { SpendgateError } from '../../src/errors/index.js';
import { createRun, startRun, withRun, type RunBudget } from '../../src/run/index.js';
import { chargeCustomerTool, defineSpendTool, sendSmsTool, type SpendTool } from '../../src/tools/index.js';
import { z } from 'zod';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';

let stack: AgentStack;

beforeAll(async () => {
  stack = await startAgentStack();
});

afterAll(async () => {
  await stack.close();
});

const budget = (label: string): RunBudget => ({
  label,
  ttl: '5m',
  metadata: { tenant: 'acme' },
  caps: { stripe: { usdCap: 50, maxUsdPerCall: 30 }, twilio: { usdCap: 1 }, resend: { usdCap: 1 } },
});
const charge = chargeCustomerTool();
const sms = sendSmsTool({ from: '+15017122661' });
const chargeInput = { customer: 'cus_run', amount: 2000, currency: 'usd', description: 'Order 1' };

async function statusOf(keyId: string): Promise<string> {
  return (await stack.client.getKey(keyId)).status;
}

describe('starting a run', () => {
  it('issues one key per vendor its tools use, with endpoints derived from the tools', async () => {
    const run = await startRun({ client: stack.client, budget: budget('run-derive'), tools: [charge, sms] });
    try {
      expect(run.state).toBe('active');
      const byVendor = Object.fromEntries(run.keys.map((k) => [k.vendor, k]));
      // Caps for resend grant nothing: no tool of this run calls it.
      expect(Object.keys(byVendor).sort()).toEqual(['stripe', 'twilio']);
      const stripeKey = await stack.client.getKey(byVendor.stripe?.id ?? '');
      expect(stripeKey).toMatchObject({
        allowedEndpoints: ['POST /v1/payment_intents'],
        usdCap: 50,
        maxUsdPerCall: 30,
        label: 'run-derive',
        metadata: { tenant: 'acme', spendgate_run_id: run.id },
      });
      const twilioKey = await stack.client.getKey(byVendor.twilio?.id ?? '');
      expect(twilioKey.allowedEndpoints).toEqual(['POST /2010-04-01/Accounts/*/Messages.json']);
    } finally {
      await run.end();
    }
  });

  it('refuses a vendor without a cap before issuing anything', () => {
    expect(() =>
      createRun({ client: stack.client, budget: { caps: { stripe: { usdCap: 5 } } }, tools: [sms] }),
    ).toThrow(expect.objectContaining({ code: 'cap_required' }));
  });

  it('fails closed: when one issue fails, the keys already issued are revoked', async () => {
    const paypal: SpendTool = defineSpendTool({
      name: 'pay_out',
      description: 'test',
      inputSchema: z.object({}),
      vendor: 'paypal',
      endpoints: ['POST /v1/payouts'],
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
      idempotent: true,
      request: () => ({ method: 'POST', path: '/v1/payouts', auth: 'bearer' }),
      summarize: () => ({}),
    });
    const run = createRun({
      client: stack.client,
      budget: { ...budget('run-fail-closed'), caps: { stripe: { usdCap: 5 }, paypal: { usdCap: 5 } } },
      tools: [charge, paypal],
    });
    const error = await run.start().then(
      () => null,
      (err: unknown) => err,
    );
    expect(SpendgateError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'unknown_vendor' });
    expect((error as Error).message).toMatch(/did not start: issuing its paypal key failed/);
    expect(run.state).toBe('failed');
    const keys = await stack.client.listKeys({ label: 'run-fail-closed' });
    expect(keys.data).toHaveLength(1);
    expect(keys.data.every((k) => k.status === 'revoked')).toBe(true);
    // The tools refuse without sending anything.
    const before = stack.charges();
    await expect(run.tools[0]?.execute(chargeInput, { toolCallId: 'c1' })).resolves.toMatchObject({
      ok: false,
      error: 'run_not_started',
      retryable: false,
    });
    expect(stack.charges()).toBe(before);
  });

  it('does not start when its signal is already aborted', async () => {
    const reason = new Error('cancelled before start');
    const run = createRun({
      client: stack.client,
      budget: budget('run-pre-aborted'),
      tools: [charge],
      signal: AbortSignal.abort(reason),
    });
    await expect(run.start()).rejects.toBe(reason);
    expect((await stack.client.listKeys({ label: 'run-pre-aborted' })).data).toHaveLength(0);
  });
});

describe('ending a run', () => {
  it('ends cleanly when aborted while its keys are being issued', async () => {
    const controller = new AbortController();
    const run = createRun({
      client: stack.client,
      budget: budget('run-abort-starting'),
      tools: [charge, sms],
      signal: controller.signal,
    });
    const starting = run.start();
    const reason = new Error('stop while starting');
    controller.abort(reason);
    await expect(starting).rejects.toBe(reason);
    await run.end();
    expect(run.state).toBe('ended');
    const keys = await stack.client.listKeys({ label: 'run-abort-starting' });
    expect(keys.data.every((k) => k.status === 'revoked')).toBe(true);
  });

  it('end() during start waits for the issues, then revokes them', async () => {
    const run = createRun({ client: stack.client, budget: budget('run-end-starting'), tools: [charge, sms] });
    const starting = run.start();
    await run.end();
    await expect(starting).rejects.toBeDefined();
    const keys = await stack.client.listKeys({ label: 'run-end-starting' });
    expect(keys.data).toHaveLength(2);
    expect(keys.data.every((k) => k.status === 'revoked')).toBe(true);
  });

  it('revokes every key; end() is idempotent', async () => {
    const run = await startRun({ client: stack.client, budget: budget('run-end'), tools: [charge, sms] });
    const first = run.end();
    expect(run.end()).toBe(first);
    await first;
    await run.end();
    expect(run.state).toBe('ended');
    for (const key of run.keys) expect(await statusOf(key.id)).toBe('revoked');
    expect(run.signal.aborted).toBe(true);
  });

  it('ends with `await using`', async () => {
    let keyId = '';
    {
      await using run = await startRun({
        client: stack.client,
        budget: budget('run-using'),
        tools: [charge],
      });
      keyId = run.keys[0]?.id ?? '';
      expect(await statusOf(keyId)).toBe('active');
    }
    expect(await statusOf(keyId)).toBe('revoked');
  });

  it('ends when its signal aborts, and its tools then refuse', async () => {
    const controller = new AbortController();
    const run = await startRun({
      client: stack.client,
      budget: budget('run-abort'),
      tools: [charge],
      signal: controller.signal,
    });
    const reason = new Error('user pressed stop');
    controller.abort(reason);
    await run.end();
    expect(run.signal.reason).toBe(reason);
    expect(await statusOf(run.keys[0]?.id ?? '')).toBe('revoked');
    await expect(run.tools[0]?.execute(chargeInput, { toolCallId: 'c1' })).resolves.toMatchObject({
      error: 'key_revoked',
      retryable: false,
    });
  });

  it('ends on its timeout', async () => {
    const run = await startRun({
      client: stack.client,
      budget: budget('run-timeout'),
      tools: [charge],
      timeoutMs: 50,
    });
    await vi.waitFor(() => expect(run.state).toBe('ended'), { timeout: 2000 });
    expect((run.signal.reason as DOMException).name).toBe('TimeoutError');
    expect(await statusOf(run.keys[0]?.id ?? '')).toBe('revoked');
  });

  it('withRun rethrows the body error and still revokes', async () => {
    let keyId = '';
    const boom = new Error('agent crashed');
    await expect(
      withRun({ client: stack.client, budget: budget('run-with'), tools: [charge] }, async (run) => {
        keyId = run.keys[0]?.id ?? '';
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await statusOf(keyId)).toBe('revoked');
  });

  it('reports a revoke failure: end() rejects, a quiet end goes to onEndError', async () => {
    const failing: SpendgateClient = {
      ...stack.client,
      revokeKey: async () => {
        throw new SpendgateError({ code: 'upstream_unreachable', message: 'proxy down' });
      },
    };
    const onEndError = vi.fn();
    const run = await startRun({
      client: failing,
      budget: budget('run-revoke-fails'),
      tools: [charge],
      onEndError,
    });
    await expect(run.end()).rejects.toMatchObject({ code: 'upstream_unreachable' });
    await run.end({ quiet: true });
    expect(onEndError).toHaveBeenCalledTimes(1);
    await stack.client.revokeKeys({ label: 'run-revoke-fails' });
  });

  it('tools refuse before the run starts', async () => {
    const run = createRun({ client: stack.client, budget: budget('run-not-started'), tools: [charge] });
    await expect(run.tools[0]?.execute(chargeInput, { toolCallId: 'c1' })).resolves.toMatchObject({
      error: 'run_not_started',
      retryable: false,
    });
  });
});
