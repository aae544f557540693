/**
 * A notifier on the Vercel AI SDK that charges an overdue customer a late fee and emails customers, under a
 * $50 Stripe budget that needs a person's approval above $25, and a 1-cent email budget.
 *
 *   npx tsx examples/ai-sdk-notifier.ts
 *
 * Offline by default: a scripted model and a sandbox proxy whose vendors are in-process fakes. With
 * `OPENAI_API_KEY` set, a real model decides (this path needs `@ai-sdk/openai` installed); with
 * `SPENDGATE_URL` and `SPENDGATE_ADMIN_TOKEN` set, a proxy you run yourself is used.
 *
 * `generateTextWithBudget` issues the run's key before `generateText` and revokes it when it settles, and
 * adds a `stopWhen` condition to yours that ends the loop at the first budget refusal.
 *
 * The $30 late fee is above `approvalAboveUsd`, so the SDK's tool approval pauses it: the first call returns a
 * `tool-approval-request`, you are asked in the terminal (approved automatically without one), and a second
 * call carries your `tool-approval-response`. That call is a new run with its own key. There the charge is
 * sent once, with a grant the run obtains from the proxy; a denial sends nothing and ends the run.
 */
import { createInterface } from 'node:readline/promises';
import { stepCountIs, type LanguageModel, type ModelMessage } from 'ai';
import {
  approvalRequests,
  approvalResponses,
  chargeCustomerTool,
  generateTextWithBudget,
  sendEmailTool,
  type ApprovalDecisionInput,
  type ApprovalRequest,
} from 'spendgate/ai-sdk';
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
const lateFee = {
  customer: 'cus_grace',
  amount: 3000,
  currency: 'usd',
  description: 'Late fee, invoice 0998',
};

/** The real model, loaded only when asked for, so the offline path needs no provider package. */
async function realModel(): Promise<LanguageModel> {
  const specifier = '@ai-sdk/openai';
  const provider = (await import(specifier).catch(() => {
    throw new Error('The real-model path needs the OpenAI provider: npm install @ai-sdk/openai');
  })) as { openai: (modelId: string) => LanguageModel };
  return provider.openai(OPENAI_MODEL);
}

/** Asks in the terminal; without one (CI, a pipe) it approves, so the offline demo runs unattended. */
async function askPerson(requests: readonly ApprovalRequest[]): Promise<ApprovalDecisionInput[]> {
  const decisions: ApprovalDecisionInput[] = [];
  const terminal = process.stdin.isTTY
    ? createInterface({ input: process.stdin, output: process.stdout })
    : null;
  try {
    for (const request of requests) {
      const question = `Approve ${request.toolName}(${JSON.stringify(request.input)})? [y/N] `;
      const answer = terminal ? await terminal.question(question) : 'y';
      if (!terminal) console.log(`${question}y (no terminal: approved)`);
      decisions.push({ request, approved: /^y(es)?$/i.test(answer.trim()) });
    }
  } finally {
    terminal?.close();
  }
  return decisions;
}

/**
 * The calls a person decided on. The SDK settles them before the continuation's first step, so their results
 * are in its first response message, not in any step.
 */
function printDecided(first: ModelMessage | undefined, requests: readonly ApprovalRequest[]): void {
  if (first?.role !== 'tool') return;
  for (const part of first.content) {
    if (part.type !== 'tool-result') continue;
    const input = requests.find((r) => r.toolCallId === part.toolCallId)?.input;
    const { output } = part;
    const shown =
      output.type === 'execution-denied'
        ? { ok: false, error: 'approval_denied', retryable: false, message: output.reason }
        : 'value' in output
          ? output.value
          : undefined;
    printToolCall(part.toolName, input, shown);
  }
}

const real = useRealModel();
const proxy = await connectProxy();
try {
  console.log(
    `Notifier (${real ? OPENAI_MODEL : 'offline script'}) via ${proxy.sandbox ? 'sandbox ' : ''}proxy ${proxy.proxyUrl}`,
  );
  const model = real
    ? await realModel()
    : offlineAiSdkModel(
        createScript({
          calls: [
            { name: 'charge_customer', args: lateFee },
            ...notices.map((args) => ({ name: 'send_email', args })),
          ],
          stopOnRefusal: true,
        }),
      );
  // Both calls' runs share the label, so `spendgate audit --label` shows the pause and the charge together.
  const label = `notifier-${Date.now()}`;
  const call = (messages: ModelMessage[]) =>
    generateTextWithBudget({
      model,
      system:
        'You charge the late fee with charge_customer, then email customers their invoice notices with ' +
        'send_email, one email per notice. If a tool result has "retryable": false, stop at once and report its message.',
      messages,
      stopWhen: stepCountIs(10),
      spendgate: {
        client: proxy.client,
        budget: {
          label,
          ttl: '10m',
          caps: {
            // A charge above $25 waits for a person; the proxy refuses it without a grant either way.
            stripe: { usdCap: 50, approvalAboveUsd: 25 },
            // Resend is priced per recipient: three recipients fit in the budget, the fourth does not.
            resend: { usdCap: 0.003 },
          },
        },
        tools: [chargeCustomerTool(), sendEmailTool({ from: 'Acme Billing <billing@acme.test>' })],
      },
    });

  const ask: ModelMessage[] = [
    {
      role: 'user',
      content: `Charge this late fee: ${JSON.stringify(lateFee)}. Then send these notices: ${JSON.stringify(notices)}`,
    },
  ];
  let outcome = await call(ask);
  const requests = approvalRequests(outcome.result.content);
  if (requests.length > 0) {
    console.log(`Paused for approval: ${requests.length} call(s); nothing was sent.`);
    for (const key of outcome.run.keys) await printKeySpend(proxy.client, key.id);
    const answer = approvalResponses(await askPerson(requests));
    outcome = await call([...ask, ...outcome.result.response.messages, answer]);
  }
  const { result, run, spendgate } = outcome;

  if (requests.length > 0) printDecided(result.response.messages[0], requests);
  for (const step of result.steps) {
    for (const toolResult of step.toolResults)
      printToolCall(toolResult.toolName, toolResult.input, toolResult.output);
  }
  // After a budget stop the model had no last word; the stop's message says what happened instead.
  console.log(`Agent: ${spendgate.stoppedBy?.message ?? result.text}`);
  printStop(spendgate.stoppedBy);
  for (const key of run.keys) await printKeySpend(proxy.client, key.id);
} finally {
  await proxy.close();
}
