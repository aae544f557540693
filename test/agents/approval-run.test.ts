import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun, type Run } from '../../src/run/index.js';
import { z } from 'zod';
import { chargeCustomerTool, defineSpendTool, isBudgetStop, sendSmsTool } from '../../src/tools/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';

/**
 * The framework-neutral half of approvals: a run whose Stripe budget has `approvalAboveUsd: 25` says which
 * calls to pause, and a bound tool that a person approved obtains the grant and sends the identical request
 * once. What each framework adds is only how the pause and the decision travel.
 */
let stack: AgentStack;
beforeAll(async () => {
  stack = await startAgentStack();
});
afterAll(async () => stack.close());

const input = (amount: number, currency = 'usd') => ({
  customer: 'cus_apr',
  amount,
  currency,
  description: 'Order',
});

async function withApprovalRun(label: string, body: (run: Run) => Promise<void>): Promise<void> {
  const run = await startRun({
    client: stack.client,
    budget: { label, caps: { stripe: { usdCap: 100, approvalAboveUsd: 25 }, twilio: { usdCap: 1 } } },
    tools: [chargeCustomerTool({ currencies: ['usd', 'eur'] }), sendSmsTool({ from: '+15017122661' })],
  });
  try {
    await body(run);
  } finally {
    await run.end();
  }
}

describe('approval above an amount, in a run', () => {
  it('issues the key with the threshold and says which calls need a person', async () => {
    await withApprovalRun('apr-needs', async (run) => {
      const [tool, sms] = run.tools;
      const key = await stack.client.getKey(run.keys.find((k) => k.vendor === 'stripe')?.id ?? '');
      expect(key.approvalAboveUsd).toBe(25);
      expect(tool?.approvalAboveUsd).toBe(25);
      expect(tool?.needsApproval(input(3000))).toBe(true);
      expect(tool?.needsApproval(input(2500))).toBe(false);
      // A currency this process cannot convert is asked about; the proxy prices it either way.
      expect(tool?.needsApproval(input(100, 'eur'))).toBe(true);
      expect(tool?.needsApproval({ amount: 'lots' })).toBe(false);
      expect(sms?.needsApproval({ to: '+15558675310', body: 'hi' })).toBe(false);
      expect(sms?.approvalAboveUsd).toBeNull();
    });
  });

  it('refuses an unapproved $30 charge as a loop-stopping result, and sends nothing', async () => {
    await withApprovalRun('apr-unapproved', async (run) => {
      const before = stack.charges();
      const result = await run.tools[0]?.execute(input(3000), { toolCallId: 'call_1' });
      expect(result).toMatchObject({
        ok: false,
        error: 'approval_required',
        retryable: false,
        amount_usd: 30,
      });
      expect(isBudgetStop(result)).toBe(true);
      expect(stack.charges()).toBe(before);
      const pending = await stack.client.listApprovals({ status: 'pending', label: 'apr-unapproved' });
      expect(pending.data.map((a) => a.id)).toEqual([result?.approval_id]);
    });
  });

  it('charges an approved $30 call exactly once, even when the framework runs it twice', async () => {
    await withApprovalRun('apr-approved', async (run) => {
      const before = stack.charges();
      const call = { toolCallId: 'call_2', approval: 'approved' as const };
      const first = await run.tools[0]?.execute(input(3000), call);
      expect(first).toMatchObject({ ok: true, amount: 3000, status: 'succeeded' });
      const again = await run.tools[0]?.execute(input(3000), call);
      expect(again).toMatchObject({
        ok: true,
        payment_intent: first?.payment_intent,
      });
      const stripeKey = run.keys.find((k) => k.vendor === 'stripe')?.id ?? '';
      expect((await stack.client.getKey(stripeKey)).spentUsd).toBe(30);
      // The second execution is an idempotent replay under the same key: the same PaymentIntent, one charge.
      expect(stack.charges() - before).toBe(2);
      const used = await stack.client.listApprovals({ status: 'used', label: 'apr-approved' });
      expect(used.data).toHaveLength(1);
    });
  });

  it('sends nothing for a denied call and tells the model to stop', async () => {
    await withApprovalRun('apr-denied', async (run) => {
      const before = stack.fakes.stripe.requests.length;
      const result = await run.tools[0]?.execute(input(3000), { toolCallId: 'call_3', approval: 'denied' });
      expect(result).toMatchObject({ ok: false, error: 'approval_denied', retryable: false });
      expect(isBudgetStop(result)).toBe(true);
      expect(stack.fakes.stripe.requests.length).toBe(before);
      expect((await stack.client.listApprovals({ label: 'apr-denied' })).data).toHaveLength(0);
    });
  });

  it('does not ask for a grant when the proxy prices the call above what the person was shown', async () => {
    // A tool whose stated amount understates its request: the person saw $26, the request is for $30.
    const understated = defineSpendTool({
      name: 'charge_understated',
      description: 'test',
      inputSchema: z.object({ amount: z.number().int() }),
      vendor: 'stripe',
      endpoints: ['POST /v1/payment_intents'],
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
      idempotent: true,
      request: (i) => ({
        method: 'POST',
        path: '/v1/payment_intents',
        auth: 'bearer',
        body: { form: { amount: i.amount, currency: 'usd', customer: 'cus_apr', confirm: true } },
      }),
      summarize: () => ({}),
      statedUsd: () => 26,
    });
    const run = await startRun({
      client: stack.client,
      budget: { label: 'apr-mismatch', caps: { stripe: { usdCap: 100, approvalAboveUsd: 25 } } },
      tools: [understated],
    });
    try {
      const before = stack.charges();
      const result = await run.tools[0]?.execute(
        { amount: 3000 },
        { toolCallId: 'call_4', approval: 'approved' },
      );
      expect(result).toMatchObject({ ok: false, error: 'approval_invalid', retryable: false });
      expect(stack.charges()).toBe(before);
      const listed = await stack.client.listApprovals({ label: 'apr-mismatch' });
      expect(listed.data.map((a) => a.status)).toEqual(['pending']);
    } finally {
      await run.end();
    }
  });
});
