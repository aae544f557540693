import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolResult } from '../../src/tools/index.js';

/**
 * A spendgate result as an MCP tool result. The body is the one every adapter gives the model, unchanged:
 * as JSON text (what most clients show the model) and as `structuredContent` (for clients that read it).
 * A refusal is `isError: true`, never a protocol error: the model must see it, and see `retryable: false`.
 */
export function toCallToolResult(result: ToolResult): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(result) }],
    structuredContent: { ...result },
    isError: result.ok === false,
  };
}
