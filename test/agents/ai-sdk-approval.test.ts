import { generateText, stepCountIs, tool, type ModelMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  aiSdkTools,
  approvalRequests,
  approvalResponses,
  budgetRefused,
  chargeCustomerTool,
  generateTextWithBudget,
  streamTextWithBudget,
  type SpendgateCallOptions,
  type SpendgateClient,
} from '../../adapters/ai-sdk/index.js';
import { createRun } from '../../src/run/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import { scriptedLanguageModel, text, toolCall, toolResultsSeen } from './models/ai-sdk-scripted-model.js';

/**
 * Human approval through the AI SDK's own tool approval, against the real proxy: a charge above the run's
 * `approvalAboveUsd` pauses as a `tool-approval-request`, and the continuation call (a new run) sends it once
 * a person's `tool-approval-response` approves it.
 */
let stack: AgentStack;
beforeAll(async () => {
  stack = await startAgentStack();
});
afterAll(async () => stack.close());

const chargeInput = (amount: number) => ({
  customer: 'cus_ada',
  amount,
  currency: 'usd',
  description: 'Top-up',
});
const charge = (id: string, amount: number) => () => toolCall('charge_customer', chargeInput(amount), id);
const spendgate = (label: string, client: SpendgateClient = stack.client): SpendgateCallOptions => ({
  client,
  budget: { label, ttl: '5m', caps: { stripe: { usdCap: 100, approvalAboveUsd: 25 } } },
  tools: [chargeCustomerTool()],
});
const ask: ModelMessage[] = [{ role: 'user', content: 'Charge cus_ada $30 for the top-up.' }];
const spentOn = async (keyId: string | undefined) => (await stack.client.getKey(keyId ?? '')).spentUsd;

/** A client that records the vault tokens it issues and the grants it obtains, as a probe needs them. */
function recordingClient() {
  const tokens: string[] = [];
  const grants: string[] = [];
  const client: SpendgateClient = {
    ...stack.client,
    issueKey: async (input, options) => {
      const issued = await stack.client.issueKey(input, options);
      tokens.push(issued.token);
      return issued;
    },
    approveCall: async (id, options) => {
      const granted = await stack.client.approveCall(id, options);
      grants.push(granted.grant);
      return granted;
    },
  };
  return { client, tokens, grants };
}

/** A raw charge through the proxy with a vault token and a grant: what a replayed grant would do. */
async function chargeWithGrant(token: string, grant: string, amount: number) {
  const res = await fetch(`${stack.proxyUrl}/stripe/v1/payment_intents`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/x-www-form-urlencoded',
      'idempotency-key': `replay-${amount}-${grant.slice(-6)}`,
      'spendgate-approval': grant,
    },
    body: `customer=cus_ada&amount=${amount}&currency=usd&description=Top-up&confirm=true&off_session=true`,
  });
  const body = (await res.json()) as { code?: string };
  return { status: res.status, code: body.code ?? null };
}

describe('Vercel AI SDK: approval above an amount', () => {
  it('pauses a $30 charge as a tool-approval-request, and charges it once when approved', async () => {
    const before = stack.charges();
    const model = scriptedLanguageModel([
      charge('c1', 3000),
      (options) => {
        expect(toolResultsSeen(options).get('c1')).toMatchObject({
          type: 'json',
          value: { ok: true, amount: 3000, status: 'succeeded' },
        });
        return text('Charged $30.');
      },
    ]);
    const paused = await generateTextWithBudget({
      model,
      messages: ask,
      stopWhen: stepCountIs(5),
      spendgate: spendgate('ai-apr-approved'),
    });
    const requests = approvalRequests(paused.result.content);
    expect(requests).toEqual([
      expect.objectContaining({ toolCallId: 'c1', toolName: 'charge_customer', input: chargeInput(3000) }),
    ]);
    // Paused before the tool ran: nothing reached the proxy, so not even a pending approval exists.
    expect(stack.charges()).toBe(before);
    expect((await stack.client.listApprovals({ label: 'ai-apr-approved' })).data).toEqual([]);
    expect(paused.spendgate.stoppedBy).toBeNull();

    const continued = await generateTextWithBudget({
      model,
      messages: [
        ...ask,
        ...paused.result.response.messages,
        approvalResponses(requests.map((request) => ({ request, approved: true }))),
      ],
      stopWhen: stepCountIs(5),
      spendgate: spendgate('ai-apr-approved'),
    });
    expect(continued.result.text).toBe('Charged $30.');
    expect(stack.charges() - before).toBe(1);
    expect(await spentOn(continued.run.keys[0]?.id)).toBe(30);
    expect(await spentOn(paused.run.keys[0]?.id)).toBe(0);
    const used = await stack.client.listApprovals({ label: 'ai-apr-approved', status: 'used' });
    expect(used.data.map((a) => a.amountUsd)).toEqual([30]);
    expect(model.doGenerateCalls).toHaveLength(2);
    // Both calls' runs issued a key, and both are revoked.
    expect(await stack.keyStatuses('ai-apr-approved')).toEqual(['revoked', 'revoked']);
  });

  it('a denied charge sends nothing; the model is told not to retry, cannot split it, and the loop ends', async () => {
    const before = stack.fakes.stripe.requests.length;
    const seen: Array<{ output: unknown; tools: string[] }> = [];
    const model = scriptedLanguageModel([
      charge('c1', 3000),
      (options) => {
        seen.push({
          output: toolResultsSeen(options).get('c1'),
          tools: (options.tools ?? []).map((t) => t.name),
        });
        // A model that tries to get round the denial with a smaller charge.
        return toolCall('charge_customer', chargeInput(1500), 'c2');
      },
      charge('c3', 1500),
    ]);
    const paused = await generateTextWithBudget({
      model,
      messages: ask,
      stopWhen: stepCountIs(5),
      spendgate: spendgate('ai-apr-denied'),
    });
    const [request] = approvalRequests(paused.result.content);
    const continued = await generateTextWithBudget({
      model,
      messages: [
        ...ask,
        ...paused.result.response.messages,
        approvalResponses([{ request: request!, approved: false, reason: 'Not this month.' }]),
      ],
      stopWhen: stepCountIs(5),
      spendgate: spendgate('ai-apr-denied'),
    });
    expect(seen).toHaveLength(1);
    const denied = seen[0]?.output as { type: string; reason?: string };
    expect(denied.type).toBe('execution-denied');
    expect(denied.reason).toMatch(/^A person denied this charge_customer call\. Nothing was sent/);
    expect(denied.reason).toContain('do not try to spend another way (smaller amounts, other tools)');
    expect(denied.reason).toContain('The person said: Not this month.');
    // The model's one step after the denial had no spendgate tool, and the loop ended after it.
    expect(seen[0]?.tools).not.toContain('charge_customer');
    expect(model.doGenerateCalls).toHaveLength(2);
    expect(continued.spendgate.stoppedBy).toMatchObject({
      tool: 'charge_customer',
      toolCallId: 'c1',
      code: 'approval_denied',
    });
    expect(stack.fakes.stripe.requests.length).toBe(before);
    expect(await spentOn(continued.run.keys[0]?.id)).toBe(0);
    expect((await stack.client.listApprovals({ label: 'ai-apr-denied' })).data).toEqual([]);
    expect(await stack.keyStatuses('ai-apr-denied')).toEqual(['revoked', 'revoked']);
  });

  it('the used grant buys nothing more: not a second charge, not another amount', async () => {
    const before = stack.charges();
    const { client, tokens, grants } = recordingClient();
    const probe = tool({
      description: 'test probe: replays the grant the approved call used, under the live run key',
      inputSchema: z.object({}),
      execute: async () => {
        const [token, grant] = [tokens.at(-1) ?? '', grants.at(-1) ?? ''];
        return [await chargeWithGrant(token, grant, 3000), await chargeWithGrant(token, grant, 6000)];
      },
    });
    const model = scriptedLanguageModel([
      charge('c1', 3000),
      // After the approved charge, the model asks for the same charge again, and probes the grant.
      () => ({
        toolCalls: [
          { id: 'c2', name: 'charge_customer', input: chargeInput(3000) },
          { id: 'p1', name: 'replay_grant', input: {} },
        ],
      }),
    ]);
    const options = (label: string) => ({
      model,
      tools: { replay_grant: probe },
      stopWhen: stepCountIs(5),
      spendgate: spendgate(label, client),
    });
    const paused = await generateTextWithBudget({ ...options('ai-apr-replay'), messages: ask });
    const requests = approvalRequests(paused.result.content);
    const continued = await generateTextWithBudget({
      ...options('ai-apr-replay'),
      messages: [
        ...ask,
        ...paused.result.response.messages,
        approvalResponses(requests.map((request) => ({ request, approved: true }))),
      ],
    });
    expect(grants).toHaveLength(1);
    const probed = continued.result.steps[0]?.toolResults.find((r) => r.toolCallId === 'p1');
    expect(probed?.output).toEqual([
      { status: 403, code: 'approval_invalid' },
      { status: 403, code: 'approval_invalid' },
    ]);
    // The second $30 call is paused for its own approval; nothing was sent for it.
    expect(approvalRequests(continued.result.content).map((r) => r.toolCallId)).toEqual(['c2']);
    expect(stack.charges() - before).toBe(1);
    expect(await spentOn(continued.run.keys[0]?.id)).toBe(30);
    const approvals = await stack.client.listApprovals({ label: 'ai-apr-replay' });
    expect(approvals.data.map((a) => a.status)).toEqual(['used']);
    expect(await stack.keyStatuses('ai-apr-replay')).toEqual(['revoked', 'revoked']);
  });

  it('an approval sent twice in one run of your own replays the first charge, not a second one', async () => {
    const run = await createRun({ ...spendgate('ai-apr-own-run') }).start();
    const model = scriptedLanguageModel([charge('c1', 3000), () => text('done'), () => text('done again')]);
    const call = (messages: ModelMessage[]) =>
      generateText({ model, messages, tools: aiSdkTools(run), stopWhen: [stepCountIs(5), budgetRefused()] });
    const intentOf = (messages: ModelMessage[]) => {
      const part = messages[0]?.role === 'tool' ? messages[0].content[0] : undefined;
      return part?.type === 'tool-result' && part.output.type === 'json'
        ? (part.output.value as { payment_intent?: string }).payment_intent
        : undefined;
    };
    try {
      const paused = await call(ask);
      const requests = approvalRequests(paused.content);
      const answered = [
        ...ask,
        ...paused.response.messages,
        approvalResponses(requests.map((request) => ({ request, approved: true }))),
      ];
      // A double submit: the same approval reaches the server twice.
      const first = await call(answered);
      const second = await call(answered);
      expect(intentOf(first.response.messages)).toMatch(/^pi_/);
      expect(intentOf(second.response.messages)).toBe(intentOf(first.response.messages));
      expect(await spentOn(run.keys[0]?.id)).toBe(30);
      const approvals = await stack.client.listApprovals({ label: 'ai-apr-own-run' });
      expect(approvals.data.map((a) => a.status)).toEqual(['used']);
    } finally {
      await run.end();
    }
    expect(await stack.keyStatuses('ai-apr-own-run')).toEqual(['revoked']);
  });

  it('does not pause a charge at or under the threshold', async () => {
    const before = stack.charges();
    const model = scriptedLanguageModel([charge('c1', 2500), () => text('Charged $25.')]);
    const { result, run } = await generateTextWithBudget({
      model,
      messages: ask,
      stopWhen: stepCountIs(5),
      spendgate: spendgate('ai-apr-under'),
    });
    expect(approvalRequests(result.content)).toEqual([]);
    expect(result.text).toBe('Charged $25.');
    expect(stack.charges() - before).toBe(1);
    expect(await spentOn(run.keys[0]?.id)).toBe(25);
    expect((await stack.client.listApprovals({ label: 'ai-apr-under' })).data).toEqual([]);
    expect(await stack.keyStatuses('ai-apr-under')).toEqual(['revoked']);
  });

  it('an approved call the budget then refuses ends the loop like any other budget refusal', async () => {
    const before = stack.charges();
    const tools: string[][] = [];
    const model = scriptedLanguageModel([
      charge('c1', 3000),
      (options) => {
        tools.push((options.tools ?? []).map((t) => t.name));
        return charge('c2', 500)();
      },
    ]);
    const options = {
      model,
      stopWhen: stepCountIs(5),
      spendgate: {
        ...spendgate('ai-apr-capped'),
        budget: { label: 'ai-apr-capped', caps: { stripe: { usdCap: 20, approvalAboveUsd: 10 } } },
      },
    };
    const paused = await generateTextWithBudget({ ...options, messages: ask });
    const requests = approvalRequests(paused.result.content);
    const continued = await generateTextWithBudget({
      ...options,
      messages: [
        ...ask,
        ...paused.result.response.messages,
        approvalResponses(requests.map((request) => ({ request, approved: true }))),
      ],
    });
    expect(continued.spendgate.stoppedBy).toMatchObject({ toolCallId: 'c1', code: 'cap_exhausted' });
    expect(tools).toEqual([[]]);
    expect(model.doGenerateCalls).toHaveLength(2);
    expect(stack.charges()).toBe(before);
    expect(await stack.keyStatuses('ai-apr-capped')).toEqual(['revoked', 'revoked']);
  });

  it('streamText: pauses, and the approved continuation charges once; every key is revoked', async () => {
    const before = stack.charges();
    const model = scriptedLanguageModel([charge('c1', 3000), () => text('Charged $30.')]);
    const paused = await streamTextWithBudget({
      model,
      messages: ask,
      stopWhen: stepCountIs(5),
      spendgate: spendgate('ai-apr-stream'),
    });
    const requests = approvalRequests(await paused.result.content);
    expect(requests.map((r) => r.toolCallId)).toEqual(['c1']);
    await expect(paused.ended).resolves.toMatchObject({ failed: false, stoppedBy: null });
    expect(stack.charges()).toBe(before);

    const continued = await streamTextWithBudget({
      model,
      messages: [
        ...ask,
        ...(await paused.result.response).messages,
        approvalResponses(requests.map((request) => ({ request, approved: true }))),
      ],
      stopWhen: stepCountIs(5),
      spendgate: spendgate('ai-apr-stream'),
    });
    expect(await continued.result.text).toBe('Charged $30.');
    expect(stack.charges() - before).toBe(1);
    expect(await spentOn(continued.run.keys[0]?.id)).toBe(30);
    await expect(continued.ended).resolves.toMatchObject({ failed: false, stoppedBy: null });
    expect(await stack.keyStatuses('ai-apr-stream')).toEqual(['revoked', 'revoked']);
  });
});
