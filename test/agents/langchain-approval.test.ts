import { fakeModel } from '@langchain/core/testing';
import { Command, MemorySaver } from '@langchain/langgraph';
import { AIMessage, createAgent, HumanMessage, ToolMessage, tool, type BaseMessage } from 'langchain';
import { randomUUID } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  chargeCustomerTool,
  spendgateMiddleware,
  type SpendgateMiddlewareOptions,
} from '../../adapters/langchain/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';

/**
 * Approval above an amount, through LangChain's own agent loop (`createAgent` with a scripted `fakeModel`
 * and a `MemorySaver` checkpointer) against the real proxy: the pause is LangGraph's `interrupt()`, the
 * decision is a `Command({ resume })` in `humanInTheLoopMiddleware`'s `HITLResponse` shape.
 */
let stack: AgentStack;
beforeAll(async () => {
  stack = await startAgentStack();
});
afterAll(async () => stack.close());

type FakeModel = ReturnType<typeof fakeModel>;

const charge = (amount: number) => ({ customer: 'cus_apr', amount, currency: 'usd', description: 'Order' });
const approve = () => new Command({ resume: { decisions: [{ type: 'approve' }] } });
const reject = () => new Command({ resume: { decisions: [{ type: 'reject', message: 'Too much.' }] } });
const ask = () => ({ messages: [new HumanMessage('Charge the customer.')] });

function agentWith(
  model: FakeModel,
  label: string,
  options: Partial<SpendgateMiddlewareOptions> & {
    readonly checkpointer?: boolean;
    readonly extraTools?: Parameters<typeof createAgent>[0]['tools'];
    readonly version?: 'v1' | 'v2';
  } = {},
) {
  const { checkpointer = true, extraTools = [], version, ...extra } = options;
  const spendgate = spendgateMiddleware({
    client: stack.client,
    budget: { label, ttl: '5m', caps: { stripe: { usdCap: 100, approvalAboveUsd: 25 } } },
    tools: [chargeCustomerTool()],
    ...extra,
  });
  const agent = createAgent({
    model,
    tools: extraTools,
    middleware: [spendgate],
    ...(checkpointer ? { checkpointer: new MemorySaver() } : {}),
    ...(version ? { version } : {}),
  });
  return { spendgate, agent, config: { configurable: { thread_id: randomUUID() } } };
}

function toolMessages(messages: readonly BaseMessage[]): ToolMessage[] {
  return messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
}

/** The spend of each key with this label, in issue order. */
async function spendByKey(label: string): Promise<number[]> {
  const { data } = await stack.client.listKeys({ label });
  const keys = await Promise.all(data.map((key) => stack.client.getKey(key.id)));
  return keys.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((key) => key.spentUsd);
}

describe('LangChain: approval above an amount', () => {
  it('pauses a $30 charge with interrupt(), revokes while paused, and charges once when approved', async () => {
    const label = 'lc-apr-approve';
    const before = stack.charges();
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: charge(3000), id: 'c1' }])
      .respond(new AIMessage('Charged $30.'));
    const { spendgate, agent, config } = agentWith(model, label);

    const paused = await spendgate.invoke(agent, ask(), config);
    expect(paused.__interrupt__).toHaveLength(1);
    expect(paused.__interrupt__?.[0]?.value).toMatchObject({
      actionRequests: [{ name: 'charge_customer', args: charge(3000) }],
      reviewConfigs: [{ actionName: 'charge_customer', allowedDecisions: ['approve', 'reject'] }],
      spendgate: { toolCallId: 'c1', approvalAboveUsd: 25 },
    });
    // Nothing was sent before the person was asked, and no key is left live while they decide.
    expect(stack.charges()).toBe(before);
    expect((await stack.client.listApprovals({ label })).data).toEqual([]);
    expect(await stack.keyStatuses(label)).toEqual(['revoked']);

    const result = await spendgate.invoke(agent, approve(), config);
    expect(result.__interrupt__).toBeUndefined();
    const [message] = toolMessages(result.messages);
    expect(message?.status).toBe('success');
    expect(message?.artifact).toMatchObject({ ok: true, amount: 3000, status: 'succeeded' });
    expect(result.messages.at(-1)?.content).toBe('Charged $30.');
    expect(result.spendgate?.stoppedBy).toBeNull();
    expect(result.spendgate?.runId).not.toBe(paused.spendgate?.runId);
    // Exactly one charge reached Stripe, under the resumed run's key, on a grant that is now used.
    expect(stack.charges() - before).toBe(1);
    expect(await spendByKey(label)).toEqual([0, 30]);
    const approvals = (await stack.client.listApprovals({ label })).data;
    expect(approvals.map((a) => [a.status, a.amountUsd])).toEqual([['used', 30]]);
    expect(await stack.keyStatuses(label)).toEqual(['revoked', 'revoked']);
  });

  it('streams the pause and the resume too, and revokes after each', async () => {
    const label = 'lc-apr-stream';
    const before = stack.charges();
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: charge(3000), id: 'c1' }])
      .respond(new AIMessage('Charged.'));
    const { spendgate, agent, config } = agentWith(model, label);
    const drain = async (input: Parameters<typeof agent.stream>[0]) => {
      const chunks: unknown[] = [];
      const stream = await spendgate.stream(agent, input, { ...config, streamMode: 'updates' });
      for await (const chunk of stream) chunks.push(chunk);
      return chunks;
    };

    const pausedChunks = await drain(ask());
    expect(pausedChunks.some((c) => typeof c === 'object' && c !== null && '__interrupt__' in c)).toBe(true);
    expect(await stack.keyStatuses(label)).toEqual(['revoked']);
    await drain(approve());
    expect(stack.charges() - before).toBe(1);
    expect(await spendByKey(label)).toEqual([0, 30]);
    expect(await stack.keyStatuses(label)).toEqual(['revoked', 'revoked']);
  });

  it('a rejection sends nothing and ends the loop with a non-retryable approval_denied', async () => {
    const label = 'lc-apr-deny';
    const requestsBefore = stack.fakes.stripe.requests.length;
    // A model that would keep charging: after the rejection it gets no further turn.
    const model = fakeModel();
    for (let i = 1; i <= 5; i += 1) {
      model.respondWithTools([{ name: 'charge_customer', args: charge(3000), id: `c${i}` }]);
    }
    const { spendgate, agent, config } = agentWith(model, label);
    expect((await spendgate.invoke(agent, ask(), config)).__interrupt__).toHaveLength(1);

    const result = await spendgate.invoke(agent, reject(), config);
    const [message] = toolMessages(result.messages);
    expect(message?.status).toBe('error');
    expect(message?.artifact).toMatchObject({ ok: false, error: 'approval_denied', retryable: false });
    expect(JSON.parse(String(message?.content))).toMatchObject({
      error: 'approval_denied',
      retryable: false,
    });
    expect(result.spendgate?.stoppedBy).toMatchObject({
      tool: 'charge_customer',
      toolCallId: 'c1',
      code: 'approval_denied',
    });
    expect(result.messages.at(-1)?.content).toBe(result.spendgate?.stoppedBy?.message);
    expect(model.callCount).toBe(1);
    expect(stack.fakes.stripe.requests.length).toBe(requestsBefore);
    expect((await stack.client.listApprovals({ label })).data).toEqual([]);
    expect(await stack.keyStatuses(label)).toEqual(['revoked', 'revoked']);
  });

  it('with stopOnRefusal: false the model reads the rejection and carries on', async () => {
    const label = 'lc-apr-deny-carry-on';
    let shown: unknown;
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: charge(3000), id: 'c1' }])
      .respond((messages: BaseMessage[]) => {
        shown = messages.at(-1)?.content;
        return new AIMessage('The charge was not approved.');
      });
    const { spendgate, agent, config } = agentWith(model, label, { stopOnRefusal: false });
    await spendgate.invoke(agent, ask(), config);
    const result = await spendgate.invoke(agent, reject(), config);
    expect(JSON.parse(String(shown))).toMatchObject({
      ok: false,
      error: 'approval_denied',
      retryable: false,
    });
    expect(result.messages.at(-1)?.content).toBe('The charge was not approved.');
    expect(result.spendgate?.stoppedBy).toBeNull();
    expect(await stack.keyStatuses(label)).toEqual(['revoked', 'revoked']);
  });

  it('an approved grant cannot be replayed: the proxy refuses it, and asking again pauses again', async () => {
    const label = 'lc-apr-replay';
    const before = stack.charges();
    const granted = recordingDispatcher();
    const replays: { status: number; code: unknown }[] = [];
    // A tool the model calls after the approval, while the key is live: it re-sends the granted request
    // with a new idempotency key, as it was and for $60.
    const replay = tool(
      async () => {
        const sent = granted.requests.find((r) => r.headers['spendgate-approval']?.startsWith('apv_'));
        if (!sent) throw new Error('no granted request was recorded');
        for (const body of [sent.body, sent.body.replace('amount=3000', 'amount=6000')]) {
          const headers = { ...sent.headers, 'idempotency-key': `replay-${randomUUID()}` };
          const res = await fetch(sent.url, { method: 'POST', headers, body });
          const json = (await res.json()) as { error?: { code?: unknown } };
          replays.push({ status: res.status, code: json.error?.code });
        }
        return 'replayed';
      },
      { name: 'replay_grant', description: 'test probe', schema: z.object({}) },
    );
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: charge(3000), id: 'c1' }])
      .respondWithTools([{ name: 'replay_grant', args: {}, id: 'p1' }])
      .respondWithTools([{ name: 'charge_customer', args: charge(3000), id: 'c2' }])
      .respond(new AIMessage('unreachable'));
    const { spendgate, agent, config } = agentWith(model, label, {
      dispatcher: granted.dispatcher,
      extraTools: [replay],
    });

    await spendgate.invoke(agent, ask(), config);
    const second = await spendgate.invoke(agent, approve(), config);
    expect(replays).toEqual([
      { status: 403, code: 'approval_invalid' },
      { status: 403, code: 'approval_invalid' },
    ]);
    // The model's next charge is a new call: the approval of c1 does not carry over to it.
    expect(second.__interrupt__?.[0]?.value).toMatchObject({ spendgate: { toolCallId: 'c2' } });
    expect(stack.charges() - before).toBe(1);
    expect(await spendByKey(label)).toEqual([0, 30]);
    const approvals = (await stack.client.listApprovals({ label })).data;
    expect(approvals.filter((a) => a.status === 'used').map((a) => a.amountUsd)).toEqual([30]);
    // Paused again and never resumed: nothing of this run is left live.
    expect(await stack.keyStatuses(label)).toEqual(['revoked', 'revoked']);
    await granted.dispatcher.close();
  });

  it('pauses only the call above the threshold: the one beside it charges once, before and after the resume', async () => {
    const label = 'lc-apr-siblings';
    const before = stack.charges();
    const model = fakeModel()
      .respondWithTools([
        { name: 'charge_customer', args: charge(1000), id: 'c1' },
        { name: 'charge_customer', args: charge(3000), id: 'c2' },
      ])
      .respond(new AIMessage('Both charged.'));
    const { spendgate, agent, config } = agentWith(model, label);
    const paused = await spendgate.invoke(agent, ask(), config);
    expect(paused.__interrupt__?.map((i) => i.value)).toMatchObject([{ spendgate: { toolCallId: 'c2' } }]);
    expect(stack.charges() - before).toBe(1);

    const result = await spendgate.invoke(agent, approve(), config);
    const byId = new Map(toolMessages(result.messages).map((m) => [m.tool_call_id, m.artifact]));
    expect(byId.get('c1')).toMatchObject({ ok: true, amount: 1000 });
    expect(byId.get('c2')).toMatchObject({ ok: true, amount: 3000 });
    // LangGraph kept c1's result across the resume: it was not sent again under the new key.
    expect(stack.charges() - before).toBe(2);
    expect(await spendByKey(label)).toEqual([10, 30]);
    expect(await stack.keyStatuses(label)).toEqual(['revoked', 'revoked']);
  });

  it('a call at or under the threshold is not paused', async () => {
    const label = 'lc-apr-under';
    const before = stack.charges();
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: charge(2500), id: 'c1' }])
      .respond(new AIMessage('Charged $25.'));
    const { spendgate, agent, config } = agentWith(model, label);
    const result = await spendgate.invoke(agent, ask(), config);
    expect(result.__interrupt__).toBeUndefined();
    expect(toolMessages(result.messages)[0]?.artifact).toMatchObject({ ok: true, amount: 2500 });
    expect(result.messages.at(-1)?.content).toBe('Charged $25.');
    expect(stack.charges() - before).toBe(1);
    expect((await stack.client.listApprovals({ label })).data).toEqual([]);
    expect(await stack.keyStatuses(label)).toEqual(['revoked']);
  });

  it('a plain agent.invoke() keeps its run across the pause (keys lapse at their TTL) and revokes at the end', async () => {
    const label = 'lc-apr-plain';
    const before = stack.charges();
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: charge(3000), id: 'c1' }])
      .respond(new AIMessage('Charged.'));
    const { agent, config } = agentWith(model, label);
    const paused = await agent.invoke(ask(), config);
    expect(paused.__interrupt__).toHaveLength(1);
    // No wrapper saw the invocation return, so its key stays live until the resume or its 5-minute TTL.
    expect(await stack.keyStatuses(label)).toEqual(['active']);
    const result = await agent.invoke(approve(), config);
    expect(toolMessages(result.messages)[0]?.artifact).toMatchObject({ ok: true, amount: 3000 });
    expect(result.spendgate?.runId).toBe(paused.spendgate?.runId);
    expect(stack.charges() - before).toBe(1);
    expect(await spendByKey(label)).toEqual([30]);
    expect(await stack.keyStatuses(label)).toEqual(['revoked']);
  });

  it('without a checkpointer nothing can pause: the proxy refuses the call and nothing is charged', async () => {
    const label = 'lc-apr-no-saver';
    const before = stack.charges();
    const model = fakeModel()
      .respondWithTools([{ name: 'charge_customer', args: charge(3000), id: 'c1' }])
      .respond(new AIMessage('unreachable'));
    const { spendgate, agent } = agentWith(model, label, { checkpointer: false });
    const result = await spendgate.invoke(agent, ask());
    expect(result.spendgate?.stoppedBy).toMatchObject({ code: 'approval_required' });
    expect(toolMessages(result.messages)[0]?.artifact).toMatchObject({
      error: 'approval_required',
      amount_usd: 30,
    });
    expect(stack.charges()).toBe(before);
    const approvals = (await stack.client.listApprovals({ label })).data;
    expect(approvals.map((a) => a.status)).toEqual(['pending']);
    expect(await stack.keyStatuses(label)).toEqual(['revoked']);
  });

  it("createAgent version 'v1': a call sharing its task with others is refused, not paused", async () => {
    // v1 runs a message's calls in one task, which a resume would re-run whole under new keys.
    const label = 'lc-apr-v1';
    const before = stack.charges();
    const model = fakeModel()
      .respondWithTools([
        { name: 'charge_customer', args: charge(1000), id: 'c1' },
        { name: 'charge_customer', args: charge(3000), id: 'c2' },
      ])
      .respond(new AIMessage('unreachable'));
    const { spendgate, agent, config } = agentWith(model, label, { version: 'v1' });
    const result = await spendgate.invoke(agent, ask(), config);
    expect(result.__interrupt__).toBeUndefined();
    const byId = new Map(toolMessages(result.messages).map((m) => [m.tool_call_id, m.artifact]));
    expect(byId.get('c1')).toMatchObject({ ok: true, amount: 1000 });
    expect(byId.get('c2')).toMatchObject({ ok: false, error: 'approval_required' });
    expect(result.spendgate?.stoppedBy).toMatchObject({ toolCallId: 'c2', code: 'approval_required' });
    expect(stack.charges() - before).toBe(1);
    expect(await stack.keyStatuses(label)).toEqual(['revoked']);
  });
});

interface RecordedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** An undici dispatcher that records each request the tools send, so a test can re-send one by hand. */
function recordingDispatcher(): { dispatcher: Dispatcher; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
    requests.push({
      url: `${String(opts.origin)}${opts.path}`,
      headers: { ...(opts.headers as Record<string, string>) },
      body: String(opts.body),
    });
    return dispatch(opts, handler);
  });
  return { dispatcher, requests };
}
