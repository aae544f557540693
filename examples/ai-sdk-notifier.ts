/**
 * A notifier on the Vercel AI SDK that emails customers, under a 1-cent email budget.
 *
 *   npx tsx examples/ai-sdk-notifier.ts
 *
 * Offline by default: a scripted model and a sandbox proxy whose vendors are in-process fakes. With
 * `OPENAI_API_KEY` set, a real model decides (this path needs `@ai-sdk/openai` installed); with
 * `SPENDGATE_URL` and `SPENDGATE_ADMIN_TOKEN` set, a proxy you run yourself is used.
 *
 * `generateTextWithBudget` issues the run's key before `generateText` and revokes it when it settles, and
 * adds a `stopWhen` condition to yours that ends the loop at the first budget refusal.
 */
import { stepCountIs, type LanguageModel } from 'ai';
import { generateTextWithBudget, sendEmailTool } from 'spendgate/ai-sdk';
import { offlineAiSdkModel } from './offline/ai-sdk-model.js';
import { createScript } from './offline/script.js';
import { connectProxy, OPENAI_MODEL, useRealModel } from './shared/connect.js';
import { printKeySpend, printStop, printToolCall } from './shared/print.js';

const notices = [
  { to: ['ada@example.com'], subject: 'Your invoice is ready', text: 'Invoice 1001 is attached.' },
  {
    to: ['grace@example.com', 'grace.billing@example.com'],
    subject: 'Your invoice is ready',
    text: 'Invoice 1002 is attached.',
  },
  { to: ['alan@example.com'], subject: 'Your invoice is ready', text: 'Invoice 1003 is attached.' },
];

/** The real model, loaded only when asked for, so the offline path needs no provider package. */
async function realModel(): Promise<LanguageModel> {
  const specifier = '@ai-sdk/openai';
  const provider = (await import(specifier).catch(() => {
    throw new Error('The real-model path needs the OpenAI provider: npm install @ai-sdk/openai');
  })) as { openai: (modelId: string) => LanguageModel };
  return provider.openai(OPENAI_MODEL);
}

const real = useRealModel();
const proxy = await connectProxy();
try {
  console.log(
    `Notifier (${real ? OPENAI_MODEL : 'offline script'}) via ${proxy.sandbox ? 'sandbox ' : ''}proxy ${proxy.proxyUrl}`,
  );
  const { result, run, spendgate } = await generateTextWithBudget({
    model: real
      ? await realModel()
      : offlineAiSdkModel(
          createScript({ calls: notices.map((args) => ({ name: 'send_email', args })), stopOnRefusal: true }),
        ),
    system:
      'You email customers their invoice notices with send_email, one email per notice. ' +
      'If a tool result has "retryable": false, stop at once and report its message.',
    prompt: `Send these notices: ${JSON.stringify(notices)}`,
    stopWhen: stepCountIs(10),
    spendgate: {
      client: proxy.client,
      // Resend is priced per recipient: three recipients fit in the budget, the fourth does not.
      budget: { label: `notifier-${Date.now()}`, ttl: '10m', caps: { resend: { usdCap: 0.003 } } },
      tools: [sendEmailTool({ from: 'Acme Billing <billing@acme.test>' })],
    },
  });

  for (const step of result.steps) {
    for (const call of step.toolResults) printToolCall(call.toolName, call.input, call.output);
  }
  // After a budget stop the model had no last word; the stop's message says what happened instead.
  console.log(`Agent: ${spendgate.stoppedBy?.message ?? result.text}`);
  printStop(spendgate.stoppedBy);
  for (const key of run.keys) await printKeySpend(proxy.client, key.id);
} finally {
  await proxy.close();
}
