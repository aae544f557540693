import { MockLanguageModelV3 } from 'ai/test';
import type { Script } from './script.js';

const usage = {
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 0, text: 0, reasoning: 0 },
};

/** An AI SDK language model that plays a script offline, one turn per model call. */
export function offlineAiSdkModel(script: Script): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    doGenerate: async ({ prompt }) => {
      const last = prompt.at(-1);
      const part = last?.role === 'tool' ? last.content.at(-1) : undefined;
      const shown = part?.type === 'tool-result' && 'value' in part.output ? part.output.value : undefined;
      const turn = script.next(shown);
      if ('text' in turn) {
        return {
          content: [{ type: 'text', text: turn.text }],
          finishReason: { unified: 'stop', raw: undefined },
          usage,
          warnings: [],
        };
      }
      const { id, name, args } = turn.toolCall;
      return {
        content: [{ type: 'tool-call', toolCallId: id, toolName: name, input: JSON.stringify(args) }],
        finishReason: { unified: 'tool-calls', raw: undefined },
        usage,
        warnings: [],
      };
    },
  });
}
