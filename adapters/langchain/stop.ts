import type { BaseMessage } from 'langchain';
import type { ToolOutput } from '../../src/run/index.js';
import { lc } from './framework.js';

/**
 * The outputs of the step just run: the tool messages after the last model message. The `artifact` holds
 * spendgate's result unserialised; tools of other libraries are left out by name.
 */
export function lastStepOutputs(
  messages: readonly BaseMessage[],
  toolNames: ReadonlySet<string>,
): ToolOutput[] {
  const outputs: ToolOutput[] = [];
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (!message || !lc.ToolMessage.isInstance(message)) break;
    if (message.name !== undefined && toolNames.has(message.name)) {
      outputs.unshift({ toolName: message.name, toolCallId: message.tool_call_id, output: message.artifact });
    }
  }
  return outputs;
}
