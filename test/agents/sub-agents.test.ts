import { fakeModel } from '@langchain/core/testing';
import { Agent, Runner, setTracingDisabled } from '@openai/agents';
import { generateText, stepCountIs } from 'ai';
import { AIMessage, createAgent, HumanMessage, ToolMessage } from 'langchain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as aiSdk from '../../adapters/ai-sdk/index.js';
import * as lc from '../../adapters/langchain/index.js';
import * as oa from '../../adapters/openai-agents/index.js';
import type { RunEnd } from '../../src/run/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import {
  scriptedLanguageModel,
  text,
  toolCall,
  toolResultsSeen,
  type AiStep,
} from './models/ai-sdk-scripted-model.js';
import {
  assistantMessage,
  functionCall,
  OpenAIScriptedModel,
  toolOutputsSeen,
  type OpenAIStep,
} from './models/openai-scripted-model.js';

/**
 * A runaway parent with a sub-agent, in each framework. The parent's run has one $3 budget; the parent
 * charges $1 itself, then hands the work to a sub-agent whose child run may spend up to $10 and whose model
 * charges $1 on every turn, whatever it is told. The child must stop at the parent's remainder ($2), and
 * every budget and key of both runs must be revoked at the end.
 */

let stack: AgentStack;

beforeAll(async () => {
  setTracingDisabled(true);
  stack = await startAgentStack();
});

afterAll(async () => {
  await stack.close();
});

type Run = oa.Run;

const PARENT_CAP = 3;
const CHILD_CAP = 10;
const parentBudget = (label: string): oa.RunBudget => ({ label, ttl: '5m', usdCap: PARENT_CAP, caps: {} });
const child = { tools: [oa.chargeCustomerTool()], usdCap: CHILD_CAP };
const chargeArgs = (n: number) => ({
  customer: 'cus_ada',
  amount: 100,
  currency: 'usd',
  description: `Order ${n}`,
});
const TASK = 'Charge cus_ada $1 per order until every order is billed.';

/** Records the child runs a sub-agent tool ended, to check them afterwards. */
function childEnds() {
  const ends: RunEnd[] = [];
  return {
    ends,
    onRunEnd: (end: RunEnd) => {
      ends.push(end);
    },
  };
}

/**
 * The child stopped exactly at what the parent had left: three $1 charges reached Stripe (the parent's and
 * two of the child's), the parent's budget is spent to its cap, and the child spent the remainder.
 */
async function expectStoppedAtRemainder(parent: Run, childRun: Run, chargesBefore: number) {
  expect(stack.charges() - chargesBefore).toBe(PARENT_CAP);
  const parentBudgetNow = await stack.client.getBudget(parent.budgetId ?? '');
  expect(parentBudgetNow).toMatchObject({ usdCap: PARENT_CAP, spentUsd: PARENT_CAP, reservedUsd: 0 });
  const childBudget = await stack.client.getBudget(childRun.budgetId ?? '');
  expect(childBudget).toMatchObject({ parentId: parent.budgetId, usdCap: CHILD_CAP, spentUsd: 2 });
}

/** Both runs' budgets and every key they issued are revoked, and nothing is left active. */
async function expectAllRevoked(runs: readonly Run[]) {
  for (const run of runs) {
    expect(run.state).toBe('ended');
    expect((await stack.client.getBudget(run.budgetId ?? '')).status).toBe('revoked');
    expect(run.keys).toHaveLength(1);
    for (const key of run.keys) expect((await stack.client.getKey(key.id)).status).toBe('revoked');
  }
  expect(await stack.activeKeys()).toEqual([]);
}

/** The child's loop was ended by its refusal: the non-retryable `cap_exhausted` its model was given. */
function expectChildStopped(end: RunEnd | undefined) {
  expect(end).toMatchObject({ failed: false, stoppedBy: { tool: 'charge_customer', code: 'cap_exhausted' } });
  expect(end?.stoppedBy?.refusal).toMatchObject({ ok: false, error: 'cap_exhausted', retryable: false });
}

const subAgentRefusal = {
  ok: false,
  error: 'cap_exhausted',
  retryable: false,
  budget: 'spent',
  sub_agent: 'researcher',
};

describe('OpenAI Agents SDK: subAgentTool', () => {
  const charge =
    (callId: string, n: number): OpenAIStep =>
    () => [functionCall('charge_customer', chargeArgs(n), callId)];
  const relentless = (turns: number): OpenAIStep[] =>
    Array.from({ length: turns }, (_, i) => charge(`sub${i + 1}`, 100 + i));

  it('stops the sub-agent at the parent’s remainder, ends both loops, and revokes both runs', async () => {
    const before = stack.charges();
    const { ends, onRunEnd } = childEnds();
    const subModel = new OpenAIScriptedModel(relentless(10));
    // After the refusal the parent would call the sub-agent again and again: it is never asked.
    const parentModel = new OpenAIScriptedModel([
      charge('p1', 1),
      ...Array.from({ length: 5 }, (_, i): OpenAIStep => () => [
        functionCall('researcher', { input: TASK }, `s${i + 1}`),
      ]),
    ]);
    let parent: Run | undefined;
    const result = await oa.withRun(
      { client: stack.client, budget: parentBudget('oa-sub'), tools: [oa.chargeCustomerTool()] },
      (run) => {
        parent = run;
        const researcher = oa.subAgentTool({
          run,
          agent: new Agent({ name: 'researcher', model: subModel }),
          description: 'Bills the orders it is given.',
          child,
          runOptions: { maxTurns: 10 },
          onRunEnd,
        });
        const lead = new Agent({
          name: 'lead',
          model: parentModel,
          tools: [...oa.openaiAgentsTools(run), researcher],
          toolUseBehavior: oa.budgetToolUseBehavior(),
        });
        return new Runner().run(lead, TASK, { signal: run.signal, maxTurns: 10 });
      },
    );

    expect(ends).toHaveLength(1);
    const childRun = ends[0]!.run;
    await expectStoppedAtRemainder(parent!, childRun, before);
    // The sub-agent made two charges and was refused the third; its model got no turn after that.
    expect(subModel.requests).toHaveLength(3);
    expect(subModel.requests[0]?.tools.map((t) => t.name)).toEqual(['charge_customer']);
    expectChildStopped(ends[0]);
    // The parent was shown the sub-agent's refusal, non-retryable, and its own loop ended on it.
    expect(parentModel.requests).toHaveLength(2);
    const outputs = result.newItems.flatMap((item) =>
      item.type === 'tool_call_output_item' ? [item.output] : [],
    );
    expect(outputs).toHaveLength(2);
    expect(outputs[0]).toMatchObject({ ok: true });
    expect(outputs[1]).toMatchObject(subAgentRefusal);
    // The amounts are the child key's: they are in the message, not where they would read as the parent's.
    expect(outputs[1]).not.toHaveProperty('spent_usd');
    expect((outputs[1] as { message: string }).message).toContain(
      'The sub-agent researcher was stopped: spendgate ended the run: charge_customer was refused with cap_exhausted',
    );
    expect(result.finalOutput).toBe(
      'spendgate ended the run: researcher was refused with cap_exhausted. The budget for this run is used up.',
    );
    await expectAllRevoked([parent!, childRun]);
  });

  it('a handoff target spends under a child of the parent’s run, stopped at the parent’s remainder', async () => {
    const before = stack.charges();
    const billingModel = new OpenAIScriptedModel(relentless(10));
    const parentModel = new OpenAIScriptedModel([
      charge('p1', 1),
      () => [functionCall('transfer_to_billing', {}, 'h1')],
    ]);
    let parent: Run | undefined;
    let billing: oa.BudgetedHandoff | undefined;
    const result = await oa.withRun(
      { client: stack.client, budget: parentBudget('oa-handoff'), tools: [oa.chargeCustomerTool()] },
      (run) => {
        parent = run;
        billing = oa.budgetedHandoff({
          run,
          agent: new Agent({ name: 'billing', model: billingModel }),
          child,
        });
        // Made before the run; started only when the model hands off.
        expect(billing.run.state).toBe('created');
        const lead = new Agent({
          name: 'lead',
          model: parentModel,
          tools: oa.openaiAgentsTools(run),
          handoffs: [billing.handoff],
          toolUseBehavior: oa.budgetToolUseBehavior(),
        });
        return new Runner().run(lead, TASK, { signal: run.signal, maxTurns: 10 });
      },
    );

    const childRun = billing!.run;
    await expectStoppedAtRemainder(parent!, childRun, before);
    expect(result.lastAgent?.name).toBe('billing');
    // The target agent was given the child's tools, bound to the child's key.
    expect(billingModel.requests[0]?.tools.map((t) => t.name)).toEqual(['charge_customer']);
    expect((await stack.client.getKey(childRun.keys[0]?.id ?? '')).spentUsd).toBe(2);
    expect((await stack.client.getKey(parent!.keys[0]?.id ?? '')).spentUsd).toBe(1);
    // Refused on its third charge, and its loop ended there: the run's final output says why.
    expect(billingModel.requests).toHaveLength(3);
    expect(billing!.stoppedBy()).toMatchObject({ code: 'cap_exhausted', refusal: { retryable: false } });
    expect(result.finalOutput).toBe(billing!.stoppedBy()?.message);
    await expectAllRevoked([parent!, childRun]);
  });

  it('a parent without a budget of its own cannot start a sub-agent: the model is told, nothing is sent', async () => {
    const before = stack.charges();
    const subModel = new OpenAIScriptedModel(relentless(1));
    const parentModel = new OpenAIScriptedModel([
      () => [functionCall('researcher', { input: TASK }, 's1')],
      () => [assistantMessage('The sub-agent could not start.')],
    ]);
    const result = await oa.withRun(
      {
        client: stack.client,
        budget: { label: 'oa-sub-unbudgeted', caps: { stripe: { usdCap: 5 } } },
        tools: [oa.chargeCustomerTool()],
      },
      (run) => {
        const researcher = oa.subAgentTool({
          run,
          agent: new Agent({ name: 'researcher', model: subModel }),
          description: 'Bills the orders it is given.',
          child,
        });
        const lead = new Agent({ name: 'lead', model: parentModel, tools: [researcher] });
        return new Runner().run(lead, TASK, { signal: run.signal, maxTurns: 3 });
      },
    );
    expect(JSON.parse(toolOutputsSeen(parentModel.requests[1]!).get('s1') ?? '{}')).toMatchObject({
      ok: false,
      error: 'run_not_started',
      retryable: false,
      sub_agent: 'researcher',
    });
    expect(result.finalOutput).toBe('The sub-agent could not start.');
    expect(subModel.requests).toHaveLength(0);
    expect(stack.charges()).toBe(before);
    expect(await stack.activeKeys()).toEqual([]);
  });
});

describe('LangChain: subAgentTool (a subagent as a tool)', () => {
  type FakeModel = ReturnType<typeof fakeModel>;
  const relentless = (turns: number): FakeModel => {
    const model = fakeModel();
    for (let i = 1; i <= turns; i += 1) {
      model.respondWithTools([{ name: 'charge_customer', args: chargeArgs(100 + i), id: `sub${i}` }]);
    }
    return model;
  };

  it('stops the sub-agent at the parent’s remainder, ends both loops, and revokes both runs', async () => {
    const before = stack.charges();
    const { ends, onRunEnd } = childEnds();
    const subModel = relentless(10);
    const parentModel = fakeModel().respondWithTools([
      { name: 'charge_customer', args: chargeArgs(1), id: 'p1' },
    ]);
    for (let i = 1; i <= 5; i += 1)
      parentModel.respondWithTools([{ name: 'researcher', args: { input: TASK }, id: `s${i}` }]);
    let parent: Run | undefined;
    const result = await lc.withRun(
      { client: stack.client, budget: parentBudget('lc-sub'), tools: [lc.chargeCustomerTool()] },
      (run) => {
        parent = run;
        const researcher = lc.subAgentTool({
          run,
          name: 'researcher',
          description: 'Bills the orders it is given.',
          child,
          agent: (spendgate) => createAgent({ model: subModel, tools: [], middleware: [spendgate] }),
          recursionLimit: 25,
          onRunEnd,
        });
        const lead = createAgent({
          model: parentModel,
          tools: [researcher],
          middleware: [lc.runMiddleware(run, { stopOn: ['researcher'] })],
        });
        return lead.invoke(
          { messages: [new HumanMessage(TASK)] },
          { signal: run.signal, recursionLimit: 25 },
        );
      },
    );

    expect(ends).toHaveLength(1);
    const childRun = ends[0]!.run;
    await expectStoppedAtRemainder(parent!, childRun, before);
    expect(subModel.callCount).toBe(3);
    expectChildStopped(ends[0]);
    // The parent's tool message carries the sub-agent's refusal, marked as an error; its loop ended there.
    expect(parentModel.callCount).toBe(2);
    const results = result.messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
    expect(results.map((m) => [m.tool_call_id, m.status])).toEqual([
      ['p1', 'success'],
      ['s1', 'error'],
    ]);
    expect(results[1]?.artifact).toMatchObject(subAgentRefusal);
    expect(JSON.parse(String(results[1]?.content))).toMatchObject(subAgentRefusal);
    expect(result.messages.at(-1)).toBeInstanceOf(AIMessage);
    expect(result.messages.at(-1)?.text).toContain('researcher was refused with cap_exhausted');
    await expectAllRevoked([parent!, childRun]);
  });
});

describe('AI SDK: subAgentTool (a nested generateText)', () => {
  const charge =
    (id: string, n: number): AiStep =>
    () =>
      toolCall('charge_customer', chargeArgs(n), id);
  const relentless = (turns: number): AiStep[] =>
    Array.from({ length: turns }, (_, i) => charge(`sub${i + 1}`, 100 + i));

  it('stops the sub-agent at the parent’s remainder, ends both loops, and revokes both runs', async () => {
    const before = stack.charges();
    const { ends, onRunEnd } = childEnds();
    const subModel = scriptedLanguageModel(relentless(10));
    const parentModel = scriptedLanguageModel([
      charge('p1', 1),
      ...Array.from(
        { length: 5 },
        (_, i): AiStep =>
          () =>
            toolCall('researcher', { input: TASK }, `s${i + 1}`),
      ),
      () => text('unreachable'),
    ]);
    let parent: Run | undefined;
    const result = await aiSdk.withRun(
      { client: stack.client, budget: parentBudget('ai-sub'), tools: [aiSdk.chargeCustomerTool()] },
      (run) => {
        parent = run;
        return generateText({
          model: parentModel,
          prompt: TASK,
          abortSignal: run.signal,
          tools: {
            ...aiSdk.aiSdkTools(run),
            researcher: aiSdk.subAgentTool({
              run,
              name: 'researcher',
              description: 'Bills the orders it is given.',
              child,
              generate: { model: subModel, stopWhen: stepCountIs(20) },
              onRunEnd,
            }),
          },
          stopWhen: [stepCountIs(10), aiSdk.budgetRefused()],
        });
      },
    );

    expect(ends).toHaveLength(1);
    const childRun = ends[0]!.run;
    await expectStoppedAtRemainder(parent!, childRun, before);
    expect(subModel.doGenerateCalls).toHaveLength(3);
    expectChildStopped(ends[0]);
    expect(parentModel.doGenerateCalls).toHaveLength(2);
    const outputs = result.steps.flatMap((step) => step.toolResults.map((r) => r.output));
    expect(outputs).toHaveLength(2);
    expect(outputs[0]).toMatchObject({ ok: true });
    expect(outputs[1]).toMatchObject(subAgentRefusal);
    await expectAllRevoked([parent!, childRun]);
  });
  it('a parent that keeps calling the sub-agent after its refusal gets a new child each time, refused at once', async () => {
    const before = stack.charges();
    const { ends, onRunEnd } = childEnds();
    const subModel = scriptedLanguageModel(relentless(10));
    const parentModel = scriptedLanguageModel([
      charge('p1', 1),
      () => toolCall('researcher', { input: TASK }, 's1'),
      () => toolCall('researcher', { input: TASK }, 's2'),
      () => text('done'),
    ]);
    let parent: Run | undefined;
    await aiSdk.withRun(
      { client: stack.client, budget: parentBudget('ai-sub-again'), tools: [aiSdk.chargeCustomerTool()] },
      (run) => {
        parent = run;
        return generateText({
          model: parentModel,
          prompt: TASK,
          abortSignal: run.signal,
          tools: {
            ...aiSdk.aiSdkTools(run),
            researcher: aiSdk.subAgentTool({
              run,
              name: 'researcher',
              description: 'Bills the orders it is given.',
              child,
              generate: { model: subModel, stopWhen: stepCountIs(20) },
              onRunEnd,
            }),
          },
          // No budget stop on the parent: its model reads the refusal, and calls again anyway.
          stopWhen: stepCountIs(10),
        });
      },
    );

    expect(ends).toHaveLength(2);
    const [first, second] = ends.map((end) => end.run);
    await expectStoppedAtRemainder(parent!, first!, before);
    // The model was shown the first sub-agent's refusal as an error result.
    expect(toolResultsSeen(parentModel.doGenerateCalls[2]!).get('s1')).toMatchObject({
      type: 'error-json',
      value: subAgentRefusal,
    });
    // The second child had nothing left to spend: its first charge was refused, and nothing more was sent.
    expect(subModel.doGenerateCalls).toHaveLength(4);
    expectChildStopped(ends[1]);
    expect((await stack.client.getBudget(second!.budgetId ?? '')).spentUsd).toBe(0);
    expect(stack.charges() - before).toBe(PARENT_CAP);
    await expectAllRevoked([parent!, first!, second!]);
  });
});
