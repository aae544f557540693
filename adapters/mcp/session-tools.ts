import type { SpendgateClient } from '../../src/client/index.js';
import { hasRunBudget } from '../../src/run/index.js';
import type { SpendTool } from '../../src/tools/index.js';
import { spendToolAnnotations } from './annotations.js';
import { callWithApproval } from './approval.js';
import { budgetTool } from './budget-tool.js';
import type { McpSession, SessionBudget } from './session.js';
import type { SessionTool } from './types.js';

export interface SessionToolsOptions {
  readonly session: McpSession;
  readonly client: SpendgateClient;
  /** The spend tools, already narrowed to the budget's vendors (`toolsWithinBudget`). */
  readonly tools: readonly SpendTool[];
}

/** What one session serves: its spend tools, each run under the session's keys, and `spendgate_budget`. */
export function sessionTools(options: SessionToolsOptions): SessionTool[] {
  return [...options.tools.map((tool) => spendSessionTool(tool, options)), budgetTool(options)];
}

function spendSessionTool(tool: SpendTool, options: SessionToolsOptions): SessionTool {
  const { session, client } = options;
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    annotations: spendToolAnnotations(tool),
    call(input, call) {
      return session.withTool(
        tool.name,
        (runTool) =>
          callWithApproval({
            tool: runTool,
            input,
            call,
            statedUsd: tool.statedUsd(input),
            denyPending: (approvalId) => client.denyCall(approvalId, { signal: call.signal }),
          }),
        call.signal,
      );
    },
  };
}

/**
 * The tools a budget allows: those whose vendor has a cap, or every tool when the session has a budget of
 * its own (`usdCap` or `parentBudgetId`), which caps every vendor together. A tool for an uncapped vendor
 * is not listed at all, rather than listed and refused at every call (a run refuses to issue an uncapped
 * key).
 */
export function toolsWithinBudget(tools: readonly SpendTool[], budget: SessionBudget): SpendTool[] {
  if (hasRunBudget(budget)) return [...tools];
  return tools.filter((tool) => {
    const caps = budget.caps[tool.vendor];
    return caps?.usdCap !== undefined || caps?.dailyUsdCap !== undefined;
  });
}
