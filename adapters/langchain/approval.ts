import type { HITLRequest } from 'langchain';
import { isRecord } from '../../src/client/response-error.js';
import { formatUsd, usdToMicros } from '../../src/money.js';
import type { ApprovalDecision, RunTool, ToolCall, ToolResult } from '../../src/tools/index.js';
import { graph, lc } from './framework.js';

/**
 * What an approval pause carries: LangChain's own `HITLRequest` (the shape `humanInTheLoopMiddleware`
 * interrupts with), so an approval UI built for that middleware shows and answers it unchanged, plus the
 * call's id and the run's threshold.
 */
export interface SpendgateApprovalRequest extends HITLRequest {
  readonly spendgate: { readonly toolCallId: string; readonly approvalAboveUsd: number | null };
}

/**
 * Runs a tool call, first pausing the graph for a person when `runTool.needsApproval(input)`.
 *
 * The pause is LangGraph's `interrupt()` inside the tool rather than `humanInTheLoopMiddleware`: that
 * middleware's `when` can skip calls at or under the threshold, but its "approve" only leaves the tool call
 * in place, so the tool could not tell an approved call from one nobody was asked about, and its "reject"
 * answers the model with a plain-text message of its own. Here the person's answer is the resume value,
 * delivered to the one call it is about (and kept by the checkpointer), and a rejection becomes spendgate's
 * `approval_denied` result, which ends the loop like every other budget refusal.
 *
 * Nothing is sent before the pause, so a call that is never resumed costs nothing and leaves no pending
 * approval on the proxy. When the graph cannot pause (`canPause: false`, no checkpointer, no graph), the
 * call goes out undecided and the proxy refuses it with `approval_required`: fail closed, never forwarded.
 */
export async function executeWithApproval(
  runTool: RunTool,
  input: unknown,
  call: ToolCall,
  options: { readonly canPause: boolean },
): Promise<ToolResult> {
  const ask = options.canPause && runTool.needsApproval(input);
  const approval = ask ? askPerson(runTool, input, call.toolCallId) : undefined;
  return runTool.execute(input, { ...call, approval });
}

/** The person's decision, from LangGraph's resume value; `undefined` when LangGraph cannot pause here. */
function askPerson(tool: RunTool, input: unknown, toolCallId: string): ApprovalDecision | undefined {
  let resume: unknown;
  try {
    resume = graph.interrupt(approvalRequest(tool, input, toolCallId));
  } catch (error) {
    // The pause itself: LangGraph saves the graph and returns `__interrupt__` to the caller.
    if (graph.isGraphInterrupt(error)) throw error;
    // No checkpointer, or not inside a graph: there is no one to ask, so the proxy's refusal stands.
    return undefined;
  }
  return decisionOf(resume);
}

function approvalRequest(tool: RunTool, input: unknown, toolCallId: string): SpendgateApprovalRequest {
  const threshold =
    tool.approvalAboveUsd === null
      ? ''
      : ` (this run asks above ${formatUsd(usdToMicros(tool.approvalAboveUsd))})`;
  return {
    actionRequests: [
      {
        name: tool.name,
        args: isRecord(input) ? input : {},
        description: `${tool.name} needs a person's approval before it is sent${threshold}. Approve to send it once; reject to send nothing.`,
      },
    ],
    reviewConfigs: [{ actionName: tool.name, allowedDecisions: ['approve', 'reject'] }],
    spendgate: { toolCallId, approvalAboveUsd: tool.approvalAboveUsd },
  };
}

/**
 * Reads a `HITLResponse` (`{ decisions: [{ type: 'approve' }] }`). Anything but exactly one "approve" is a
 * denial: an edit (not offered), a malformed answer or a stray resume value never sends money.
 */
export function decisionOf(resume: unknown): ApprovalDecision {
  const decisions = isRecord(resume) ? resume.decisions : undefined;
  const only = Array.isArray(decisions) && decisions.length === 1 ? (decisions[0] as unknown) : undefined;
  return isRecord(only) && only.type === 'approve' ? 'approved' : 'denied';
}

/**
 * Whether this call runs in one graph task with other calls of its message (`createAgent({ version: 'v1' })`,
 * where one ToolNode runs them all). A resume re-runs such a task whole, and the middleware's resumed run has
 * new keys, so the calls beside this one would go out again under new idempotency keys: such a call is not
 * paused, and the proxy refuses it instead. The default (v2) gives each call its own task (`lg_tool_call`),
 * and LangGraph keeps the finished ones' results across the resume.
 */
export function sharesTaskWithOtherCalls(state: unknown, toolCallId: string): boolean {
  if (!isRecord(state) || 'lg_tool_call' in state || !Array.isArray(state.messages)) return false;
  const holder = (state.messages as unknown[]).findLast(
    (message) => lc.AIMessage.isInstance(message) && message.tool_calls?.some((c) => c.id === toolCallId),
  );
  return lc.AIMessage.isInstance(holder) && (holder.tool_calls?.length ?? 0) > 1;
}
