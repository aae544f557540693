import type { StopCondition, ToolSet } from 'ai';
import { budgetStopIn, type BudgetStop, type ToolOutput } from '../../src/run/index.js';
import { ai } from './framework.js';

/**
 * A `stopWhen` condition that ends the loop after a step in which a spendgate tool got a non-retryable
 * budget refusal. Add it to your own conditions: `stopWhen: [stepCountIs(10), budgetRefused()]`.
 */
export function budgetRefused<TOOLS extends ToolSet = ToolSet>(): StopCondition<TOOLS> {
  return stopCondition((outputs) => budgetStopIn(outputs));
}

/** The condition, with the stop decision supplied (a run wrapper's, which remembers it for the result). */
export function stopCondition<TOOLS extends ToolSet>(
  check: (outputs: ToolOutput[]) => BudgetStop | null,
): StopCondition<TOOLS> {
  return ({ steps }) => {
    const results = steps.at(-1)?.toolResults ?? [];
    return (
      check(results.map((r) => ({ toolName: r.toolName, toolCallId: r.toolCallId, output: r.output }))) !==
      null
    );
  };
}

/**
 * The caller's `stopWhen` plus the budget stop. Without a `stopWhen` the SDK stops after one step
 * (`stepCountIs(1)`); that default is kept, since passing any condition replaces it.
 */
export function withBudgetStop<TOOLS extends ToolSet>(
  stopWhen: StopCondition<TOOLS> | Array<StopCondition<TOOLS>> | undefined,
  budget: StopCondition<TOOLS>,
): Array<StopCondition<TOOLS>> {
  const own = stopWhen === undefined ? [ai.stepCountIs(1)] : Array.isArray(stopWhen) ? stopWhen : [stopWhen];
  return [...own, budget];
}
