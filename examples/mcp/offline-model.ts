import type { Model, ModelRequest, ModelResponse, protocol } from '@openai/agents';

/**
 * Wraps the examples' offline model for MCP tools. The Agents SDK hands an MCP tool's content blocks to the
 * model as a list of input parts (`[{ type: 'input_text', text }]`), where a function tool gives one text;
 * this joins those parts back into the text the offline script parses. A real model reads either form.
 */
export class McpOfflineModel implements Model {
  readonly #inner: Model;

  constructor(inner: Model) {
    this.#inner = inner;
  }

  getResponse(request: ModelRequest): Promise<ModelResponse> {
    if (typeof request.input === 'string') return this.#inner.getResponse(request);
    return this.#inner.getResponse({ ...request, input: request.input.map(joinTextParts) });
  }

  getStreamedResponse(request: ModelRequest): AsyncIterable<protocol.StreamEvent> {
    return this.#inner.getStreamedResponse(request);
  }
}

function joinTextParts(item: protocol.ModelItem): protocol.ModelItem {
  if (item.type !== 'function_call_result' || !Array.isArray(item.output)) return item;
  const text = item.output
    .map((part) => ('text' in part && typeof part.text === 'string' ? part.text : ''))
    .join('');
  return { ...item, output: { type: 'text' as const, text } };
}
