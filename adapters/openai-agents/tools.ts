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

function toFunctionTool<TContext>(runTool: RunTool): FunctionTool<TContext, RunTool['inputSchema']> {
  return agents.tool<RunTool['inputSchema'], TContext, unknown>({
    name: runTool.name,
    description: runTool.description,
    parameters: runTool.inputSchema,
    async execute(input, _context, details) {
      const toolCallId = requireToolCallId(details?.toolCall?.callId, {
        tool: runTool.name,
        framework: 'The OpenAI Agents SDK',
      });
      const result = await runTool.execute(input, { toolCallId, signal: details?.signal });
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
