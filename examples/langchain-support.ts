/**
 * A support agent on LangChain v1 (`createAgent`) that texts customers, under a 2-cent SMS budget.
 *
 *   npx tsx examples/langchain-support.ts
 *
 * Offline by default: a scripted model and a sandbox proxy whose vendors are in-process fakes. With
 * `OPENAI_API_KEY` set, a real model decides (this path needs `@langchain/openai` installed); with
 * `SPENDGATE_URL` and `SPENDGATE_ADMIN_TOKEN` set, a proxy you run yourself is used.
 *
 * The wiring is one middleware: it adds the SMS tool, gives each invocation its own run (a reused agent gets
 * fresh keys), ends the loop at the first budget refusal, and revokes the keys; calling the agent through
 * `spendgate.invoke` revokes them on every failure too.
 */
import { createAgent, HumanMessage, initChatModel, ToolMessage } from 'langchain';
import { sendSmsTool, spendgateMiddleware } from 'spendgate/langchain';
import { offlineLangChainModel } from './offline/langchain-model.js';
import { createScript } from './offline/script.js';
import { connectProxy, OPENAI_MODEL, useRealModel } from './shared/connect.js';
import { printKeySpend, printStop, printToolCall } from './shared/print.js';

const shipped = [
  { to: '+15558675310', body: 'Hi Ada, order 1001 has shipped and arrives Thursday.' },
  { to: '+15558675311', body: 'Hi Grace, order 1002 has shipped and arrives Friday.' },
  { to: '+15558675312', body: 'Hi Alan, order 1003 has shipped and arrives Monday.' },
];

const real = useRealModel();
const proxy = await connectProxy();
try {
  const keyIds: string[] = [];
  const spendgate = spendgateMiddleware({
    client: proxy.client,
    // $0.0083 a segment: two texts fit in two cents, the third does not.
    budget: { label: `support-${Date.now()}`, ttl: '10m', caps: { twilio: { usdCap: 0.02 } } },
    tools: [sendSmsTool({ from: '+15017122661' })],
    onRunEnd: ({ run }) => {
      keyIds.push(...run.keys.map((key) => key.id));
    },
  });
  const model = real
    ? await initChatModel(OPENAI_MODEL, { modelProvider: 'openai' })
    : offlineLangChainModel(
        createScript({ calls: shipped.map((args) => ({ name: 'send_sms', args })), stopOnRefusal: true }),
      );
  const agent = createAgent({
    model,
    middleware: [spendgate],
    systemPrompt:
      'You are a support agent. Text each customer about their shipped order with send_sms, one text each. ' +
      'If a tool result has "retryable": false, stop at once and report its message.',
  });

  console.log(
    `Support agent (${real ? OPENAI_MODEL : 'offline script'}) via ${proxy.sandbox ? 'sandbox ' : ''}proxy ${proxy.proxyUrl}`,
  );
  const result = await spendgate.invoke(
    agent,
    { messages: [new HumanMessage(`These orders shipped; text the customers: ${JSON.stringify(shipped)}`)] },
    { recursionLimit: 20 },
  );

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
