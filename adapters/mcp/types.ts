import type { z } from 'zod';
import type { ToolCall, ToolResult } from '../../src/tools/index.js';

/** MCP's tool annotations: hints a client may use to decide when to ask a person (never trusted for safety). */
export interface McpToolAnnotations {
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

/**
 * One tool as an MCP session serves it, still as plain data: what `tools/list` shows, and the call that
 * answers `tools/call`. The server module only translates these to and from the protocol.
 */
export interface SessionTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: z.ZodObject;
  readonly annotations: McpToolAnnotations;
  call(input: unknown, call: ToolCall): Promise<ToolResult>;
}
