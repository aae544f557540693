import type { ToolSet } from 'ai';
import type { Run, ToolOutput } from '../../src/run/index.js';
import { requireToolCallId, type RunTool } from '../../src/tools/index.js';
import { decisionFor } from './approval-messages.js';
import { ai } from './framework.js';

/** Options for the translated tools. */
export interface AiSdkToolsOptions {
  /**
   * Called with the output of a call a person approved. The SDK runs those before the continuation's first
   * step, outside any step's `toolResults`, so a `stopWhen` condition would never see them.
   */
  readonly onApprovedOutput?: (output: ToolOutput) => void;
}

/**
 * The run's tools as an AI SDK `ToolSet`, keyed by tool name. A refusal reaches the model as an
 * `error-json` tool result (the SDK's mark for a failed call), a success as `json`; both carry spendgate's
 * structured result unchanged. A call above the run's `approvalAboveUsd` pauses through the SDK's tool
 * approval (`needsApproval`); once a person approves it, it is sent with a grant the run obtains.
 */
export function aiSdkTools(run: Run, options: AiSdkToolsOptions = {}): ToolSet {
  return Object.fromEntries(run.tools.map((runTool) => [runTool.name, toAiSdkTool(runTool, options)]));
}

function toAiSdkTool(runTool: RunTool, options: AiSdkToolsOptions) {
  return ai.tool({
    description: runTool.description,
    inputSchema: runTool.inputSchema,
    needsApproval: (input: unknown) => runTool.needsApproval(input),
    execute: async (input: unknown, { toolCallId, abortSignal, messages }) => {
      const id = requireToolCallId(toolCallId, { tool: runTool.name, framework: 'The AI SDK' });
      // The SDK hands the approved call the prompt that holds the person's answer.
      const approval = decisionFor(messages, id);
      const output = await runTool.execute(input, { toolCallId: id, signal: abortSignal, approval });
      if (approval === 'approved')
        options.onApprovedOutput?.({ toolName: runTool.name, toolCallId: id, output });
      return output;
    },
    toModelOutput: ({ output }) =>
      output.ok ? { type: 'json', value: output } : { type: 'error-json', value: output },
  });
}
