import type { SpendgateClient } from '../../src/client/index.js';
import { spendgateError } from '../../src/errors/index.js';
import type { SpendTool } from '../../src/tools/index.js';
import type { SessionBudget } from './session.js';
import { toolsWithinBudget } from './session-tools.js';

/** What every transport needs to serve sessions: the same budget and tools for each session. */
export interface McpServeOptions {
  /** The admin client that issues and revokes each session's keys. Its token never leaves this process. */
  readonly client: SpendgateClient;
  /**
   * Caps, TTL and metadata for each session's keys (each session gets its own keys and its own caps). A
   * vendor's `approvalAboveUsd` goes on its key: the proxy refuses a call priced above it without a
   * person's grant, which the session asks for through MCP elicitation. `usdCap` gives each session one
   * budget across every vendor (created when the session starts, revoked when it ends), and
   * `parentBudgetId` creates every session's budget under an existing one (a tenant's).
   */
  readonly budget: SessionBudget;
  /**
   * The spend tools on offer; only those whose vendor has a cap in `budget` are listed, or all of them when
   * the session has a budget of its own (`budget.usdCap` or `budget.parentBudgetId`).
   */
  readonly tools: readonly SpendTool[];
  /** Where tools send vendor calls. @default client.baseUrl */
  readonly proxyUrl?: string;
  /**
   * Closes a session after this long without traffic or a call in flight.
   * @default 900000 (15 minutes)
   */
  readonly idleTimeoutMs?: number;
  /** One line per session event (never a secret). For stdio, write it to stderr, never stdout. */
  readonly log?: (line: string) => void;
}

export type ResolvedServeOptions = McpServeOptions & { readonly idleTimeoutMs: number };

/** Applies defaults and narrows the tools to the budget; refuses a budget that allows no tool at all. */
export function resolveServeOptions(options: McpServeOptions): ResolvedServeOptions {
  const tools = toolsWithinBudget(options.tools, options.budget);
  if (tools.length === 0) {
    throw spendgateError(
      'cap_required',
      'The budget has no cap for the vendor of any tool (nor a usdCap or parentBudgetId for the session), so no tool can be served',
      {
        param: 'budget.caps',
      },
    );
  }
  return { ...options, tools, idleTimeoutMs: options.idleTimeoutMs ?? 900_000 };
}
