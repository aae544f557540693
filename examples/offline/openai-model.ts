import { Usage, type Model, type ModelRequest, type ModelResponse, type protocol } from '@openai/agents';
import { parseResult, type Script } from './script.js';

/** An Agents SDK `Model` that plays a script offline (0.14.3 has no `ScriptedModel`). */
export class OfflineOpenAIModel implements Model {
  readonly #script: Script;

  constructor(script: Script) {
    this.#script = script;
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const last = typeof request.input === 'string' ? undefined : request.input.at(-1);
    const shown = last?.type === 'function_call_result' ? parseResult(outputText(last.output)) : undefined;
    const turn = this.#script.next(shown);
    const output: protocol.OutputModelItem[] =
      'text' in turn
        ? [
            {
              type: 'message',
              role: 'assistant',
              status: 'completed',
              content: [{ type: 'output_text', text: turn.text }],
            },
          ]
        : [
            {
              type: 'function_call',
              callId: turn.toolCall.id,
              name: turn.toolCall.name,
              arguments: JSON.stringify(turn.toolCall.args),
              status: 'completed',
            },
          ];
    return { output, usage: new Usage() };
  }

  // eslint-disable-next-line require-yield -- streaming is not scripted
  async *getStreamedResponse(): AsyncIterable<protocol.StreamEvent> {
    throw new Error('the offline model does not stream');
  }
}

function outputText(output: protocol.FunctionCallResultItem['output']): unknown {
  if (typeof output === 'string') return output;
  return 'text' in output ? output.text : output;
}
