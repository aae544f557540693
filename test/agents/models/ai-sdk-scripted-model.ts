import { MockLanguageModelV3 } from 'ai/test';

type CallOptions = Parameters<MockLanguageModelV3['doGenerate']>[0];
type GenerateResult = Awaited<ReturnType<MockLanguageModelV3['doGenerate']>>;
type StreamResult = Awaited<ReturnType<MockLanguageModelV3['doStream']>>;
type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;

/** One model turn: tool calls, or a final text. */
export type AiTurn =
  | { readonly toolCalls: ReadonlyArray<{ id: string; name: string; input: unknown }> }
  | { readonly text: string };
export type AiStep = (options: CallOptions) => AiTurn;

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 1, text: 1, reasoning: 0 },
};

/**
 * An offline AI SDK model that plays a script, one step per model call, for `generateText` and `streamText`
 * alike. The mock records every call's prompt in `doGenerateCalls` / `doStreamCalls`.
 */
export function scriptedLanguageModel(steps: AiStep[]): MockLanguageModelV3 {
  const queue = [...steps];
  const next = (options: CallOptions): AiTurn => {
    const step = queue.shift();
    if (!step) throw new Error('the script is exhausted');
    return step(options);
  };
  return new MockLanguageModelV3({
    doGenerate: async (options) => toGenerateResult(next(options)),
    doStream: async (options) => ({ stream: toStream(next(options)) }),
  });
}

export const toolCall = (name: string, input: unknown, id: string): AiTurn => ({
  toolCalls: [{ id, name, input }],
});
export const text = (value: string): AiTurn => ({ text: value });

function toGenerateResult(turn: AiTurn): GenerateResult {
  if ('text' in turn) {
    return {
      content: [{ type: 'text', text: turn.text }],
      finishReason: { unified: 'stop', raw: undefined },
      usage,
      warnings: [],
    };
  }
  return {
    content: turn.toolCalls.map((c) => ({
      type: 'tool-call',
      toolCallId: c.id,
      toolName: c.name,
      input: JSON.stringify(c.input),
    })),
    finishReason: { unified: 'tool-calls', raw: undefined },
    usage,
    warnings: [],
  };
}

function toStream(turn: AiTurn): ReadableStream<StreamPart> {
  const parts: StreamPart[] = [{ type: 'stream-start', warnings: [] }];
  if ('text' in turn) {
    parts.push(
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: turn.text },
      { type: 'text-end', id: 't' },
    );
  } else {
    for (const c of turn.toolCalls) {
      parts.push({ type: 'tool-call', toolCallId: c.id, toolName: c.name, input: JSON.stringify(c.input) });
    }
  }
  parts.push({
    type: 'finish',
    finishReason: { unified: 'text' in turn ? 'stop' : 'tool-calls', raw: undefined },
    usage,
  });
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

/** The tool results a prompt carried, by call id: exactly what the model was shown. */
export function toolResultsSeen(options: CallOptions): Map<string, { type: string; value?: unknown }> {
  const seen = new Map<string, { type: string; value?: unknown }>();
  for (const message of options.prompt) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type === 'tool-result')
        seen.set(part.toolCallId, part.output as { type: string; value?: unknown });
    }
  }
  return seen;
}
