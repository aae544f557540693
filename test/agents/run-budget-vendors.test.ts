import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/run/index.js';
import { chargeCustomerTool, sendSmsTool } from '../../src/tools/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';

/**
 * The case, end to end: a run budget of $50 over a Stripe key capped at $40 and a Twilio key capped at
 * $40, and 1,000 concurrent tool calls split across both. The run never spends past $50, and the fake vendors
 * see exactly what was admitted.
 */
let stack: AgentStack;

beforeAll(async () => {
  // $1 per SMS segment to US numbers, so that both vendors draw on the run budget in whole dollars.
  stack = await startAgentStack({ overrides: { SPENDGATE_TWILIO_SMS_PRICES: '+1=1' } });
});

afterAll(async () => {
  await stack.close();
});

describe('one run budget across Stripe and Twilio', () => {
  it('admits exactly $50 of 1,000 concurrent $1 calls split across a $40 Stripe key and a $40 Twilio key', async () => {
    const run = await startRun({
      client: stack.client,
      budget: {
        label: 'run-50-across',
        usdCap: 50,
        caps: { stripe: { usdCap: 40 }, twilio: { usdCap: 40 } },
      },
      tools: [chargeCustomerTool(), sendSmsTool({ from: '+15017122661' })],
      toolTimeoutMs: 60_000,
    });
    try {
      const [charge, sms] = run.tools;
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          i % 2 === 0
            ? charge!.execute(
                { customer: 'cus_split', amount: 100, currency: 'usd', description: `Order ${i}` },
                { toolCallId: `split-c-${i}` },
              )
            : sms!.execute({ to: '+15558675310', body: `Code ${i}` }, { toolCallId: `split-s-${i}` }),
        ),
      );
      const admitted = results.filter((r) => r.ok).length;
      expect(admitted).toBe(50);
      // Refused before forwarding: spent (stop), or held by calls still in flight (may try once more after).
      const refusals = new Set(results.flatMap((r) => (r.ok ? [] : [`${r.error}/${String(r.budget)}`])));
      expect([...refusals].every((r) => r === 'cap_exhausted/spent' || r === 'cap_exhausted/in_flight')).toBe(
        true,
      );
      expect(results.filter((r) => !r.ok && r.budget_id === run.budgetId).length).toBeGreaterThan(0);
      // What reached the vendors is exactly what was admitted, within each key's own cap.
      expect(stack.charges() + stack.smsSent()).toBe(50);
      expect(stack.charges()).toBeLessThanOrEqual(40);
      expect(stack.smsSent()).toBeLessThanOrEqual(40);
      const budget = await stack.client.getBudget(run.budgetId ?? '');
      expect(budget).toMatchObject({ spentUsd: 50, reservedUsd: 0, remainingUsd: 0 });
    } finally {
      await run.end();
    }
    expect(await stack.activeKeys()).toEqual([]);
  }, 120_000);
});
