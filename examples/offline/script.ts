/**
 * A framework-neutral script for the examples' offline models: a fixed plan of tool calls, played one per
 * model turn. A well-behaved model stops at the first `retryable: false` result and reports it; a runaway
 * one (`stopOnRefusal: false`) keeps going, which is what the budget is for.
 */
export interface PlannedCall {
  readonly name: string;
  readonly args: Record<string, unknown>;
}

export type Turn = { readonly toolCall: PlannedCall & { readonly id: string } } | { readonly text: string };

export interface Script {
  /** The next turn, given the last tool result the model was shown (already parsed), if any. */
  next(lastResult: unknown): Turn;
}

export function createScript(options: {
  readonly calls: readonly PlannedCall[];
  readonly stopOnRefusal: boolean;
}): Script {
  let index = 0;
  const results: unknown[] = [];
  return {
    next(lastResult) {
      if (lastResult !== undefined) results.push(lastResult);
      const refused = isRefusal(lastResult);
      if (refused && options.stopOnRefusal) {
        return { text: `I stopped: ${refused}` };
      }
      const call = options.calls[index];
      if (!call) {
        const done = results.filter((r) => !isRefusal(r)).length;
        return {
          text: `Done: ${done} of ${results.length} calls went through.${refused ? ` The last was refused: ${refused}` : ''}`,
        };
      }
      index += 1;
      return { toolCall: { ...call, id: `call_${index}` } };
    },
  };
}

/** The refusal message of a `retryable: false` result, or `null`. */
function isRefusal(result: unknown): string | null {
  if (typeof result !== 'object' || result === null) return null;
  const r = result as { retryable?: unknown; message?: unknown };
  return r.retryable === false && typeof r.message === 'string' ? r.message : null;
}

/** Parses a tool result the way a model reads it: JSON text, or the value itself. */
export function parseResult(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
