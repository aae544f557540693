import { fakeModel } from '@langchain/core/testing';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { AIMessage, createAgent, HumanMessage, ToolMessage, tool, type BaseMessage } from 'langchain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  chargeCustomerTool,
  createRun,
  langchainTools,
  sendSmsTool,
  spendgateMiddleware,
  type RunBudget,
  type RunEnd,
  type SpendgateMiddlewareOptions,
} from '../../adapters/langchain/index.js';
import type { SpendTool } from '../../src/tools/index.js';
import { outcomeOf, startAgentStack, type AgentStack } from '../helpers/agent-stack.js';

let stack: AgentStack;

beforeAll(async () => {
  stack = await startAgentStack();
});

afterAll(async () => {
  await stack.close();
});

type FakeModel = ReturnType<typeof fakeModel>;

const budget = (label: string, usdCap = 50): RunBudget => ({
  label,
  ttl: '5m',
  caps: { stripe: { usdCap }, twilio: { usdCap: 1 } },
});
const chargeArgs = (amount = 2000) => ({
  customer: 'cus_ada',
  amount,
  currency: 'usd',
  description: 'Top-up',
});

/** A model that never gives up: it asks for another charge on every turn, whatever it was told. */
function relentlessModel(turns = 10): FakeModel {
  const model = fakeModel();
  for (let i = 1; i <= turns; i += 1) {
    model.respondWithTools([{ name: 'charge_customer', args: chargeArgs(), id: `c${i}` }]);
  }
  return model;
}

function middleware(label: string, extra: Partial<SpendgateMiddlewareOptions> = {}) {
  return spendgateMiddleware({
    client: stack.client,
    budget: budget(label, extra.budget?.caps.stripe?.usdCap),
    tools: [chargeCustomerTool()],
    ...extra,
  });
}

/** One budgeted agent, wired the one way the adapter documents: the middleware, and calls through it. */
function agentWith(
  model: FakeModel,
  options: { label: string; tools?: readonly SpendTool[] } & Partial<SpendgateMiddlewareOptions>,
) {
  const spendgate = middleware(options.label, options);
  const agent = createAgent({ model, tools: [], middleware: [spendgate] });
  return { spendgate, agent };
}

const ask = () => ({ messages: [new HumanMessage('Charge the customer.')] });

function toolMessages(messages: readonly BaseMessage[]): ToolMessage[] {
  return messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
}

describe('LangChain createAgent, with spendgateMiddleware', () => {
  it('ends the loop at the first budget refusal: no call after it, and the result says why', async () => {
    const before = stack.charges();
    const model = relentlessModel();
    const { spendgate, agent } = agentWith(model, { label: 'lc-runaway' });
    const result = await spendgate.invoke(agent, ask());

    expect(stack.charges() - before).toBe(2);
    // c3 was refused; the model was never called again, so nothing came after the refusal.
    const results = toolMessages(result.messages);
    expect(results.map((m) => m.tool_call_id)).toEqual(['c1', 'c2', 'c3']);
    expect(model.callCount).toBe(3);
    expect(results.map((m) => m.status)).toEqual(['success', 'success', 'error']);
    expect(JSON.parse(String(results[2]?.content))).toMatchObject({
      ok: false,
      error: 'cap_exhausted',
      retryable: false,
      budget: 'spent',
    });
    expect(results[2]?.artifact).toMatchObject({ error: 'cap_exhausted', spent_usd: 40 });
    // The final message states what happened; the state carries it typed.
    const stoppedBy = result.spendgate?.stoppedBy;
    expect(stoppedBy).toMatchObject({
      tool: 'charge_customer',
      toolCallId: 'c3',
      code: 'cap_exhausted',
      spentUsd: 40,
      remainingUsd: 10,
    });
    expect(result.messages.at(-1)?.content).toBe(stoppedBy?.message);
    expect(stoppedBy?.message).toBe(
      'spendgate ended the run: charge_customer was refused with cap_exhausted. The budget for this run is used up. Spent $40.00, $10.00 remaining.',
    );
    expect(await stack.keyStatuses('lc-runaway')).toEqual(['revoked']);
  });

  it('streaming: ends the loop at the first refusal too, and the keys are revoked when the stream ends', async () => {
    const before = stack.charges();
    const model = relentlessModel();
    const { spendgate, agent } = agentWith(model, { label: 'lc-stream' });
    const chunks: unknown[] = [];
    for await (const chunk of await spendgate.stream(agent, ask(), { streamMode: 'values' }))
      chunks.push(chunk);

    expect(stack.charges() - before).toBe(2);
    expect(model.callCount).toBe(3);
    const last = chunks.at(-1) as { spendgate?: { stoppedBy: { code: string } | null } };
    expect(last.spendgate?.stoppedBy?.code).toBe('cap_exhausted');
    expect(await stack.keyStatuses('lc-stream')).toEqual(['revoked']);
  });

  it('stopOnRefusal: false lets the agent carry on; the refusals are still marked as errors', async () => {
    const model = relentlessModel(4).respond(new AIMessage('Giving up.'));
    const { spendgate, agent } = agentWith(model, { label: 'lc-carry-on', stopOnRefusal: false });
    const result = await spendgate.invoke(agent, ask());
    const results = toolMessages(result.messages);
    expect(results.map((m) => m.status)).toEqual(['success', 'success', 'error', 'error']);
    expect(result.spendgate?.stoppedBy).toBeNull();
    expect(result.messages.at(-1)?.content).toBe('Giving up.');
  });

  it('a reused agent starts a new run each time: both invocations can spend', async () => {
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: chargeArgs(), id: 'c1' }])
      .respond(new AIMessage('first done'))
      .respondWithTools([{ name: 'charge_customer', args: chargeArgs(), id: 'c1' }])
      .respond(new AIMessage('second done'));
    const { spendgate, agent } = agentWith(model, { label: 'lc-reuse' });
    const first = await spendgate.invoke(agent, ask());
    const second = await spendgate.invoke(agent, ask());
    for (const result of [first, second]) {
      expect(toolMessages(result.messages).at(-1)?.artifact).toMatchObject({ ok: true });
    }
    expect(first.spendgate?.runId).not.toBe(second.spendgate?.runId);
    expect(await stack.keyStatuses('lc-reuse')).toEqual(['revoked', 'revoked']);
  });

  it('a plain agent.invoke() gets the tools and a run too, revoked when the agent finishes', async () => {
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: chargeArgs(), id: 'c1' }])
      .respond(new AIMessage('done'));
    const { agent } = agentWith(model, { label: 'lc-plain' });
    const result = await agent.invoke(ask());
    expect(toolMessages(result.messages)[0]?.artifact).toMatchObject({ ok: true });
    expect(await stack.keyStatuses('lc-plain')).toEqual(['revoked']);
  });

  it('revokes when the model throws, and onRunEnd gets the run and the error', async () => {
    const ends: RunEnd[] = [];
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: chargeArgs(), id: 'c1' }])
      .respond(new Error('model crashed'));
    const { spendgate, agent } = agentWith(model, {
      label: 'lc-throw',
      onRunEnd: (end) => {
        ends.push(end);
      },
    });
    await expect(spendgate.invoke(agent, ask())).rejects.toThrow('model crashed');
    expect(await stack.keyStatuses('lc-throw')).toEqual(['revoked']);
    expect(ends).toHaveLength(1);
    const [end] = ends;
    expect(end?.failed).toBe(true);
    expect(end?.failed && end.error).toMatchObject({ message: 'model crashed' });
    expect(end?.run.keys.map((k) => k.label)).toEqual(['lc-throw']);
    expect(end?.run.state).toBe('ended');
  });

  it('revokes when the invocation is aborted', async () => {
    const controller = new AbortController();
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: chargeArgs(), id: 'c1' }])
      .respond(() => {
        controller.abort(new Error('user pressed stop'));
        return new AIMessage({
          content: '',
          tool_calls: [{ name: 'charge_customer', args: chargeArgs(), id: 'c2', type: 'tool_call' }],
        });
      })
      .respond(new AIMessage('unreachable'));
    const { spendgate, agent } = agentWith(model, { label: 'lc-abort' });
    await expect(spendgate.invoke(agent, ask(), { signal: controller.signal })).rejects.toThrow();
    expect(await stack.keyStatuses('lc-abort')).toEqual(['revoked']);
  });

  it('leaves no key active after 100 invocations of one agent that succeed, throw or abort', async () => {
    const { spendgate } = agentWith(fakeModel(), { label: 'lc-100' });
    const outcomes: string[] = [];
    for (let i = 0; i < 100; i += 1) {
      const controller = new AbortController();
      const model = fakeModel().respondWithTools([
        { name: 'charge_customer', args: chargeArgs(100), id: `c${i}` },
      ]);
      if (i % 10 === 3) model.respond(new Error('model crashed'));
      else if (i % 10 === 7)
        model.respond(() => {
          controller.abort();
          return new AIMessage('aborted');
        });
      else model.respond(new AIMessage('done'));
      const agent = createAgent({ model, tools: [], middleware: [spendgate] });
      outcomes.push(
        await outcomeOf(spendgate.invoke(agent, ask(), { signal: controller.signal }), controller.signal),
      );
    }
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(80);
    expect(outcomes.filter((o) => o === 'model crashed')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'aborted')).toHaveLength(10);
    expect(await stack.activeKeys()).toEqual([]);
    expect((await stack.client.listKeys({ label: 'lc-100', limit: 500 })).data).toHaveLength(100);
  });

  it('least privilege: an agent with only the SMS tool has no key that reaches Stripe', async () => {
    const stripeBefore = stack.fakes.stripe.requests.length;
    const smsBefore = stack.smsSent();
    const spendgate = spendgateMiddleware({
      client: stack.client,
      budget: budget('lc-least'),
      tools: [sendSmsTool({ from: '+15017122661' })],
      onRunEnd: ({ run }) => {
        ended.push(run.keys.map((k) => k.vendor));
      },
    });
    const ended: string[][] = [];
    // A rogue tool in the same agent gets hold of a Twilio key of this label and tries Stripe with it.
    const probe = tool(
      async () => {
        const [key] = (await stack.client.listKeys({ label: 'lc-least', status: 'active' })).data;
        return JSON.stringify({
          vendor: key?.vendor,
          keys: await stack.client.listKeys({ label: 'lc-least' }),
        });
      },
      { name: 'probe_keys', description: 'test probe', schema: z.object({}) },
    );
    const model = fakeModel()
      .respondWithTools([
        { name: 'send_sms', args: { to: '+15558675310', body: 'Your order shipped' }, id: 's1' },
      ])
      .respondWithTools([{ name: 'charge_customer', args: chargeArgs(), id: 'c1' }])
      .respondWithTools([{ name: 'probe_keys', args: {}, id: 'p1' }])
      .respond(new AIMessage('done'));
    const agent = createAgent({ model, tools: [probe], middleware: [spendgate] });
    const result = await spendgate.invoke(agent, ask());
    const byId = new Map(toolMessages(result.messages).map((m) => [m.tool_call_id, m]));
    expect(byId.get('s1')?.artifact).toMatchObject({ ok: true });
    // The model cannot charge: there is no such tool, and LangChain answers with an error message.
    expect(byId.get('c1')?.status).toBe('error');
    expect(JSON.parse(String(byId.get('p1')?.content))).toMatchObject({ vendor: 'twilio' });
    expect(ended).toEqual([['twilio']]);
    expect(stack.fakes.stripe.requests.length).toBe(stripeBefore);
    expect(stack.smsSent() - smsBefore).toBe(1);
    expect(await stack.keyStatuses('lc-least')).toEqual(['revoked']);
  });
});

describe('langchainTools(run), for graphs of your own', () => {
  const charge = {
    name: 'charge_customer',
    args: chargeArgs(),
    id: 'call_retry',
    type: 'tool_call' as const,
  };

  it('a call retried through a LangGraph ToolNode charges once: the idempotency key comes from its id', async () => {
    const run = await createRun({
      client: stack.client,
      budget: budget('lc-toolnode'),
      tools: [chargeCustomerTool()],
    }).start();
    try {
      const before = stack.charges();
      const node = new ToolNode(langchainTools(run));
      const message = new AIMessage({ content: '', tool_calls: [charge] });
      const first = (await node.invoke({ messages: [message] })) as { messages: ToolMessage[] };
      const second = (await node.invoke({ messages: [message] })) as { messages: ToolMessage[] };
      expect(first.messages[0]?.artifact).toMatchObject({ ok: true });
      expect(second.messages[0]?.artifact).toEqual(first.messages[0]?.artifact);
      expect(stack.fakes.stripe.requests.length).toBeGreaterThan(before);
      const key = await stack.client.getKey(run.keys[0]?.id ?? '');
      expect(key.spentUsd).toBe(20);
    } finally {
      await run.end();
    }
  });

  it('a direct tool.invoke(toolCall) retried charges once, and answers a ToolMessage with the call id', async () => {
    const run = await createRun({
      client: stack.client,
      budget: budget('lc-direct'),
      tools: [chargeCustomerTool()],
    }).start();
    try {
      const [chargeTool] = langchainTools(run);
      const first = (await chargeTool?.invoke(charge)) as ToolMessage;
      const second = (await chargeTool?.invoke(charge)) as ToolMessage;
      expect(first.tool_call_id).toBe('call_retry');
      expect(first.status).toBe('success');
      expect(second.artifact).toEqual(first.artifact);
      expect((await stack.client.getKey(run.keys[0]?.id ?? '')).spentUsd).toBe(20);
    } finally {
      await run.end();
    }
  });

  it('a call without any id is refused loudly, and nothing is sent', async () => {
    const run = await createRun({
      client: stack.client,
      budget: budget('lc-no-id'),
      tools: [chargeCustomerTool()],
    }).start();
    try {
      const before = stack.fakes.stripe.requests.length;
      const [chargeTool] = langchainTools(run);
      await expect(chargeTool?.invoke(chargeArgs())).rejects.toMatchObject({
        code: 'bad_request',
        details: { reason: 'tool_call_id_missing', tool: 'charge_customer' },
      });
      expect(stack.fakes.stripe.requests.length).toBe(before);
    } finally {
      await run.end();
    }
  });
});
