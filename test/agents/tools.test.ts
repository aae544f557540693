import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRun, type Run } from '../../src/run/index.js';
import {
  chargeCustomerTool,
  sendEmailTool,
  sendSmsTool,
  type RunTool,
  type ToolResult,
} from '../../src/tools/index.js';
import { DECLINING_CUSTOMER } from '../../src/testing/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';

let stack: AgentStack;
let run: Run;

beforeAll(async () => {
  stack = await startAgentStack();
});

afterAll(async () => {
  await stack.close();
});

afterEach(async () => {
  await run.end();
});

async function startWith(options: { usdCap?: number; maxUsdPerCall?: number; toolTimeoutMs?: number } = {}) {
  run = await startRun({
    client: stack.client,
    budget: {
      label: 'tools-test',
      caps: {
        stripe: {
          usdCap: options.usdCap ?? 50,
          ...(options.maxUsdPerCall ? { maxUsdPerCall: options.maxUsdPerCall } : {}),
        },
        twilio: { usdCap: 1 },
        resend: { usdCap: 1 },
      },
    },
    tools: [
      chargeCustomerTool(),
      sendSmsTool({ from: '+15017122661' }),
      sendEmailTool({ from: 'Acme <billing@acme.test>' }),
    ],
    ...(options.toolTimeoutMs ? { toolTimeoutMs: options.toolTimeoutMs } : {}),
  });
  const byName = (name: string) => run.tools.find((t) => t.name === name) as RunTool;
  return { charge: byName('charge_customer'), sms: byName('send_sms'), email: byName('send_email') };
}

const order = (amount: number, customer = 'cus_ada') => ({
  customer,
  amount,
  currency: 'usd',
  description: 'Order 42',
});

describe('charge_customer', () => {
  it('charges and reports ids, amount and the budget left', async () => {
    const { charge } = await startWith();
    const result = await charge.execute(order(2000), { toolCallId: 'call_1' });
    expect(result).toMatchObject({
      ok: true,
      status: 'succeeded',
      amount: 2000,
      currency: 'usd',
      customer: 'cus_ada',
    });
    expect(result.payment_intent).toMatch(/^pi_/);
    expect(result.remaining_budget_usd).toBe(30);
    const sent = stack.fakes.stripe.requests.at(-1);
    // The tool sends `spendgate-<hash>`; the proxy scopes it to the vault key before the vendor sees it.
    expect(sent?.headers['idempotency-key']).toMatch(/^sg_key_[0-9a-f]+_[0-9a-f]{40}$/);
    expect(sent?.body.toString()).toContain('confirm=true');
  });

  it('the same tool call sent twice charges once', async () => {
    const { charge } = await startWith();
    const first = await charge.execute(order(2000), { toolCallId: 'call_dup' });
    const second = await charge.execute(order(2000), { toolCallId: 'call_dup' });
    expect(second.payment_intent).toBe(first.payment_intent);
    const key = await stack.client.getKey(run.keys.find((k) => k.vendor === 'stripe')?.id ?? '');
    expect(key.spentUsd).toBe(20);
  });

  it('refuses past the cap with a structured do-not-retry result', async () => {
    const { charge } = await startWith();
    await charge.execute(order(2000), { toolCallId: 'c1' });
    await charge.execute(order(2000), { toolCallId: 'c2' });
    const before = stack.charges();
    const refused = await charge.execute(order(2000), { toolCallId: 'c3' });
    expect(refused).toMatchObject({
      ok: false,
      error: 'cap_exhausted',
      retryable: false,
      budget: 'spent',
      remaining_budget_usd: 10,
      spent_usd: 40,
    });
    expect(refused.message).toMatch(/Stop and report/);
    expect(stack.charges()).toBe(before);
  });

  it('refuses a call above the per-call limit', async () => {
    const { charge } = await startWith({ maxUsdPerCall: 25 });
    const refused = await charge.execute(order(3000), { toolCallId: 'c1' });
    expect(refused).toMatchObject({ error: 'per_call_limit_exceeded', retryable: false });
  });

  it('passes on a card decline as final, with the vendor reason', async () => {
    const { charge } = await startWith();
    const declined = await charge.execute(order(2000, DECLINING_CUSTOMER), { toolCallId: 'c1' });
    expect(declined).toMatchObject({
      ok: false,
      error: 'vendor_declined',
      retryable: false,
      vendor: 'stripe',
      reason: 'generic_decline',
    });
  });

  it('a vendor 5xx is retryable, and retry_of reuses the idempotency key', async () => {
    const { charge } = await startWith();
    stack.fakes.stripe.failNext({ method: 'POST', path: '/v1/payment_intents', status: 500 });
    const failed = await charge.execute(order(2000), { toolCallId: 'c_5xx' });
    expect(failed).toMatchObject({ ok: false, error: 'vendor_error', retryable: true, retry_of: 'c_5xx' });
    expect(failed.message).toMatch(/retry is safe/);
    const firstKey = stack.fakes.stripe.requests.at(-1)?.headers['idempotency-key'];
    const retried = await charge.execute({ ...order(2000), retry_of: 'c_5xx' }, { toolCallId: 'c_retry' });
    expect(retried.ok).toBe(true);
    expect(stack.fakes.stripe.requests.at(-1)?.headers['idempotency-key']).toBe(firstKey);
  });

  it('a timeout is retryable', async () => {
    const { charge } = await startWith({ toolTimeoutMs: 200 });
    stack.fakes.stripe.delayNext(1000);
    const result = await charge.execute(order(2000), { toolCallId: 'c_slow' });
    expect(result).toMatchObject({
      ok: false,
      error: 'upstream_timeout',
      retryable: true,
      retry_of: 'c_slow',
    });
  });

  it('turns invalid arguments into a result, sending nothing', async () => {
    const { charge } = await startWith();
    const before = stack.charges();
    const result = await charge.execute(
      { customer: 'cus_1', amount: 12.5, currency: 'usd', description: 'x' },
      { toolCallId: 'c' },
    );
    expect(result).toMatchObject({ ok: false, error: 'bad_request', retryable: false });
    expect(stack.charges()).toBe(before);
  });
});

describe('send_sms', () => {
  it('sends with the vault key as the Basic username', async () => {
    const { sms } = await startWith();
    const result: ToolResult = await sms.execute(
      { to: '+15558675310', body: 'Your order shipped' },
      { toolCallId: 's1' },
    );
    expect(result).toMatchObject({ ok: true, to: '+15558675310', segments: 1 });
    expect(result.message_sid).toMatch(/^SM/);
    expect(typeof result.remaining_budget_usd).toBe('number');
  });

  it('a lost answer is reported as unknown and not retryable: Twilio has no idempotency key', async () => {
    const { sms } = await startWith();
    stack.fakes.twilio.failNext({ method: 'POST', status: 500, afterExecute: true });
    const result = await sms.execute({ to: '+15558675310', body: 'hello' }, { toolCallId: 's2' });
    expect(result).toMatchObject({ ok: false, error: 'outcome_unknown', retryable: false });
  });
});

describe('send_email', () => {
  it('sends JSON with an idempotency key', async () => {
    const { email } = await startWith();
    const result = await email.execute(
      { to: ['ada@example.com'], subject: 'Receipt', text: 'Thanks' },
      { toolCallId: 'e1' },
    );
    expect(result).toMatchObject({ ok: true, to: ['ada@example.com'] });
    const sent = stack.fakes.resend.requests.at(-1);
    expect(sent?.headers['idempotency-key']).toMatch(/^sg_key_[0-9a-f]+_[0-9a-f]{40}$/);
    expect(JSON.parse(sent?.body.toString() ?? '{}')).toMatchObject({
      from: 'Acme <billing@acme.test>',
      subject: 'Receipt',
    });
  });

  it('needs text or html, and reads a null optional field as absent', async () => {
    const { email } = await startWith();
    await expect(
      email.execute({ to: ['ada@example.com'], subject: 'x' }, { toolCallId: 'e2' }),
    ).resolves.toMatchObject({
      error: 'bad_request',
    });
    await expect(
      email.execute(
        { to: ['ada@example.com'], subject: 'x', text: 'y', html: null, retry_of: null },
        { toolCallId: 'e3' },
      ),
    ).resolves.toMatchObject({ ok: true });
  });
});
