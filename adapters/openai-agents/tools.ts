import type { FunctionTool } from '@openai/agents';
import type { Run } from '../../src/run/index.js';
import {
  isToolCallIdMissing,
  isToolFailure,
  requireToolCallId,
  resultForUnexpectedError,
  type RunTool,
  type ToolFailure,
} from '../../src/tools/index.js';
import { ApprovalRequests } from './approval-decision.js';
import { agents } from './framework.js';

/** Which run each tool was made for, so run hooks can tell their own run's agent from another's. */
const owners = new WeakMap<object, Run>();

/**
 * The run's tools as Agents SDK function tools. Each returns spendgate's structured result, which the SDK
 * sends to the model as JSON; budget refusals are results, never thrown errors. The SDK has no error flag on
 * a tool result (its status is always `completed`), so a refusal is also recorded as an error on the call's
 * trace span, the way the SDK records a tool that failed.
 */
export function openaiAgentsTools<TContext = unknown>(
  run: Run,
): FunctionTool<TContext, RunTool['inputSchema']>[] {
  return run.tools.map((runTool) => {
    const functionTool = toFunctionTool<TContext>(runTool);
    owners.set(functionTool, run);
    return functionTool;
  });
}

/** Whether `agent` holds at least one tool that `openaiAgentsTools(run)` made. */
export function holdsToolsOf(agent: { readonly tools: readonly object[] }, run: Run): boolean {
  return agent.tools.some((candidate) => owners.get(candidate) === run);
}

/** Whether `tool` is one that `openaiAgentsTools` made, for any run. */
export function isSpendgateTool(tool: object): boolean {
  return owners.has(tool);
}

function toFunctionTool<TContext>(runTool: RunTool): FunctionTool<TContext, RunTool['inputSchema']> {
  const approvals = new ApprovalRequests(runTool);
  return agents.tool<RunTool['inputSchema'], TContext, unknown>({
    name: runTool.name,
    description: runTool.description,
    parameters: runTool.inputSchema,
    // A call above the run's approvalAboveUsd pauses the run (`result.interruptions`) before anything is sent;
    // the SDK executes it only after `state.approve(item)`, and answers `state.reject(item)` itself.
    needsApproval: async (_context, input, callId) => approvals.needsApproval(input, callId),
    async execute(input, context, details) {
      const toolCallId = requireToolCallId(details?.toolCall?.callId, {
        tool: runTool.name,
        framework: 'The OpenAI Agents SDK',
      });
      const approval = details?.toolCall ? approvals.decision(context, details.toolCall) : undefined;
      const result = await runTool.execute(input, { toolCallId, signal: details?.signal, approval });
      if (isToolFailure(result)) markSpanFailed(result);
      return result;
    },
    // The SDK's default puts the raw error message in front of the model and says "please try again".
    // A missing call id is a wiring bug, not a tool outcome: let it fail the run.
    errorFunction: (_context, error) => {
      if (isToolCallIdMissing(error)) throw error;
      return JSON.stringify(resultForUnexpectedError(runTool.name));
    },
  });
}

/** The current span is the tool call's function span while `execute` runs; without tracing there is none. */
function markSpanFailed(result: ToolFailure): void {
  agents.getCurrentSpan()?.setError({
    message: `spendgate: ${result.error}`,
    data: { error: result.error, retryable: result.retryable },
  });
}
