import {
  Agent,
  RunContext,
  Runner,
  setTraceProcessors,
  setTracingDisabled,
  type Span,
  type TracingProcessor,
} from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  attachRunHooks,
  BudgetStopError,
  chargeCustomerTool,
  createRun,
  openaiAgentsTools,
  runAgentWithBudget,
  sendSmsTool,
  streamAgentWithBudget,
  type RunBudget,
  type RunEnd,
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
/** A model that never gives up: it asks for another charge on every turn, whatever it was told. */
const relentless = (turns = 10): OpenAIStep[] =>
  Array.from({ length: turns }, (_, i) => charge20(`c${i + 1}`));

function toolOutputs(items: readonly { type: string }[]): unknown[] {
  return items
    .filter(
      (item): item is { type: 'tool_call_output_item'; output: unknown } =>
        item.type === 'tool_call_output_item',
    )
    .map((item) => item.output);
}

describe('OpenAI Agents SDK', () => {
  it('ends the run at the first budget refusal: no call after it, and the result says why', async () => {
    const before = stack.charges();
    const model = new OpenAIScriptedModel(relentless());
    const agent = new Agent({ name: 'billing', instructions: 'Charge the customer.', model });
    const { result, run, spendgate } = await runAgentWithBudget({
      client: stack.client,
      agent,
      input: 'Charge cus_ada $20 until told otherwise.',
      budget: budget('oa-runaway'),
      tools: [chargeCustomerTool()],
    });

    expect(stack.charges() - before).toBe(2);
    // c3 was refused, and the model was never asked again: no tool call came after the refusal.
    expect(model.requests).toHaveLength(3);
    const outputs = toolOutputs(result.newItems);
    expect(outputs).toHaveLength(3);
    expect(outputs[0]).toMatchObject({ ok: true, amount: 2000, remaining_budget_usd: 30 });
    expect(outputs[2]).toMatchObject({ error: 'cap_exhausted', retryable: false, budget: 'spent' });
    expect(spendgate.stoppedBy).toMatchObject({
      tool: 'charge_customer',
      toolCallId: 'c3',
      code: 'cap_exhausted',
      spentUsd: 40,
      remainingUsd: 10,
    });
    expect(result.finalOutput).toBe(spendgate.stoppedBy?.message);
    expect(result.finalOutput).toContain('charge_customer was refused with cap_exhausted');
    expect((await stack.client.getKey(run.keys[0]?.id ?? '')).status).toBe('revoked');
  });

  it('streaming: ends the run at the first refusal too, and `ended` settles after the revoke', async () => {
    const before = stack.charges();
    const model = new OpenAIScriptedModel(relentless());
    const { result, ended } = await streamAgentWithBudget({
      client: stack.client,
      agent: new Agent({ name: 'billing', model }),
      input: 'go',
      budget: budget('oa-stream'),
      tools: [chargeCustomerTool()],
    });
    for await (const event of result) void event;
    const end = await ended;

    expect(stack.charges() - before).toBe(2);
    expect(model.requests).toHaveLength(3);
    expect(end).toMatchObject({ failed: false, stoppedBy: { code: 'cap_exhausted', toolCallId: 'c3' } });
    expect(result.finalOutput).toBe(end.stoppedBy?.message);
    expect(await stack.keyStatuses('oa-stream')).toEqual(['revoked']);
  });

  it('stopOnRefusal: false lets the agent carry on', async () => {
    const model = new OpenAIScriptedModel([...relentless(4), () => [assistantMessage('giving up')]]);
    const { result, spendgate } = await runAgentWithBudget({
      client: stack.client,
      agent: new Agent({ name: 'billing', model }),
      input: 'go',
      budget: budget('oa-carry-on'),
      tools: [chargeCustomerTool()],
      stopOnRefusal: false,
    });
    // The model was shown the refusal of c3 and called again.
    expect(JSON.parse(toolOutputsSeen(model.requests[3]!).get('c3') ?? '{}')).toMatchObject({
      error: 'cap_exhausted',
    });
    expect(toolOutputs(result.newItems)).toHaveLength(4);
    expect(spendgate.stoppedBy).toBeNull();
    expect(result.finalOutput).toBe('giving up');
  });

  it("keeps the agent's own toolUseBehavior when no refusal ends the step", async () => {
    const model = new OpenAIScriptedModel([charge20('c1'), () => [assistantMessage('unreachable')]]);
    const { result, spendgate } = await runAgentWithBudget({
      client: stack.client,
      agent: new Agent({ name: 'billing', model, toolUseBehavior: 'stop_on_first_tool' }),
      input: 'go',
      budget: budget('oa-own-behavior'),
      tools: [chargeCustomerTool()],
    });
    expect(JSON.parse(String(result.finalOutput))).toMatchObject({ ok: true, amount: 2000 });
    expect(spendgate.stoppedBy).toBeNull();
    expect(model.requests).toHaveLength(1);
  });

  it('an agent with a structured outputType rejects with a typed BudgetStopError', async () => {
    const ends: RunEnd[] = [];
    const agent = new Agent({
      name: 'billing',
      model: new OpenAIScriptedModel(relentless()),
      outputType: z.object({ charged: z.number() }),
    });
    const running = runAgentWithBudget({
      client: stack.client,
      agent,
      input: 'go',
      budget: budget('oa-structured', 10),
      tools: [chargeCustomerTool()],
      onRunEnd: (end) => {
        ends.push(end);
      },
    });
    await expect(running).rejects.toBeInstanceOf(BudgetStopError);
    await expect(running).rejects.toMatchObject({ code: 'cap_exhausted', stop: { toolCallId: 'c1' } });
    expect(ends.map((end) => [end.failed, end.stoppedBy?.code])).toEqual([[true, 'cap_exhausted']]);
  });

  it('revokes the keys when the run throws mid-way, and onRunEnd still gets the run', async () => {
    const ends: RunEnd[] = [];
    const model = new OpenAIScriptedModel([
      charge20('c1'),
      () => {
        throw new Error('model crashed');
      },
    ]);
    await expect(
      runAgentWithBudget({
        client: stack.client,
        agent: new Agent({ name: 'billing', model }),
        input: 'go',
        budget: budget('oa-throw'),
        tools: [chargeCustomerTool()],
        onRunEnd: (end) => {
          ends.push(end);
        },
      }),
    ).rejects.toThrow('model crashed');
    expect(await stack.keyStatuses('oa-throw')).toEqual(['revoked']);
    expect(ends).toHaveLength(1);
    const [end] = ends;
    expect(end?.failed && end.error).toMatchObject({ message: 'model crashed' });
    // The run, and so its key ids for the audit log, is reachable after the failure.
    const keyId = end?.run.keys[0]?.id ?? '';
    expect((await stack.client.audit({ keyId })).data).toHaveLength(1);
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
    await expect(
      runAgentWithBudget({
        client: stack.client,
        agent: new Agent({ name: 'billing', model }),
        input: 'go',
        budget: budget('oa-abort'),
        tools: [chargeCustomerTool()],
        signal: controller.signal,
      }),
    ).rejects.toThrow('user pressed stop');
    expect(await stack.keyStatuses('oa-abort')).toEqual(['revoked']);
  });

  it('marks a refusal as an error on the tool call’s trace span, as the SDK marks a failed tool', async () => {
    const ended: Span<never>[] = [];
    const collector: TracingProcessor = {
      onTraceStart: async () => undefined,
      onTraceEnd: async () => undefined,
      onSpanStart: async () => undefined,
      onSpanEnd: async (span) => {
        ended.push(span as Span<never>);
      },
      shutdown: async () => undefined,
      forceFlush: async () => undefined,
    };
    setTraceProcessors([collector]);
    setTracingDisabled(false);
    try {
      await runAgentWithBudget({
        client: stack.client,
        agent: new Agent({ name: 'billing', model: new OpenAIScriptedModel(relentless()) }),
        input: 'go',
        budget: budget('oa-span', 30),
        tools: [chargeCustomerTool()],
        runner: new Runner({ tracingDisabled: false }),
      });
    } finally {
      setTracingDisabled(true);
      setTraceProcessors([]);
    }
    const functionSpans = ended.filter((span) => (span.spanData as { type: string }).type === 'function');
    expect(functionSpans.map((span) => span.error)).toEqual([
      null,
      { message: 'spendgate: cap_exhausted', data: { error: 'cap_exhausted', retryable: false } },
    ]);
  });

  it('a tool call without a call id fails loudly instead of inventing one', async () => {
    const run = await createRun({
      client: stack.client,
      budget: budget('oa-no-id'),
      tools: [chargeCustomerTool()],
    }).start();
    try {
      const [chargeTool] = openaiAgentsTools(run);
      const input = JSON.stringify({ customer: 'cus_ada', amount: 2000, currency: 'usd', description: 'x' });
      await expect(chargeTool?.invoke(new RunContext(), input)).rejects.toMatchObject({
        code: 'bad_request',
        details: { reason: 'tool_call_id_missing' },
      });
      expect((await stack.client.audit({ label: 'oa-no-id' })).data).toEqual([]);
    } finally {
      await run.end();
    }
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

  it("the RunHooks form on a shared Runner: one run's end does not revoke another's key", async () => {
    const runner = new Runner();
    const runA = createRun({
      client: stack.client,
      budget: budget('oa-shared-a'),
      tools: [chargeCustomerTool()],
    });
    const runB = createRun({
      client: stack.client,
      budget: budget('oa-shared-b'),
      tools: [chargeCustomerTool()],
    });
    const detach = [attachRunHooks(runner, runA), attachRunHooks(runner, runB)];
    let finishA = () => undefined as void;
    const aFinished = new Promise<void>((resolve) => (finishA = resolve));
    const agentA = new Agent({
      name: 'a',
      model: new OpenAIScriptedModel([charge20('a1'), () => [assistantMessage('a done')]]),
      tools: openaiAgentsTools(runA),
    });
    const agentB = new Agent({
      name: 'b',
      model: new OpenAIScriptedModel([
        charge20('b1'),
        // B's second charge waits until A has finished (and its agent_end has fired).
        async () => {
          await aFinished;
          return charge20('b2')();
        },
        () => [assistantMessage('b done')],
      ]),
      tools: openaiAgentsTools(runB),
    });
    try {
      const b = runner.run(agentB, 'go');
      await runner.run(agentA, 'go');
      await runA.end(); // what agent_end started; awaited so A's revoke has happened before B goes on
      finishA();
      const resultB = await b;
      expect(toolOutputs(resultB.newItems)).toMatchObject([{ ok: true }, { ok: true }]);
    } finally {
      await Promise.all([runA.end(), runB.end()]);
      for (const off of detach) off();
    }
    expect((await stack.client.getKey(runB.keys[0]?.id ?? '')).calls).toBe(2);
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
