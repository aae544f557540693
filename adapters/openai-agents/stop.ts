import type {
  FunctionToolResult,
  RunContext,
  ToolToFinalOutputFunction,
  ToolsToFinalOutputResult,
  ToolUseBehavior,
} from '@openai/agents';
import { budgetStopIn, BudgetStopError, type BudgetStop, type ToolOutput } from '../../src/run/index.js';
import { isSpendgateTool } from './tools.js';

const CONTINUE: ToolsToFinalOutputResult = { isFinalOutput: false, isInterrupted: undefined };

export interface BudgetToolUseBehaviorOptions {
  /**
   * What to do when no budget refusal ends the step: the agent's own `toolUseBehavior`.
   * @default 'run_llm_again'
   */
  readonly fallback?: ToolUseBehavior;
  /** Called with the refusal that ended the run. */
  readonly onStop?: (stop: BudgetStop) => void;
}

/**
 * A `toolUseBehavior` that ends the run after a step in which a spendgate tool got a non-retryable budget
 * refusal. The run's final output is then the stop's message (which tool, which code, spent and remaining),
 * so the model never gets another turn to retry. An agent with a structured `outputType` cannot end with a
 * sentence, so its run rejects with a `BudgetStopError` instead.
 *
 * @example
 * ```ts
 * const agent = new Agent({ name: 'billing', tools: openaiAgentsTools(run), toolUseBehavior: budgetToolUseBehavior() });
 * ```
 */
export function budgetToolUseBehavior(options: BudgetToolUseBehaviorOptions = {}): ToolToFinalOutputFunction {
  return stopThen((outputs) => budgetStopIn(outputs), options);
}

/** The same, with the stop decision supplied (a run wrapper's, which remembers it for the result). */
export function stopThen(
  check: (outputs: ToolOutput[]) => BudgetStop | null,
  options: BudgetToolUseBehaviorOptions,
): ToolToFinalOutputFunction {
  const fallback = options.fallback ?? 'run_llm_again';
  return async (context, results) => {
    const stop = check(results.flatMap(toolOutput));
    if (!stop) return runFallback(fallback, context, results);
    options.onStop?.(stop);
    // The SDK parses a final output against the agent's outputType; a sentence would fail that parse.
    const agent = results[0]?.runItem.agent;
    if (agent && agent.outputType !== 'text') throw new BudgetStopError(stop);
    return { isFinalOutput: true, isInterrupted: undefined, finalOutput: stop.message };
  };
}

function toolOutput(result: FunctionToolResult): ToolOutput[] {
  if (result.type !== 'function_output') return [];
  const raw = result.runItem.rawItem;
  const toolCallId = 'callId' in raw && typeof raw.callId === 'string' ? raw.callId : '';
  // A call a person rejected never ran: the SDK's output is the rejection text (with budgetToolErrorFormatter,
  // the `approval_denied` result as JSON). Read as JSON, so that denial ends the loop like any refusal.
  const output =
    typeof result.output === 'string' && isSpendgateTool(result.tool)
      ? parseJsonText(result.output)
      : result.output;
  return [{ toolName: result.tool.name, toolCallId, output }];
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The SDK's own behaviours, applied when no refusal ended the step (its runner would do the same). */
async function runFallback(
  behavior: ToolUseBehavior,
  context: RunContext,
  results: FunctionToolResult[],
): Promise<ToolsToFinalOutputResult> {
  if (typeof behavior === 'function') return behavior(context, results);
  if (behavior === 'run_llm_again') return CONTINUE;
  const outputs = results.filter((r) => r.type === 'function_output');
  const stopping =
    behavior === 'stop_on_first_tool'
      ? outputs[0]
      : outputs.find((r) => behavior.stopAtToolNames.includes(r.tool.name));
  if (!stopping) return CONTINUE;
  const { output } = stopping;
  const finalOutput = typeof output === 'string' ? output : JSON.stringify(output);
  return { isFinalOutput: true, isInterrupted: undefined, finalOutput };
}
