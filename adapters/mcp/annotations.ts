import type { SpendTool } from '../../src/tools/index.js';
import type { McpToolAnnotations } from './types.js';

/**
 * A spend tool's annotations in MCP's terms. Two differ from the tool's own hints, on purpose:
 *
 * - `idempotentHint` is `false` for every spend tool. MCP means "the same arguments again have no further
 *   effect"; spendgate's idempotency is per call (the key derives from the call id, or from `retry_of`), so
 *   a plain repeat of `charge_customer` charges again. Claiming otherwise invites a client to retry money.
 * - `openWorldHint` is `true`: each of them reaches an outside vendor.
 */
export function spendToolAnnotations(tool: SpendTool): McpToolAnnotations {
  return {
    readOnlyHint: tool.annotations.readOnlyHint,
    destructiveHint: tool.annotations.destructiveHint,
    idempotentHint: false,
    openWorldHint: true,
  };
}

/** The budget read: no effect at all, and it reaches only spendgate's own proxy. */
export const READ_ONLY_ANNOTATIONS: McpToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};
