import type { RunTool, StatedUsd, ToolCall, ToolResult } from '../../src/tools/index.js';
import type { ApprovalAnswer, SessionToolCall } from './types.js';

export interface ApprovalFlowOptions {
  /** The session's bound tool: its key carries the session's `approval_above_usd`. */
  readonly tool: RunTool;
  readonly input: unknown;
  readonly call: SessionToolCall;
  /** What the arguments say the call spends (`SpendTool.statedUsd`), shown when asking before sending. */
  readonly statedUsd: StatedUsd;
  /** Records a person's "no" on the proxy's pending approval, so it does not linger as undecided. */
  readonly denyPending?: ((approvalId: string) => Promise<unknown>) | undefined;
}

/**
 * Runs one spend call under the proxy-enforced approval threshold, asking the person through the client
 * (MCP elicitation) when it can. The proxy is what enforces it: a call above the threshold is forwarded only
 * with a grant, which the run obtains with its admin client after `approved`, never the model.
 *
 * - A call whose arguments state an amount above the threshold is asked about before anything is sent.
 * - A call the proxy refuses anyway (an SMS priced by segments) is asked about once refused, at the
 *   proxy's price, then sent again identically with `approved`.
 * - Without elicitation, or without an answer, the model gets the non-retryable `approval_required`.
 */
export async function callWithApproval(options: ApprovalFlowOptions): Promise<ToolResult> {
  const { tool, input } = options;
  const { askApproval, ...call } = options.call;
  if (!askApproval) return tool.execute(input, call);
  const question = { tool: tool.name, thresholdUsd: tool.approvalAboveUsd, arguments: input };
  if (tool.needsApproval(input)) {
    const stated = typeof options.statedUsd === 'number' ? options.statedUsd : null;
    const answer = await askApproval({ ...question, amountUsd: stated });
    return tool.execute(input, decided(call, answer));
  }
  const result = await tool.execute(input, call);
  const pending = pendingOf(result);
  if (!pending) return result;
  const answer = await askApproval({ ...question, amountUsd: pending.amountUsd });
  if (answer === 'unanswered') return result;
  // Best effort: a failed deny leaves the approval to lapse at its expiry; nothing is sent either way.
  if (answer === 'denied') await options.denyPending?.(pending.id).catch(() => undefined);
  return tool.execute(input, decided(call, answer));
}

/** The call with the person's decision; an unanswered question is no decision. */
function decided(call: ToolCall, answer: ApprovalAnswer): ToolCall {
  return answer === 'unanswered' ? call : { ...call, approval: answer };
}

function pendingOf(result: ToolResult): { id: string; amountUsd: number | null } | null {
  if (result.ok || result.error !== 'approval_required' || typeof result.approval_id !== 'string')
    return null;
  return {
    id: result.approval_id,
    amountUsd: typeof result.amount_usd === 'number' ? result.amount_usd : null,
  };
}
