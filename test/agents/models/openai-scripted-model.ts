import { Usage, type Model, type ModelRequest, type ModelResponse, type protocol } from '@openai/agents';

/** One model turn: what the model "says" given what it was sent. */
export type OpenAIStep = (
  request: ModelRequest,
) => ModelResponse['output'] | Promise<ModelResponse['output']>;

/**
 * An offline Agents SDK model that plays a script, one step per model call (0.14.3 has no `ScriptedModel`).
 * It records every request, so a test can read exactly what the model was shown.
 */
export class OpenAIScriptedModel implements Model {
  readonly requests: ModelRequest[] = [];
  readonly #steps: OpenAIStep[];

  constructor(steps: OpenAIStep[]) {
    this.#steps = [...steps];
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    const step = this.#steps.shift();
    if (!step) throw new Error('the script is exhausted');
    return { output: await step(request), usage: new Usage() };
  }

  /** The same script, streamed: each turn arrives as one `response_done` event. */
  async *getStreamedResponse(request: ModelRequest): AsyncIterable<protocol.StreamEvent> {
    const { output } = await this.getResponse(request);
    const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
    const response = { id: `resp_${this.requests.length}`, usage, output };
    yield { type: 'response_done', response } as protocol.StreamEventResponseCompleted;
  }
}

export function functionCall(
  name: string,
  args: Record<string, unknown>,
  callId: string,
): protocol.FunctionCallItem {
  return { type: 'function_call', callId, name, arguments: JSON.stringify(args), status: 'completed' };
}

export function assistantMessage(text: string): protocol.AssistantMessageItem {
  return {
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text }],
  };
}

/** The text of each tool result in a request's input, by call id: what the model was shown. */
export function toolOutputsSeen(request: ModelRequest): Map<string, string> {
  const seen = new Map<string, string>();
  if (typeof request.input === 'string') return seen;
  for (const item of request.input) {
    if (item.type !== 'function_call_result') continue;
    const output = item.output;
    const text =
      typeof output === 'string'
        ? output
        : 'text' in output && typeof output.text === 'string'
          ? output.text
          : JSON.stringify(output);
    seen.set(item.callId, text);
  }
  return seen;
}
