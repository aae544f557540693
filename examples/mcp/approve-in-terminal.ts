/**
 * A person approving spendgate calls over MCP. The MCP SDK's own `Client` (what a host app such as a chat
 * UI embeds) launches `spendgate mcp --stdio --approval-usd 25` and answers the server's elicitation
 * requests with a terminal prompt. The proxy enforces the threshold: a charge above $25 is forwarded only
 * with a single-use grant, which the MCP server obtains after you say yes. Neither you nor the model ever
 * handles the grant.
 *
 *   npx tsx examples/mcp/approve-in-terminal.ts
 *
 * Offline by default (a sandbox proxy whose vendors are in-process fakes). In a terminal it asks you; piped
 * or in CI it answers from a script: yes to the first question, no to the second.
 */
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { printKeySpend, printToolCall } from '../shared/print.js';
import { proxyForExample } from './proxy.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const charges = [
  { customer: 'cus_ada', amount: 3000, currency: 'usd', description: 'Annual plan' },
  { customer: 'cus_ada', amount: 4000, currency: 'usd', description: 'Annual plan, again' },
  { customer: 'cus_ada', amount: 1200, currency: 'usd', description: 'Add-on (under the threshold)' },
];

const proxy = await proxyForExample();
const client = new Client(
  { name: 'approval-example', version: '1.0.0' },
  // Declaring form elicitation is what lets the server ask a person instead of refusing.
  { capabilities: { elicitation: { form: {} } } },
);
const ask = askPerson();
client.setRequestHandler(ElicitRequestSchema, async (request) => {
  const approve = await ask(request.params.message);
  return { action: 'accept', content: { approve } };
});
const transport = new StdioClientTransport({
  // From source here; `npx spendgate mcp --stdio …` once installed.
  command: process.execPath,
  args: [
    '--import',
    'tsx',
    'src/cli/bin.ts',
    'mcp',
    '--stdio',
    '--stripe-usd-cap',
    '100',
    '--approval-usd',
    '25',
  ],
  cwd: repoRoot,
  env: { PATH: process.env.PATH ?? '', SPENDGATE_URL: proxy.url, SPENDGATE_ADMIN_TOKEN: proxy.adminToken },
});
try {
  await client.connect(transport, { timeout: 30_000 });
  console.log(
    `Charging over MCP stdio, ${proxy.sandbox ? 'sandbox ' : ''}proxy ${proxy.url}, approval above $25`,
  );
  for (const args of charges) {
    // A person may take a while: the call waits for the answer, up to the approval's 10 minutes.
    const result = (await client.callTool({ name: 'charge_customer', arguments: args }, undefined, {
      timeout: 600_000,
    })) as CallToolResult;
    printToolCall('charge_customer', args, result.structuredContent);
  }
} finally {
  // Closing the client ends the session: the server revokes its key before it exits.
  await client.close();
  ask.close();
}
try {
  const { data } = await proxy.client.listKeys({ labelPrefix: 'mcp-' });
  if (data[0]) await printKeySpend(proxy.client, data[0].id);
} finally {
  await proxy.close();
}

/** A yes/no question for the person: the terminal when there is one, otherwise a script (yes, then no). */
function askPerson(): ((message: string) => Promise<boolean>) & { close(): void } {
  const scripted = [true, false];
  const terminal = process.stdin.isTTY
    ? createInterface({ input: process.stdin, output: process.stdout })
    : null;
  const ask = async (message: string) => {
    console.log(`\n${message}`);
    if (!terminal) {
      const answer = scripted.shift() ?? false;
      console.log(`Approve? [y/N] ${answer ? 'y' : 'n'} (scripted)`);
      return answer;
    }
    return /^y(es)?$/i.test((await terminal.question('Approve? [y/N] ')).trim());
  };
  return Object.assign(ask, { close: () => terminal?.close() });
}
