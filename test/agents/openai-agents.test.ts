import { Agent, Runner, setTracingDisabled } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachRunHooks,
  chargeCustomerTool,
  createRun,
  openaiAgentsTools,
  runAgentWithBudget,
  sendSmsTool,
  type RunBudget,
} from '../../adapters/openai-agents/index.js';
import { outcomeOf, startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import {
  assistantMessage,
  functionCall,
  OpenAIScriptedModel,
  toolOutputsSeen,
  type OpenAIStep,
} from './models/openai-scripted-model.js';

let stack: AgentStack;

beforeAll(async () => {
  setTracingDisabled(true);
  stack = await startAgentStack();
});

afterAll(async () => {
  await stack.close();
});

const budget = (label: string, usdCap = 50): RunBudget => ({
  label,
  ttl: '5m',
  caps: { stripe: { usdCap }, twilio: { usdCap: 1 } },
});
const charge20 = (callId: string) => () => [
  functionCall(
    'charge_customer',
    { customer: 'cus_ada', amount: 2000, currency: 'usd', description: 'Top-up' },
    callId,
  ),
];

describe('OpenAI Agents SDK', () => {
  it('stops a runaway agent at the cap: 2 charges reach Stripe, the model sees do-not-retry', async () => {
    const before = stack.charges();
    const model = new OpenAIScriptedModel([
      charge20('c1'),
      charge20('c2'),
      charge20('c3'),
      charge20('c4'), // the model ignores the first refusal and tries again
      (request) => [assistantMessage(`Stopped: ${toolOutputsSeen(request).get('c4') ?? ''}`)],
    ]);
    const agent = new Agent({ name: 'billing', instructions: 'Charge the customer.', model });
    const { result, run } = await runAgentWithBudget({
      client: stack.client,
      agent,
      input: 'Charge cus_ada $20 until told otherwise.',
      budget: budget('oa-runaway'),
      tools: [chargeCustomerTool()],
    });

    expect(stack.charges() - before).toBe(2);
    // What the model was sent on its 4th turn includes the refusal of c3, verbatim.
    const seen = JSON.parse(toolOutputsSeen(model.requests[3]!).get('c3') ?? '{}') as Record<string, unknown>;
    expect(seen).toMatchObject({ ok: false, error: 'cap_exhausted', retryable: false });
    expect(seen.message).toMatch(/Do not retry/);
    // The conversation holds the structured results.
    const outputs = result.newItems
      .filter((item) => item.type === 'tool_call_output_item')
      .map((item) => item.output);
    expect(outputs).toHaveLength(4);
    expect(outputs[0]).toMatchObject({ ok: true, amount: 2000, remaining_budget_usd: 30 });
    expect(outputs[2]).toMatchObject({ error: 'cap_exhausted', retryable: false });
    expect(outputs[3]).toMatchObject({ error: 'cap_exhausted', retryable: false });
    expect(result.finalOutput).toContain('cap_exhausted');
    expect((await stack.client.getKey(run.keys[0]?.id ?? '')).status).toBe('revoked');
  });

  it('revokes the keys when the run throws mid-way', async () => {
    const model = new OpenAIScriptedModel([
      charge20('c1'),
      () => {
        throw new Error('model crashed');
      },
    ]);
    const agent = new Agent({ name: 'billing', model });
    await expect(
      runAgentWithBudget({
        client: stack.client,
        agent,
        input: 'go',
        budget: budget('oa-throw'),
        tools: [chargeCustomerTool()],
      }),
    ).rejects.toThrow('model crashed');
    expect(await stack.keyStatuses('oa-throw')).toEqual(['revoked']);
  });

  it('revokes the keys when the run is aborted', async () => {
    const controller = new AbortController();
    const model = new OpenAIScriptedModel([
      charge20('c1'),
      () => {
        controller.abort(new Error('user pressed stop'));
        return charge20('c2')();
      },
      () => [assistantMessage('unreachable')],
    ]);
    const agent = new Agent({ name: 'billing', model });
    await expect(
      runAgentWithBudget({
        client: stack.client,
        agent,
        input: 'go',
        budget: budget('oa-abort'),
        tools: [chargeCustomerTool()],
        signal: controller.signal,
      }),
    ).rejects.toThrow('user pressed stop');
    expect(await stack.keyStatuses('oa-abort')).toEqual(['revoked']);
  });

  it('the RunHooks form issues on agent_start and revokes on agent_end', async () => {
    const run = createRun({
      client: stack.client,
      budget: budget('oa-hooks'),
      tools: [chargeCustomerTool()],
    });
    const runner = new Runner();
    const detach = attachRunHooks(runner, run);
    const model = new OpenAIScriptedModel([charge20('c1'), () => [assistantMessage('done')]]);
    const agent = new Agent({ name: 'billing', model, tools: openaiAgentsTools(run) });
    try {
      const result = await runner.run(agent, 'go');
      expect(result.finalOutput).toBe('done');
    } finally {
      await run.end(); // agent_end does not fire on error
      detach();
    }
    expect(await stack.keyStatuses('oa-hooks')).toEqual(['revoked']);
    expect(run.state).toBe('ended');
  });

  it('leaves no key active after 100 runs that succeed, throw or abort', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 100; i += 1) {
      const controller = new AbortController();
      const steps: OpenAIStep[] = [
        () => [
          functionCall(
            'charge_customer',
            { customer: 'cus_ada', amount: 100, currency: 'usd', description: `run ${i}` },
            `c${i}`,
          ),
        ],
      ];
      if (i % 10 === 3) {
        steps.push(() => {
          throw new Error('model crashed');
        });
      } else if (i % 10 === 7) {
        steps.push(() => {
          controller.abort();
          return [assistantMessage('aborted')];
        });
      } else {
        steps.push(() => [assistantMessage('done')]);
      }
      const agent = new Agent({ name: 'billing', model: new OpenAIScriptedModel(steps) });
      outcomes.push(
        await outcomeOf(
          runAgentWithBudget({
            client: stack.client,
            agent,
            input: 'go',
            budget: budget(`oa-100-${i}`, 5),
            tools: [chargeCustomerTool()],
            signal: controller.signal,
          }),
          controller.signal,
        ),
      );
    }
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(80);
    expect(outcomes.filter((o) => o === 'model crashed')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'aborted')).toHaveLength(10);
    expect(await stack.activeKeys()).toEqual([]);
    expect((await stack.client.listKeys({ labelPrefix: 'oa-100-', limit: 500 })).data).toHaveLength(100);
  });

  it('least privilege: an agent with only the SMS tool has no key that reaches Stripe', async () => {
    const stripeBefore = stack.fakes.stripe.requests.length;
    const smsBefore = stack.smsSent();
    const run = createRun({
      client: stack.client,
      budget: budget('oa-least'),
      tools: [sendSmsTool({ from: '+15017122661' })],
    });
    const runner = new Runner();
    attachRunHooks(runner, run);
    const attempts: number[] = [];
    const model = new OpenAIScriptedModel([
      (request) => {
        expect(request.tools.map((t) => t.name)).toEqual(['send_sms']);
        return [functionCall('send_sms', { to: '+15558675310', body: 'Your order shipped' }, 's1')];
      },
      async () => {
        // Anything holding the run's key tries Stripe with it.
        attempts.push(...(await stack.tryStripeWith(run.credentialFor('twilio')?.token ?? '')));
        return [assistantMessage('sent')];
      },
    ]);
    const agent = new Agent({ name: 'support', model, tools: openaiAgentsTools(run) });
    try {
      await runner.run(agent, 'Text the customer that the order shipped.');
    } finally {
      await run.end();
    }
    expect(run.keys.map((k) => k.vendor)).toEqual(['twilio']);
    expect(attempts).toEqual([403, 403]);
    expect(stack.fakes.stripe.requests.length).toBe(stripeBefore);
    expect(stack.smsSent() - smsBefore).toBe(1);
    const audit = await stack.client.audit({ label: 'oa-least', decision: 'denied' });
    expect(audit.data.map((row) => row.code).sort()).toEqual(['endpoint_not_allowed', 'vendor_mismatch']);
  });
});
