import type { ToolRuntime } from 'langchain';
import type { Run } from '../../src/run/index.js';
import {
  requireToolCallId,
  type RunTool,
  type SpendTool,
  type ToolCall,
  type ToolResult,
} from '../../src/tools/index.js';
import { executeWithApproval } from './approval.js';
import { lc } from './framework.js';

/** Finds the run a call belongs to and executes the tool under it. */
type Execute = (input: unknown, call: ToolCall, runtime: ToolRuntime) => Promise<ToolResult>;

/**
 * The run's tools as LangChain tools. Each call answers with a `ToolMessage` whose content is spendgate's
 * result as JSON and whose `artifact` is the same object unserialised; a refusal has `status: 'error'`.
 * A call above the run's approval threshold pauses the graph with `interrupt()` (compile it with a
 * checkpointer); the run is yours, so it keeps its keys across the pause until you end it.
 */
export function langchainTools(run: Run) {
  return run.tools.map((runTool: RunTool) =>
    toLangChainTool(runTool, (input, call) => executeWithApproval(runTool, input, call, { canPause: true })),
  );
}

/**
 * One LangChain tool. The call id comes from the tool call itself: a direct `tool.invoke(toolCall)` (the
 * LangGraph `ToolNode` path) sets only `runtime.toolCall`, never `toolCallId`. A call without any id is
 * refused loudly, since a made-up id would give a retried call a new idempotency key and charge again.
 */
export function toLangChainTool(
  tool: Pick<SpendTool, 'name' | 'description' | 'inputSchema'>,
  execute: Execute,
) {
  return lc.tool(
    async (input: unknown, runtime: ToolRuntime) => {
      const toolCallId = requireToolCallId(runtime.toolCall?.id ?? runtime.toolCallId, {
        tool: tool.name,
        framework: 'LangChain',
      });
      const result = await execute(input, { toolCallId, signal: runtime.signal }, runtime);
      return new lc.ToolMessage({
        content: JSON.stringify(result),
        artifact: result,
        tool_call_id: toolCallId,
        name: tool.name,
        status: result.ok ? 'success' : 'error',
      });
    },
    { name: tool.name, description: tool.description, schema: tool.inputSchema },
  );
}
