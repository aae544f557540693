import { Agent, Runner, setTracingDisabled } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chargeCustomerTool,
  runAgentWithBudget,
  streamAgentWithBudget,
  type RunBudget,
  type RunEnd,
  type SpendgateClient,
} from '../../adapters/openai-agents/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import {
  assistantMessage,
  functionCall,
  OpenAIScriptedModel,
  toolOutputsSeen,
  type OpenAIStep,
} from './models/openai-scripted-model.js';

/**
 * Approval above an amount, through the Agents SDK's own human-in-the-loop: `needsApproval` pauses the run
 * with `result.interruptions`, the app decides with `state.approve()` / `state.reject()`, and `resume()`
 * runs the SDK again on the paused state. Real proxy, fake Stripe over HTTP on 127.0.0.1.
 */
let stack: AgentStack;
beforeAll(async () => {
  setTracingDisabled(true);
  stack = await startAgentStack();
});
afterAll(async () => stack.close());

const budget = (label: string): RunBudget => ({
  label,
  ttl: '5m',
  caps: { stripe: { usdCap: 100, approvalAboveUsd: 25 } },
});
const chargeArgs = (amount: number) => ({
  customer: 'cus_ada',
  amount,
  currency: 'usd',
  description: 'Order 7',
});
const charge =
  (amount: number, callId: string): OpenAIStep =>
  () => [functionCall('charge_customer', chargeArgs(amount), callId)];
const say =
  (text: string): OpenAIStep =>
  () => [assistantMessage(text)];

function start(label: string, steps: OpenAIStep[], extra: { client?: SpendgateClient } = {}) {
  const model = new OpenAIScriptedModel(steps);
  const ends: RunEnd[] = [];
  const running = runAgentWithBudget({
    client: extra.client ?? stack.client,
    agent: new Agent({ name: 'billing', instructions: 'Bill the order.', model }),
    input: 'Bill order 7.',
    budget: budget(label),
    tools: [chargeCustomerTool()],
    runOptions: { maxTurns: 6 },
    onRunEnd: (end) => {
      ends.push(end);
    },
  });
  return { model, ends, running };
}

async function stripeKey(label: string) {
  const { data } = await stack.client.listKeys({ label });
  expect(data).toHaveLength(1);
  return stack.client.getKey(data[0]?.id ?? '');
}

/** The SDK's tool outputs in a result, parsed where they are JSON text. */
function outputs(items: readonly { type: string }[]): unknown[] {
  return items
    .filter(
      (i): i is { type: 'tool_call_output_item'; output: unknown } => i.type === 'tool_call_output_item',
    )
    .map((i) => (typeof i.output === 'string' ? (JSON.parse(i.output) as unknown) : i.output));
}

describe('OpenAI Agents SDK: approval above an amount', () => {
  it('pauses a $30 charge through needsApproval; once approved it is charged exactly once', async () => {
    const before = stack.charges();
    const { model, ends, running } = start('oa-apr-approve', [charge(3000, 'a1'), say('charged')]);
    const paused = await running;

    // Paused before anything was sent: no Stripe call, no pending approval on the proxy, the key still live.
    expect(paused.result.interruptions).toHaveLength(1);
    expect(paused.approvals).toMatchObject([
      { tool: 'charge_customer', toolCallId: 'a1', amountUsd: 30, arguments: chargeArgs(3000) },
    ]);
    expect(stack.charges()).toBe(before);
    expect((await stripeKey('oa-apr-approve')).status).toBe('active');
    expect(ends).toEqual([]);

    paused.result.state.approve(paused.approvals[0]!.item);
    const done = await paused.resume!();

    expect(done.result.finalOutput).toBe('charged');
    expect(done.resume).toBeNull();
    expect(done.approvals).toEqual([]);
    expect(outputs(done.result.newItems)).toMatchObject([{ ok: true, amount: 3000, status: 'succeeded' }]);
    expect(JSON.parse(toolOutputsSeen(model.requests[1]!).get('a1') ?? '{}')).toMatchObject({ ok: true });
    expect(stack.charges() - before).toBe(1);
    const key = await stripeKey('oa-apr-approve');
    expect(key.spentUsd).toBe(30);
    const used = await stack.client.listApprovals({ label: 'oa-apr-approve', status: 'used' });
    expect(used.data.map((a) => a.amountUsd)).toEqual([30]);
    // One run across the pause: revoked at the end, onRunEnd told once.
    expect(key.status).toBe('revoked');
    expect(ends.map((e) => [e.failed, e.run.id])).toEqual([[false, paused.run.id]]);
  });

  it('a rejected charge sends nothing; the model is given approval_denied and the loop ends', async () => {
    const stripeRequests = stack.fakes.stripe.requests.length;
    const { model, ends, running } = start('oa-apr-deny', [charge(3000, 'd1'), say('unreachable')]);
    const paused = await running;
    paused.result.state.reject(paused.approvals[0]!.item);
    const done = await paused.resume!();

    expect(stack.fakes.stripe.requests.length).toBe(stripeRequests);
    expect((await stack.client.listApprovals({ label: 'oa-apr-deny' })).data).toEqual([]);
    expect(outputs(done.result.newItems)).toMatchObject([
      { ok: false, error: 'approval_denied', retryable: false },
    ]);
    // A denial is a stopping refusal, like the adapter's others: the model gets no turn to try smaller amounts.
    expect(model.requests).toHaveLength(1);
    expect(done.spendgate.stoppedBy).toMatchObject({ code: 'approval_denied', toolCallId: 'd1' });
    expect(done.result.finalOutput).toBe(done.spendgate.stoppedBy?.message);
    expect((await stripeKey('oa-apr-deny')).status).toBe('revoked');
    expect(ends.map((e) => e.stoppedBy?.code)).toEqual(['approval_denied']);
  });

  it('with stopOnRefusal: false the model itself is shown the non-retryable denial', async () => {
    const model = new OpenAIScriptedModel([charge(3000, 'd2'), say('the charge was declined by a person')]);
    const paused = await runAgentWithBudget({
      client: stack.client,
      agent: new Agent({ name: 'billing', model }),
      input: 'go',
      budget: budget('oa-apr-deny-shown'),
      tools: [chargeCustomerTool()],
      stopOnRefusal: false,
    });
    paused.result.state.reject(paused.approvals[0]!.item);
    const done = await paused.resume!();

    const shown = JSON.parse(toolOutputsSeen(model.requests[1]!).get('d2') ?? '{}') as unknown;
    expect(shown).toMatchObject({ ok: false, error: 'approval_denied', retryable: false });
    expect(done.spendgate.stoppedBy).toBeNull();
    expect(done.result.finalOutput).toBe('the charge was declined by a person');
    expect(await stack.keyStatuses('oa-apr-deny-shown')).toEqual(['revoked']);
  });

  it('an approved grant is not replayed: not by hand, not under a reused call id with another amount', async () => {
    // Capture the grant the tool obtains, to try it again by hand; the model itself never sees it.
    const grants: string[] = [];
    const client: SpendgateClient = {
      ...stack.client,
      approveCall: async (id, opts) => {
        const granted = await stack.client.approveCall(id, opts);
        grants.push(granted.grant);
        return granted;
      },
    };
    const replays: { status: number; code: unknown }[] = [];
    let sendWithGrant = async (_amount: number): Promise<{ status: number; code: unknown }> => ({
      status: 0,
      code: 'not ready',
    });
    const before = stack.charges();
    const { running } = start(
      'oa-apr-replay',
      [
        charge(3000, 'r1'),
        async () => {
          // While the run is live: the vault key plus the used grant, for the same and for a larger charge.
          for (const amount of [3000, 4000]) replays.push(await sendWithGrant(amount));
          // The model reuses the approved call id for another amount: the SDK calls it approved without asking.
          return [functionCall('charge_customer', chargeArgs(4000), 'r1')];
        },
        // The same, with `retry_of` so that its idempotency key is a new one and the proxy looks at approval.
        () => [functionCall('charge_customer', { ...chargeArgs(4000), retry_of: 'x9' }, 'r1')],
        say('unreachable'),
      ],
      { client },
    );
    const paused = await running;
    const token = paused.run.credentialFor('stripe')?.token ?? '';
    sendWithGrant = async (amount) => {
      const res = await fetch(`${stack.proxyUrl}/v1/payment_intents`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-www-form-urlencoded',
          'idempotency-key': `replay-${amount}`,
          'spendgate-approval': grants[0] ?? '',
        },
        body: `amount=${amount}&currency=usd&customer=cus_ada&confirm=true`,
      });
      const body = (await res.json()) as { error?: { code?: unknown } };
      return { status: res.status, code: body.error?.code };
    };
    paused.result.state.approve(paused.approvals[0]!.item);
    const done = await paused.resume!();

    expect(grants).toHaveLength(1);
    expect(replays).toEqual([
      { status: 403, code: 'approval_invalid' },
      { status: 403, code: 'approval_invalid' },
    ]);
    // A reused id with another body is refused by idempotency; with a fresh idempotency key it gets no
    // decision from spendgate (nobody saw $40), so the proxy asks for one and the loop ends there.
    expect(outputs(done.result.newItems)).toMatchObject([
      { ok: true, amount: 3000 },
      { ok: false, error: 'idempotency_mismatch', retryable: false },
      { ok: false, error: 'approval_required', retryable: false, amount_usd: 40 },
    ]);
    expect(done.spendgate.stoppedBy).toMatchObject({ code: 'approval_required' });
    expect(grants).toHaveLength(1);
    expect(stack.charges() - before).toBe(1);
    const key = await stripeKey('oa-apr-replay');
    expect(key.spentUsd).toBe(30);
    // The first approval_required is the approved call's own first send, before the tool fetched its grant.
    const denied = (await stack.client.audit({ keyId: key.id })).data.filter((r) => r.decision === 'denied');
    expect(denied.map((r) => r.code).sort()).toEqual([
      'approval_invalid',
      'approval_invalid',
      'approval_required',
      'approval_required',
      'idempotency_mismatch',
    ]);
    expect(key.status).toBe('revoked');
  });

  it('a second $30 charge after an approval pauses again; end() gives up and revokes the keys', async () => {
    const before = stack.charges();
    const { ends, running } = start('oa-apr-again', [charge(3000, 'g1'), charge(3000, 'g2'), say('x')]);
    const first = await running;
    first.result.state.approve(first.approvals[0]!.item);
    const second = await first.resume!();

    expect(second.approvals).toMatchObject([{ toolCallId: 'g2', amountUsd: 30 }]);
    expect(stack.charges() - before).toBe(1);
    expect((await stripeKey('oa-apr-again')).status).toBe('active');
    await second.end();
    await second.end();

    expect((await stripeKey('oa-apr-again')).status).toBe('revoked');
    expect(ends).toHaveLength(1);
    await expect(second.resume!()).rejects.toMatchObject({ code: 'key_revoked' });
    expect(stack.charges() - before).toBe(1);
  });

  it('a charge at the threshold is not paused', async () => {
    const before = stack.charges();
    const { running } = start('oa-apr-under', [charge(2500, 'u1'), say('done')]);
    const done = await running;

    expect(done.result.interruptions).toEqual([]);
    expect(done.resume).toBeNull();
    expect(done.result.finalOutput).toBe('done');
    expect(outputs(done.result.newItems)).toMatchObject([{ ok: true, amount: 2500 }]);
    expect(stack.charges() - before).toBe(1);
    expect((await stack.client.listApprovals({ label: 'oa-apr-under' })).data).toEqual([]);
    expect(await stack.keyStatuses('oa-apr-under')).toEqual(['revoked']);
  });

  it('streaming: a pause ends the run, so resuming it later sends nothing', async () => {
    const before = stack.fakes.stripe.requests.length;
    const model = new OpenAIScriptedModel([charge(3000, 's1'), say('unreachable')]);
    const { result, ended } = await streamAgentWithBudget({
      client: stack.client,
      agent: new Agent({ name: 'billing', model }),
      input: 'go',
      budget: budget('oa-apr-stream'),
      tools: [chargeCustomerTool()],
    });
    for await (const event of result) void event;
    expect(await ended).toMatchObject({ failed: false });
    expect(result.interruptions).toHaveLength(1);
    expect(await stack.keyStatuses('oa-apr-stream')).toEqual(['revoked']);

    // Approved and resumed by hand: the tool belongs to a run that has ended, so it refuses and the loop stops.
    result.state.approve(result.interruptions[0]!);
    const resumed = await new Runner().run(result.lastAgent!, result.state);
    expect(outputs(resumed.newItems)).toMatchObject([{ ok: false, error: 'key_revoked', retryable: false }]);
    expect(resumed.finalOutput).toContain('refused with key_revoked');
    expect(stack.fakes.stripe.requests.length).toBe(before);
  });
});
