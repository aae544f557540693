import { fakeModel } from '@langchain/core/testing';
import { AIMessage, ToolMessage, type BaseMessage } from 'langchain';
import { parseResult, type Script } from './script.js';

/** A LangChain chat model that plays a script offline, one turn per model call (up to `maxTurns`). */
export function offlineLangChainModel(script: Script, maxTurns = 20) {
  const model = fakeModel();
  for (let i = 0; i < maxTurns; i += 1) {
    model.respond((messages: BaseMessage[]) => {
      const last = messages.at(-1);
      const shown = last && ToolMessage.isInstance(last) ? parseResult(last.content) : undefined;
      const turn = script.next(shown);
      if ('text' in turn) return new AIMessage(turn.text);
      const { id, name, args } = turn.toolCall;
      return new AIMessage({ content: '', tool_calls: [{ id, name, args, type: 'tool_call' }] });
    });
  }
  return model;
}
