/**
 * The OpenAI Agents SDK using spendgate over MCP: `MCPServerStdio` launches `spendgate mcp --stdio`, which
 * serves `charge_customer` and `spendgate_budget` under a $30 budget for this one session.
 *
 *   npx tsx examples/mcp/openai-agents-stdio.ts
 *
 * Offline by default: a scripted model and a sandbox proxy whose vendors are in-process fakes. With
 * `OPENAI_API_KEY` set, a real model (`OPENAI_MODEL`, default gpt-4.1-mini) decides what to call; with
 * `SPENDGATE_URL` and `SPENDGATE_ADMIN_TOKEN` set, a proxy you run yourself is used.
 *
 * The MCP server is a separate process: it gets the proxy's URL and the admin token in its environment, and
 * the agent (and the model) never see either. In an application the command is `npx spendgate mcp --stdio`.
 *
 * The Agents SDK's MCP client declares no elicitation capability, so with `--approval-usd` a charge above
 * the threshold comes back as a non-retryable `approval_required` (nothing is charged); see
 * `approve-in-terminal.ts` for a client that asks a person.
 */
import { fileURLToPath } from 'node:url';
import { Agent, MCPServerStdio, run, setTracingDisabled } from '@openai/agents';
import { OfflineOpenAIModel } from '../offline/openai-model.js';
import { createScript } from '../offline/script.js';
import { OPENAI_MODEL, useRealModel } from '../shared/connect.js';
import { printKeySpend, printToolCall } from '../shared/print.js';
import { McpOfflineModel } from './offline-model.js';
import { proxyForExample } from './proxy.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const orders = ['1001', '1002', '1003', '1004'].map((order) => ({
  customer: 'cus_ada',
  amount: 1000,
  currency: 'usd',
  description: `Order ${order}`,
}));

const real = useRealModel();
if (!real) setTracingDisabled(true); // nothing to upload to without a key
const proxy = await proxyForExample();
const mcp = new MCPServerStdio({
  name: 'spendgate',
  // From source here; `npx spendgate mcp --stdio --stripe-usd-cap 30` once installed.
  command: process.execPath,
  args: ['--import', 'tsx', 'src/cli/bin.ts', 'mcp', '--stdio', '--stripe-usd-cap', '30'],
  cwd: repoRoot,
  env: {
    PATH: process.env.PATH ?? '',
    SPENDGATE_URL: proxy.url,
    SPENDGATE_ADMIN_TOKEN: proxy.adminToken,
  },
});
try {
  await mcp.connect();
  const agent = new Agent({
    name: 'billing',
    instructions:
      'You bill customers with charge_customer, one call per order, amounts in cents. Check spendgate_budget first. ' +
      'If a tool result has "retryable": false, stop at once and report its message.',
    mcpServers: [mcp],
    model: real
      ? OPENAI_MODEL
      : new McpOfflineModel(
          new OfflineOpenAIModel(
            createScript({
              calls: [
                { name: 'spendgate_budget', args: {} },
                ...orders.map((args) => ({ name: 'charge_customer', args })),
              ],
              stopOnRefusal: true,
            }),
          ),
        ),
  });
  console.log(
    `Billing agent (${real ? OPENAI_MODEL : 'offline script'}) via MCP stdio and ${proxy.sandbox ? 'sandbox ' : ''}proxy ${proxy.url}`,
  );
  const result = await run(agent, `Bill these orders: ${JSON.stringify(orders)}`, { maxTurns: 10 });
  const args = new Map<string, string>();
  for (const item of result.newItems) {
    if (item.type === 'tool_call_item' && item.rawItem.type === 'function_call')
      args.set(item.rawItem.callId, item.rawItem.arguments);
    if (item.type === 'tool_call_output_item' && item.rawItem.type === 'function_call_result') {
      printToolCall(
        item.rawItem.name,
        JSON.parse(args.get(item.rawItem.callId) ?? '{}'),
        outputText(item.output),
      );
    }
  }
  console.log(`Agent: ${String(result.finalOutput)}`);
} finally {
  // Closing the MCP server ends its session: the server revokes the session's key before it exits.
  await mcp.close();
}
try {
  const { data } = await proxy.client.listKeys({ labelPrefix: 'mcp-' });
  const latest = data[0];
  if (latest) await printKeySpend(proxy.client, latest.id);
} finally {
  await proxy.close();
}

/** An MCP tool output as the model read it: the text of its one content block. */
function outputText(output: unknown): unknown {
  return typeof output === 'object' && output !== null && 'text' in output ? output.text : output;
}
