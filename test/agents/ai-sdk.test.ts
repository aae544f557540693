import { generateText, stepCountIs, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  aiSdkTools,
  budgetRefused,
  chargeCustomerTool,
  generateTextWithBudget,
  sendSmsTool,
  streamTextWithBudget,
  type RunBudget,
  type RunEnd,
  type SpendgateCallOptions,
} from '../../adapters/ai-sdk/index.js';
import { createRun } from '../../src/run/index.js';
import { outcomeOf, startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import {
  scriptedLanguageModel,
  text,
  toolCall,
  toolResultsSeen,
  type AiStep,
} from './models/ai-sdk-scripted-model.js';

let stack: AgentStack;

beforeAll(async () => {
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
const spendgate = (label: string, extra: Partial<SpendgateCallOptions> = {}): SpendgateCallOptions => ({
  client: stack.client,
  budget: budget(label),
  tools: [chargeCustomerTool()],
  ...extra,
});
const chargeInput = (amount = 2000) => ({
  customer: 'cus_ada',
  amount,
  currency: 'usd',
  description: 'Top-up',
});
const charge =
  (id: string, amount = 2000): AiStep =>
  () =>
    toolCall('charge_customer', chargeInput(amount), id);
/** A model that never gives up: it asks for another charge on every turn, whatever it was told. */
const relentless = (turns = 10): AiStep[] => Array.from({ length: turns }, (_, i) => charge(`c${i + 1}`));

type Steps = ReadonlyArray<{ readonly toolResults: ReadonlyArray<{ readonly output: unknown }> }>;
const outputsOf = (steps: Steps) =>
  steps.flatMap((step) => step.toolResults.map((r) => r.output as Record<string, unknown>));

describe('Vercel AI SDK', () => {
  it('ends the loop at the first budget refusal: no call after it, and the result says why', async () => {
    const before = stack.charges();
    const model = scriptedLanguageModel(relentless());
    const {
      result,
      run,
      spendgate: outcome,
    } = await generateTextWithBudget({
      model,
      prompt: 'Charge cus_ada $20 until told otherwise.',
      stopWhen: stepCountIs(20),
      spendgate: spendgate('ai-runaway'),
    });

    expect(stack.charges() - before).toBe(2);
    // c3 was refused; the model was never called again.
    expect(model.doGenerateCalls).toHaveLength(3);
    const outputs = outputsOf(result.steps);
    expect(outputs).toHaveLength(3);
    expect(outputs[0]).toMatchObject({ ok: true, remaining_budget_usd: 30 });
    expect(outputs[2]).toMatchObject({
      error: 'cap_exhausted',
      retryable: false,
      budget: 'spent',
      spent_usd: 40,
    });
    expect(outcome.stoppedBy).toMatchObject({
      tool: 'charge_customer',
      toolCallId: 'c3',
      code: 'cap_exhausted',
      spentUsd: 40,
      remainingUsd: 10,
    });
    expect(outcome.stoppedBy?.message).toContain('charge_customer was refused with cap_exhausted');
    expect((await stack.client.getKey(run.keys[0]?.id ?? '')).status).toBe('revoked');
  });

  it('marks a refusal as an error result for the model, with the structured body', async () => {
    const model = scriptedLanguageModel([...relentless(3), () => text('done')]);
    await generateTextWithBudget({
      model,
      prompt: 'go',
      stopWhen: stepCountIs(20),
      spendgate: spendgate('ai-error-json', { stopOnRefusal: false }),
    });
    const seen = toolResultsSeen(model.doGenerateCalls[3]!);
    expect(seen.get('c1')?.type).toBe('json');
    expect(seen.get('c3')).toMatchObject({
      type: 'error-json',
      value: { ok: false, error: 'cap_exhausted', retryable: false },
    });
  });

  it('stopOnRefusal: false lets the agent carry on, within its own stopWhen', async () => {
    const model = scriptedLanguageModel([...relentless(4), () => text('giving up')]);
    const { result, spendgate: outcome } = await generateTextWithBudget({
      model,
      prompt: 'go',
      stopWhen: stepCountIs(20),
      spendgate: spendgate('ai-carry-on', { stopOnRefusal: false }),
    });
    expect(outputsOf(result.steps)).toHaveLength(4);
    expect(outcome.stoppedBy).toBeNull();
    expect(result.text).toBe('giving up');
  });

  it("keeps the caller's own stop conditions, and the SDK's one-step default when there are none", async () => {
    const withDefault = scriptedLanguageModel(relentless());
    await generateTextWithBudget({
      model: withDefault,
      prompt: 'go',
      spendgate: spendgate('ai-default-stop'),
    });
    expect(withDefault.doGenerateCalls).toHaveLength(1);

    const withOwn = scriptedLanguageModel(relentless());
    await generateTextWithBudget({
      model: withOwn,
      prompt: 'go',
      stopWhen: stepCountIs(2),
      spendgate: spendgate('ai-own-stop'),
    });
    expect(withOwn.doGenerateCalls).toHaveLength(2);
  });

  it('budgetRefused() is the same stop, for a generateText call of your own', async () => {
    const run = await createRun({
      client: stack.client,
      budget: budget('ai-own-call'),
      tools: [chargeCustomerTool()],
    }).start();
    const model = scriptedLanguageModel(relentless());
    try {
      await generateText({
        model,
        prompt: 'go',
        tools: aiSdkTools(run),
        stopWhen: [stepCountIs(20), budgetRefused()],
      });
    } finally {
      await run.end();
    }
    expect(model.doGenerateCalls).toHaveLength(3);
  });

  it('a cap held by calls still in flight is retryable and says so; the spent cap then ends the loop', async () => {
    // Two of three parallel charges are admitted and held at Stripe; the third is refused meanwhile.
    stack.fakes.stripe.delayNext(500, 2);
    const model = scriptedLanguageModel([
      () => ({
        toolCalls: ['p1', 'p2', 'p3'].map((id) => ({ id, name: 'charge_customer', input: chargeInput() })),
      }),
      ...relentless(),
    ]);
    const { result, spendgate: outcome } = await generateTextWithBudget({
      model,
      prompt: 'go',
      stopWhen: stepCountIs(20),
      spendgate: spendgate('ai-in-flight'),
    });
    const first = result.steps[0]?.toolResults.map((r) => r.output as Record<string, unknown>) ?? [];
    expect(first.filter((o) => o.ok === true)).toHaveLength(2);
    const held = first.find((o) => o.ok === false);
    expect(held).toMatchObject({
      error: 'cap_exhausted',
      retryable: true,
      budget: 'in_flight',
      reserved_usd: 40,
      retry_after_seconds: 30,
    });
    expect(held?.message).toMatch(/held by calls still in flight/);
    // The next charge meets a spent budget, and that ends the loop.
    expect(outcome.stoppedBy).toMatchObject({ toolCallId: 'c1', code: 'cap_exhausted', spentUsd: 40 });
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('revokes the keys when generateText throws mid-way, and onRunEnd still gets the run', async () => {
    const ends: RunEnd[] = [];
    const model = scriptedLanguageModel([
      charge('c1'),
      () => {
        throw new Error('model crashed');
      },
    ]);
    await expect(
      generateTextWithBudget({
        model,
        prompt: 'go',
        stopWhen: stepCountIs(5),
        maxRetries: 0,
        spendgate: spendgate('ai-throw', {
          onRunEnd: (end) => {
            ends.push(end);
          },
        }),
      }),
    ).rejects.toThrow('model crashed');
    expect(await stack.keyStatuses('ai-throw')).toEqual(['revoked']);
    expect(ends.map((end) => end.failed)).toEqual([true]);
    expect(ends[0]?.run.keys.map((k) => k.label)).toEqual(['ai-throw']);
  });

  it('revokes the keys when generateText is aborted', async () => {
    const controller = new AbortController();
    const model = scriptedLanguageModel([
      charge('c1'),
      (options) => {
        controller.abort(new Error('user pressed stop'));
        return charge('c2')(options);
      },
      () => text('unreachable'),
    ]);
    await expect(
      generateTextWithBudget({
        model,
        prompt: 'go',
        stopWhen: stepCountIs(5),
        abortSignal: controller.signal,
        spendgate: spendgate('ai-abort'),
      }),
    ).rejects.toThrow();
    expect(await stack.keyStatuses('ai-abort')).toEqual(['revoked']);
  });

  it('streamText: the keys are revoked before the text resolves, and `ended` says how it went', async () => {
    const before = stack.charges();
    const ok = await streamTextWithBudget({
      model: scriptedLanguageModel([charge('c1'), () => text('done')]),
      prompt: 'go',
      stopWhen: stepCountIs(10),
      spendgate: spendgate('ai-stream'),
    });
    expect(await ok.result.text).toBe('done');
    // Checked in the same tick as the text: the revoke has already finished, so a process that exits
    // right here leaves no live key.
    expect(ok.run.state).toBe('ended');
    expect(await stack.keyStatuses('ai-stream')).toEqual(['revoked']);
    expect(stack.charges() - before).toBe(1);
    await expect(ok.ended).resolves.toMatchObject({ failed: false, stoppedBy: null });

    const failing = await streamTextWithBudget({
      model: scriptedLanguageModel([
        charge('c1'),
        () => {
          throw new Error('model crashed');
        },
      ]),
      prompt: 'go',
      stopWhen: stepCountIs(10),
      maxRetries: 0,
      onError: () => undefined,
      spendgate: spendgate('ai-stream-error'),
    });
    await failing.result.consumeStream({ onError: () => undefined });
    const end = await failing.ended;
    expect(end.failed && end.error).toMatchObject({ message: 'model crashed' });
    expect(await stack.keyStatuses('ai-stream-error')).toEqual(['revoked']);
  });

  it('streamText: ends the loop at the first budget refusal too', async () => {
    const before = stack.charges();
    const model = scriptedLanguageModel(relentless());
    const { result, ended } = await streamTextWithBudget({
      model,
      prompt: 'go',
      stopWhen: stepCountIs(20),
      spendgate: spendgate('ai-stream-runaway'),
    });
    const steps = await result.steps;
    expect(stack.charges() - before).toBe(2);
    expect(model.doStreamCalls).toHaveLength(3);
    expect(outputsOf(steps).at(-1)).toMatchObject({ error: 'cap_exhausted', retryable: false });
    expect((await ended).stoppedBy).toMatchObject({ toolCallId: 'c3', code: 'cap_exhausted' });
    expect(await stack.keyStatuses('ai-stream-runaway')).toEqual(['revoked']);
  });

  it('leaves no key active after 100 runs that succeed, throw or abort', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 100; i += 1) {
      const controller = new AbortController();
      const last: AiStep =
        i % 10 === 3
          ? () => {
              throw new Error('model crashed');
            }
          : i % 10 === 7
            ? (options) => {
                // Aborting while nothing is pending lets generateText finish; abort before a tool call runs.
                controller.abort();
                return charge(`c${i}b`, 100)(options);
              }
            : () => text('done');
      outcomes.push(
        await outcomeOf(
          generateTextWithBudget({
            model: scriptedLanguageModel([charge(`c${i}`, 100), last]),
            prompt: 'go',
            stopWhen: stepCountIs(5),
            maxRetries: 0,
            abortSignal: controller.signal,
            spendgate: { ...spendgate(`ai-100-${i}`), budget: budget(`ai-100-${i}`, 5) },
          }),
          controller.signal,
        ),
      );
    }
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(80);
    expect(outcomes.filter((o) => o === 'model crashed')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'aborted')).toHaveLength(10);
    expect(await stack.activeKeys()).toEqual([]);
    expect((await stack.client.listKeys({ labelPrefix: 'ai-100-', limit: 500 })).data).toHaveLength(100);
  });

  it('least privilege: an agent with only the SMS tool has no key that reaches Stripe', async () => {
    const stripeBefore = stack.fakes.stripe.requests.length;
    const smsBefore = stack.smsSent();
    const run = createRun({
      client: stack.client,
      budget: budget('ai-least'),
      tools: [sendSmsTool({ from: '+15017122661' })],
    });
    // A rogue tool in the same call gets hold of the run's key and tries Stripe with it.
    const probe = tool({
      description: 'test probe',
      inputSchema: z.object({}),
      execute: () => stack.tryStripeWith(run.credentialFor('twilio')?.token ?? ''),
    });
    const model = scriptedLanguageModel([
      (options) => {
        expect(options.tools?.map((t) => t.name).sort()).toEqual(['probe_stripe', 'send_sms']);
        return toolCall('send_sms', { to: '+15558675310', body: 'Your order shipped' }, 's1');
      },
      charge('c1'),
      () => toolCall('probe_stripe', {}, 'p1'),
      () => text('done'),
    ]);
    const result = await (async () => {
      try {
        await run.start();
        return await generateText({
          model,
          prompt: 'Text the customer.',
          stopWhen: stepCountIs(10),
          tools: { ...aiSdkTools(run), probe_stripe: probe },
        });
      } finally {
        await run.end();
      }
    })();
    expect(run.keys.map((k) => k.vendor)).toEqual(['twilio']);
    const parts = result.steps.flatMap((s) => s.content);
    expect(parts.find((p) => p.type === 'tool-result' && p.toolCallId === 's1')).toMatchObject({
      output: { ok: true },
    });
    // The model cannot charge: there is no such tool, and the SDK answers with a tool error.
    expect(parts.find((p) => p.type === 'tool-error' && p.toolCallId === 'c1')).toBeDefined();
    expect(parts.find((p) => p.type === 'tool-result' && p.toolCallId === 'p1')).toMatchObject({
      output: [403, 403],
    });
    expect(stack.fakes.stripe.requests.length).toBe(stripeBefore);
    expect(stack.smsSent() - smsBefore).toBe(1);
  });
});
