import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { resultForUnexpectedError } from '../../src/tools/index.js';
import { elicitationAsker } from './elicit-approval.js';
import type { McpSession } from './session.js';
import { toCallToolResult } from './tool-result.js';
import type { SessionTool } from './types.js';

const INSTRUCTIONS =
  'These tools spend real money under a capped budget for this session. A result with "retryable": false means stop: do not repeat the call or spend another way; report its "message" to the user. Call spendgate_budget to see what is left.';

export interface SpendgateMcpServerOptions {
  readonly tools: readonly SessionTool[];
  /** @default 'spendgate' */
  readonly name?: string;
  /** @default '0.1.0' */
  readonly version?: string;
}

/**
 * An MCP server (the SDK's low-level `Server`) for one session's tools. It only translates: `tools/list`
 * shows each tool's zod schema as JSON Schema with its annotations, and `tools/call` hands the raw arguments
 * to the tool, which validates them itself, so invalid arguments get spendgate's `bad_request` result (and
 * strict-mode `null`s for optional fields are accepted, as in the other adapters). A call above the session's
 * approval threshold asks the person through elicitation when the client supports it.
 */
export function createSpendgateMcpServer(options: SpendgateMcpServerOptions): Server {
  const server = new Server(
    { name: options.name ?? 'spendgate', version: options.version ?? '0.1.0' },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  const byName = new Map(options.tools.map((tool) => [tool.name, tool]));
  const listed = options.tools.map(toMcpTool);
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = byName.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    // JSON-RPC ids are unique within a session and the session's keys are its own, so this seeds an
    // idempotency key that no other call shares, and a re-sent request reuses.
    const call = {
      toolCallId: `mcp-${String(extra.requestId)}`,
      signal: extra.signal,
      askApproval: elicitationAsker(server, extra),
    };
    try {
      return toCallToolResult(await tool.call(request.params.arguments ?? {}, call));
    } catch (err) {
      // A cancelled request gets no answer; anything else is a bug, reported without its internals.
      if (extra.signal.aborted) throw err;
      return toCallToolResult(resultForUnexpectedError(tool.name));
    }
  });
  return server;
}

function toMcpTool(tool: SessionTool): Tool {
  // The same conversion the SDK's McpServer applies to a zod v4 schema.
  const inputSchema = z.toJSONSchema(tool.inputSchema, { target: 'draft-7', io: 'input' });
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: inputSchema as Tool['inputSchema'],
    annotations: { ...tool.annotations },
  };
}

/**
 * Connects a session's server to its transport and ties their lives together: initialisation issues the
 * session's keys, every incoming message restarts the idle clock, and the transport closing revokes them.
 */
export async function connectSession(options: {
  readonly server: Server;
  readonly transport: Transport;
  readonly session: McpSession;
}): Promise<void> {
  const { server, transport, session } = options;
  server.oninitialized = () => {
    // A failed start is logged by the session and retried at the first call.
    session.start().catch(() => undefined);
  };
  server.onclose = () => {
    void session.close('transport_closed');
  };
  await server.connect(transport);
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    session.touch();
    deliver?.(message, extra);
  };
}
