/**
 * A billing agent on the OpenAI Agents SDK, under a $50 run budget where any charge above $25 needs a person.
 *
 *   npx tsx examples/openai-agents-billing.ts
 *
 * Offline by default: a scripted model and a sandbox proxy whose vendors are in-process fakes. With
 * `OPENAI_API_KEY` set, a real model (`OPENAI_MODEL`, default gpt-4.1-mini) decides what to call; with
 * `SPENDGATE_URL` and `SPENDGATE_ADMIN_TOKEN` set, a proxy you run yourself is used.
 *
 * `runAgentWithBudget` issues the run's Stripe key, ends the run at the first budget refusal (the model gets
 * no turn to retry it), and revokes the key however the run ends; `onRunEnd` hears about it even on failure.
 * The $30 order pauses the run through the SDK's own `needsApproval` (`result.interruptions`): you are asked
 * in the terminal (approved automatically without one), the answer goes to `result.state.approve()` or
 * `reject()`, and `resume()` goes on under the same key and the same $50.
 */
import { createInterface } from 'node:readline/promises';
import { Agent, setTracingDisabled, type RunItem } from '@openai/agents';
import {
  chargeCustomerTool,
  runAgentWithBudget,
  type BudgetedRunResult,
  type PendingSpendApproval,
} from 'spendgate/openai-agents';
import { OfflineOpenAIModel } from './offline/openai-model.js';
import { createScript } from './offline/script.js';
import { connectProxy, OPENAI_MODEL, useRealModel } from './shared/connect.js';
import { printKeySpend, printStop, printToolCall } from './shared/print.js';

const orders = [
  { customer: 'cus_ada', amount: 2000, currency: 'usd', description: 'Order 1001' },
  { customer: 'cus_grace', amount: 3000, currency: 'usd', description: 'Order 1002' },
  { customer: 'cus_alan', amount: 2000, currency: 'usd', description: 'Order 1003' },
];

const real = useRealModel();
if (!real) setTracingDisabled(true); // nothing to upload to without a key
const proxy = await connectProxy();
try {
  const agent = new Agent({
    name: 'billing',
    instructions:
      'You bill customers for their orders with charge_customer, one call per order, amounts in cents. ' +
      'If a tool result has "retryable": false, stop at once and report its message.',
    model: real
      ? OPENAI_MODEL
      : new OfflineOpenAIModel(
          createScript({
            calls: orders.map((args) => ({ name: 'charge_customer', args })),
            stopOnRefusal: true,
          }),
        ),
  });

  console.log(
    `Billing agent (${real ? OPENAI_MODEL : 'offline script'}) via ${proxy.sandbox ? 'sandbox ' : ''}proxy ${proxy.proxyUrl}`,
  );
  let outcome = await runAgentWithBudget({
    client: proxy.client,
    agent,
    input: `Bill these orders: ${JSON.stringify(orders)}`,
    budget: {
      label: `billing-${Date.now()}`,
      ttl: '10m',
      caps: { stripe: { usdCap: 50, maxUsdPerCall: 40, approvalAboveUsd: 25 } },
    },
    tools: [chargeCustomerTool({ metadata: { agent: 'billing' } })],
    runOptions: { maxTurns: 10 },
    onRunEnd: ({ run: ended, failed }) => {
      console.log(
        `Run ${ended.id} ${failed ? 'failed' : 'finished'}; keys: ${ended.keys.map((k) => k.id).join(', ')}`,
      );
    },
  });

  // Paused: the run's key is still live, and stays so until it is resumed to the end (or `end()`).
  while (outcome.resume) {
    await decide(outcome);
    outcome = await outcome.resume();
  }
  const { result, run, spendgate } = outcome;

  printCalls(result.newItems); // a resumed result holds the items from before its pauses too
  console.log(`Agent: ${String(result.finalOutput)}`);
  printStop(spendgate.stoppedBy);
  for (const key of run.keys) await printKeySpend(proxy.client, key.id);
} finally {
  await proxy.close();
}

/** Asks a person about each paused charge; without a terminal (CI, a pipe) it approves, so the demo runs. */
async function decide(paused: BudgetedRunResult<undefined, Agent>): Promise<void> {
  const terminal = process.stdin.isTTY
    ? createInterface({ input: process.stdin, output: process.stdout })
    : null;
  try {
    for (const pending of paused.approvals) {
      const question = `Approve ${describe(pending)}? [y/N] `;
      const answer = terminal ? await terminal.question(question) : 'y';
      if (!terminal) console.log(`${question}y (no terminal: approved)`);
      if (/^y(es)?$/i.test(answer.trim())) paused.result.state.approve(pending.item);
      // The model is then told `approval_denied` (not retryable), and the run ends on it.
      else paused.result.state.reject(pending.item);
    }
  } finally {
    terminal?.close();
  }
}

function describe(pending: PendingSpendApproval): string {
  const amount = typeof pending.amountUsd === 'number' ? `$${pending.amountUsd.toFixed(2)}` : 'an amount';
  return `${pending.tool} for ${amount} (${JSON.stringify(pending.arguments)})`;
}

/** One line per tool call and its result, in the order the run made them. */
function printCalls(items: readonly RunItem[]): void {
  const calls = new Map<string, unknown>();
  for (const item of items) {
    if (item.type === 'tool_call_item' && item.rawItem.type === 'function_call')
      calls.set(item.rawItem.callId, item.rawItem.arguments);
    if (item.type === 'tool_call_output_item' && item.rawItem.type === 'function_call_result') {
      printToolCall(
        item.rawItem.name,
        JSON.parse(String(calls.get(item.rawItem.callId) ?? '{}')),
        item.output,
      );
    }
  }
}
