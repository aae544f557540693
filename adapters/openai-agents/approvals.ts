import type { RunToolApprovalItem, ToolErrorFormatter } from '@openai/agents';
import type { Run } from '../../src/run/index.js';
import { approvalDeniedResult, type RunTool, type StatedUsd } from '../../src/tools/index.js';

/** A spendgate call the SDK paused for a person: what the app's approval UI shows. */
export interface PendingSpendApproval {
  /** The SDK's interruption: decide it with `result.state.approve(item)` or `result.state.reject(item)`. */
  readonly item: RunToolApprovalItem;
  readonly tool: string;
  readonly toolCallId: string;
  /** The arguments the model gave, parsed (`undefined` if they were not JSON). */
  readonly arguments: unknown;
  /** What the call says it will spend, in USD; `'unknown'` for a currency this process cannot convert. */
  readonly amountUsd: StatedUsd;
}

/**
 * The spend calls among a run's interruptions (`result.interruptions`), with the amount each one states.
 * Interruptions of the agent's own tools are left out; they still need a decision before the run resumes.
 *
 * @example
 * ```ts
 * for (const pending of pendingSpendApprovals(result.interruptions, run.tools)) {
 *   if (await ask(`${pending.tool} for $${pending.amountUsd}?`)) result.state.approve(pending.item);
 *   else result.state.reject(pending.item);
 * }
 * ```
 */
export function pendingSpendApprovals(
  interruptions: readonly RunToolApprovalItem[],
  // The run's tools or the spend tools it was built from: both say what a call states it will spend.
  tools: readonly Pick<RunTool, 'name' | 'statedUsd'>[],
): PendingSpendApproval[] {
  return interruptions.flatMap((item) => {
    const raw = item.rawItem;
    const tool = tools.find((candidate) => candidate.name === item.name);
    if (raw.type !== 'function_call' || !tool) return [];
    const args = parseArguments(raw.arguments);
    return [
      { item, tool: tool.name, toolCallId: raw.callId, arguments: args, amountUsd: tool.statedUsd(args) },
    ];
  });
}

export interface BudgetToolErrorFormatterOptions {
  /** Formats every other tool error (another tool's rejection, a tool not found). */
  readonly fallback?: ToolErrorFormatter | undefined;
}

/**
 * A `toolErrorFormatter` under which a rejected spendgate call tells the model what a denial means: the
 * non-retryable `approval_denied` result, instead of the SDK's "Tool execution was not approved.". The loop
 * then ends on it like on any budget refusal (see `stopOnRefusal`). A message given to `state.reject(item, {
 * message })` still wins: the model is shown that text, and the loop goes on.
 */
export function budgetToolErrorFormatter(
  run: Run,
  options: BudgetToolErrorFormatterOptions = {},
): ToolErrorFormatter {
  const names = new Set(run.tools.map((tool) => tool.name));
  return (args) => {
    if (args.kind === 'approval_rejected' && args.toolType === 'function' && names.has(args.toolName)) {
      return JSON.stringify(approvalDeniedResult(args.toolName));
    }
    return options.fallback?.(args);
  };
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
