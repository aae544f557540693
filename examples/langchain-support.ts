/**
 * A support agent on LangChain v1 (`createAgent`) that charges a re-delivery fee, which a person must approve
 * because it is above $25, and then texts customers under a 2-cent SMS budget.
 *
 *   npx tsx examples/langchain-support.ts
 *
 * Offline by default: a scripted model and a sandbox proxy whose vendors are in-process fakes. With
 * `OPENAI_API_KEY` set, a real model decides (this path needs `@langchain/openai` installed); with
 * `SPENDGATE_URL` and `SPENDGATE_ADMIN_TOKEN` set, a proxy you run yourself is used.
 *
 * The wiring is one middleware: it adds the tools, gives each invocation its own run (a reused agent gets
 * fresh keys), ends the loop at the first budget refusal, and revokes the keys; calling the agent through
 * `spendgate.invoke` revokes them on every failure too. The fee pauses the graph (LangGraph's `interrupt()`,
 * hence the checkpointer) with a `HITLRequest`; the terminal asks you, and the answer resumes it with a
 * `Command`. Without a terminal (piped, CI) the fee is approved automatically.
 */
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent, HumanMessage, initChatModel, ToolMessage, type HITLRequest } from 'langchain';
import { createInterface } from 'node:readline/promises';
import { chargeCustomerTool, sendSmsTool, spendgateMiddleware } from 'spendgate/langchain';
import { offlineLangChainModel } from './offline/langchain-model.js';
import { createScript } from './offline/script.js';
import { connectProxy, OPENAI_MODEL, useRealModel } from './shared/connect.js';
import { printKeySpend, printStop, printToolCall } from './shared/print.js';

const fee = { customer: 'cus_ada', amount: 3000, currency: 'usd', description: 'Re-delivery, order 1001' };
const shipped = [
  { to: '+15558675310', body: 'Hi Ada, order 1001 has shipped and arrives Thursday.' },
  { to: '+15558675311', body: 'Hi Grace, order 1002 has shipped and arrives Friday.' },
  { to: '+15558675312', body: 'Hi Alan, order 1003 has shipped and arrives Monday.' },
];

/** Asks on the terminal; approves by itself when there is none, so the offline demo never hangs. */
async function decide(request: HITLRequest): Promise<'approve' | 'reject'> {
  const [action] = request.actionRequests;
  console.log(`  ⏸ ${action?.description ?? 'approval needed'}\n    ${JSON.stringify(action?.args)}`);
  if (!process.stdin.isTTY) {
    console.log('    (no terminal: approving)');
    return 'approve';
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await prompt.question('    Approve? [y/N] ');
    return /^y(es)?$/i.test(answer.trim()) ? 'approve' : 'reject';
  } finally {
    prompt.close();
  }
}

const real = useRealModel();
const proxy = await connectProxy();
try {
  const keyIds: string[] = [];
  const spendgate = spendgateMiddleware({
    client: proxy.client,
    budget: {
      label: `support-${Date.now()}`,
      ttl: '10m',
      // $0.0083 a segment: two texts fit in two cents, the third does not. Charges above $25 need a person.
      caps: { twilio: { usdCap: 0.02 }, stripe: { usdCap: 50, approvalAboveUsd: 25 } },
    },
    tools: [chargeCustomerTool(), sendSmsTool({ from: '+15017122661' })],
    onRunEnd: ({ run }) => {
      keyIds.push(...run.keys.map((key) => key.id));
    },
  });
  const calls = [
    { name: 'charge_customer', args: fee },
    ...shipped.map((args) => ({ name: 'send_sms', args })),
  ];
  const model = real
    ? await initChatModel(OPENAI_MODEL, { modelProvider: 'openai' })
    : offlineLangChainModel(createScript({ calls, stopOnRefusal: true }));
  const agent = createAgent({
    model,
    middleware: [spendgate],
    checkpointer: new MemorySaver(),
    systemPrompt:
      'You are a support agent. First charge the re-delivery fee with charge_customer, then text each customer ' +
      'about their shipped order with send_sms, one text each. ' +
      'If a tool result has "retryable": false, stop at once and report its message.',
  });

  console.log(
    `Support agent (${real ? OPENAI_MODEL : 'offline script'}) via ${proxy.sandbox ? 'sandbox ' : ''}proxy ${proxy.proxyUrl}`,
  );
  const config = { configurable: { thread_id: `support-${Date.now()}` }, recursionLimit: 20 };
  const task = `Charge this re-delivery fee: ${JSON.stringify(fee)}. These orders shipped; text the customers: ${JSON.stringify(shipped)}`;
  let result = await spendgate.invoke(agent, { messages: [new HumanMessage(task)] }, config);
  // Each pause is one approval; bounded, like the agent's own recursion limit.
  for (let pauses = 0; result.__interrupt__?.length && pauses < 5; pauses += 1) {
    const [pending] = result.__interrupt__;
    const decision = await decide(pending?.value as HITLRequest);
    result = await spendgate.invoke(
      agent,
      new Command({ resume: { decisions: [{ type: decision }] } }),
      config,
    );
  }

  const argsById = new Map<string, unknown>();
  for (const message of result.messages) {
    for (const call of 'tool_calls' in message && Array.isArray(message.tool_calls)
      ? message.tool_calls
      : []) {
      argsById.set(String(call.id), call.args);
    }
    if (ToolMessage.isInstance(message))
      printToolCall(
        message.name ?? 'tool',
        argsById.get(message.tool_call_id),
        message.artifact ?? message.content,
      );
  }
  console.log(`Agent: ${String(result.messages.at(-1)?.content)}`);
  printStop(result.spendgate?.stoppedBy ?? null);
  for (const keyId of keyIds) await printKeySpend(proxy.client, keyId);
} finally {
  await proxy.close();
}
