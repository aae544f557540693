import type { ToolSet } from 'ai';
import type { Run } from '../../src/run/index.js';
import { requireToolCallId, type RunTool } from '../../src/tools/index.js';
import { ai } from './framework.js';

/**
 * The run's tools as an AI SDK `ToolSet`, keyed by tool name. A refusal reaches the model as an
 * `error-json` tool result (the SDK's mark for a failed call), a success as `json`; both carry spendgate's
 * structured result unchanged.
 */
export function aiSdkTools(run: Run): ToolSet {
  return Object.fromEntries(run.tools.map((runTool) => [runTool.name, toAiSdkTool(runTool)]));
}

function toAiSdkTool(runTool: RunTool) {
  return ai.tool({
    description: runTool.description,
    inputSchema: runTool.inputSchema,
    execute: (input: unknown, { toolCallId, abortSignal }) =>
      runTool.execute(input, {
        toolCallId: requireToolCallId(toolCallId, { tool: runTool.name, framework: 'The AI SDK' }),
        signal: abortSignal,
      }),
    toModelOutput: ({ output }) =>
      output.ok ? { type: 'json', value: output } : { type: 'error-json', value: output },
  });
}
