import { generateText, stepCountIs, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  aiSdkTools,
  chargeCustomerTool,
  generateTextWithBudget,
  sendSmsTool,
  streamTextWithBudget,
  type RunBudget,
  type RunOptions,
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
const spendgate = (label: string, extra: Partial<RunOptions> = {}): RunOptions => ({
  client: stack.client,
  budget: budget(label),
  tools: [chargeCustomerTool()],
  ...extra,
});
const charge =
  (id: string, amount = 2000): AiStep =>
  () =>
    toolCall('charge_customer', { customer: 'cus_ada', amount, currency: 'usd', description: 'Top-up' }, id);

describe('Vercel AI SDK', () => {
  it('stops a runaway agent at the cap: 2 charges reach Stripe, the model sees do-not-retry', async () => {
    const before = stack.charges();
    const model = scriptedLanguageModel([
      charge('c1'),
      charge('c2'),
      charge('c3'),
      charge('c4'),
      () => text('Stopped at the budget.'),
    ]);
    const { result, run } = await generateTextWithBudget({
      model,
      prompt: 'Charge cus_ada $20 until told otherwise.',
      stopWhen: stepCountIs(10),
      spendgate: spendgate('ai-runaway'),
    });

    expect(stack.charges() - before).toBe(2);
    // The 4th model call carried the refusal of c3, flagged as an error result.
    const shown = toolResultsSeen(model.doGenerateCalls[3]!).get('c3');
    expect(shown?.type).toBe('error-json');
    expect(shown?.value).toMatchObject({ ok: false, error: 'cap_exhausted', retryable: false });
    // The conversation shows every result.
    const outputs = result.steps.flatMap((step) =>
      step.toolResults.map((r) => r.output as Record<string, unknown>),
    );
    expect(outputs).toHaveLength(4);
    expect(outputs[0]).toMatchObject({ ok: true, remaining_budget_usd: 30 });
    expect(outputs[2]).toMatchObject({ error: 'cap_exhausted', retryable: false });
    expect(outputs[3]).toMatchObject({ error: 'cap_exhausted', retryable: false });
    expect(result.text).toBe('Stopped at the budget.');
    expect((await stack.client.getKey(run.keys[0]?.id ?? '')).status).toBe('revoked');
  });

  it('revokes the keys when generateText throws mid-way', async () => {
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
        spendgate: spendgate('ai-throw'),
      }),
    ).rejects.toThrow('model crashed');
    expect(await stack.keyStatuses('ai-throw')).toEqual(['revoked']);
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

  it('streamText: revokes on finish, and on error', async () => {
    const before = stack.charges();
    const ok = await streamTextWithBudget({
      model: scriptedLanguageModel([charge('c1'), charge('c2'), charge('c3'), () => text('done')]),
      prompt: 'go',
      stopWhen: stepCountIs(10),
      spendgate: spendgate('ai-stream'),
    });
    expect(await ok.result.text).toBe('done');
    expect(stack.charges() - before).toBe(2);
    const outputs = (await ok.result.steps).flatMap((s) =>
      s.toolResults.map((r) => r.output as Record<string, unknown>),
    );
    expect(outputs[2]).toMatchObject({ error: 'cap_exhausted', retryable: false });
    // onFinish ended the run; nobody called end().
    await vi.waitFor(() => expect(ok.run.state).toBe('ended'));
    expect(await stack.keyStatuses('ai-stream')).toEqual(['revoked']);

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
      spendgate: spendgate('ai-stream-error'),
    });
    await failing.result.consumeStream({ onError: () => undefined });
    // onError ended the run.
    await vi.waitFor(() => expect(failing.run.state).toBe('ended'));
    expect(await stack.keyStatuses('ai-stream-error')).toEqual(['revoked']);
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
