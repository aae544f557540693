import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { STACK_ADMIN_TOKEN } from '../helpers/agent-stack.js';

/** The repository root: the stdio tests run `src/cli/bin.ts` from here, as a real child process. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The most stderr kept per child, so a chatty one cannot eat the test's memory. */
const MAX_STDERR_CHARS = 32 * 1024;

export const CHARGE_10 = { customer: 'cus_ada', amount: 1000, currency: 'usd', description: 'Top-up' };

/** An SDK client connected to `spendgate mcp --stdio`, spawned from source with the given flags. */
export interface StdioSession {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  /** The child's stderr so far (its log lines), for failure messages. */
  stderr(): string;
}

export async function connectStdio(options: {
  proxyUrl: string;
  flags: readonly string[];
  /** A client of the test's own (one declaring elicitation, say). @default a plain SDK client */
  client?: Client;
  /** The server's SPENDGATE_ADMIN_TOKEN (an issuer token, say). @default the stack's admin token */
  adminToken?: string;
}): Promise<StdioSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', 'src/cli/bin.ts', 'mcp', '--stdio', ...options.flags],
    cwd: REPO_ROOT,
    env: {
      SPENDGATE_URL: options.proxyUrl,
      SPENDGATE_ADMIN_TOKEN: options.adminToken ?? STACK_ADMIN_TOKEN,
    },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-MAX_STDERR_CHARS);
  });
  const client = options.client ?? new Client({ name: 'spendgate-test', version: '1.0.0' });
  // tsx compiles the CLI on start; 30 s is the bound, not an expectation.
  await client.connect(transport, { timeout: 30_000 });
  return { client, transport, stderr: () => stderr };
}

/** A tool result's body: the JSON text the model reads, checked equal to `structuredContent`. */
export function bodyOf(result: unknown): Record<string, unknown> {
  const { content, structuredContent } = result as CallToolResult;
  const first = content[0];
  if (first?.type !== 'text') throw new Error(`expected one text block, got ${JSON.stringify(content)}`);
  const body = JSON.parse(first.text) as Record<string, unknown>;
  if (JSON.stringify(structuredContent) !== JSON.stringify(body)) {
    throw new Error('structuredContent differs from the text body');
  }
  return body;
}

/** Calls `charge_customer` for $10 until a call fails or `max` calls were made; returns every result. */
export async function chargeUntilRefused(client: Client, max: number): Promise<CallToolResult[]> {
  const results: CallToolResult[] = [];
  for (let i = 0; i < max; i += 1) {
    const result = (await client.callTool({
      name: 'charge_customer',
      arguments: CHARGE_10,
    })) as CallToolResult;
    results.push(result);
    if (result.isError) break;
  }
  return results;
}

/**
 * One raw MCP POST with exactly these headers (fetch): the status, the `WWW-Authenticate` challenge and the
 * body's text, for the refusals the SDK's client only reports as an error code.
 */
export async function postMcp(
  url: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ status: number; challenge: string | null; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  // A 200 may be an SSE stream that stays open: read only what a refusal sends.
  const text = res.status === 200 ? '' : await res.text();
  if (res.status === 200) await res.body?.cancel();
  return { status: res.status, challenge: res.headers.get('www-authenticate'), text };
}

/** An `initialize` request as a client sends it first. */
export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** Polls `check` until it returns true, at most `attempts` times; returns whether it did. */
export async function eventually(
  check: () => Promise<boolean>,
  attempts = 100,
  intervalMs = 100,
): Promise<boolean> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return false;
}
