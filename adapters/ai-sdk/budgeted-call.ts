import type { ModelMessage, PrepareStepFunction, StopCondition, ToolSet } from 'ai';
import type { LoopStop, Run } from '../../src/run/index.js';
import { approvalDeniedResult } from '../../src/tools/index.js';
import { approvalAnswers, withDeniedReasons } from './approval-messages.js';
import { stopCondition, withBudgetStop } from './stop.js';
import { aiSdkTools } from './tools.js';

/** The options of `generateText` and `streamText` that a run's call changes. */
export interface BudgetableParams {
  readonly tools?: ToolSet | undefined;
  readonly stopWhen?: StopCondition<ToolSet> | Array<StopCondition<ToolSet>> | undefined;
  readonly prepareStep?: PrepareStepFunction<ToolSet> | undefined;
  readonly activeTools?: string[] | undefined;
  readonly prompt?: string | ModelMessage[] | undefined;
  readonly messages?: ModelMessage[] | undefined;
}

/**
 * The caller's options for one call under `run`: the spendgate tools added, the budget stop added to
 * `stopWhen`, and the approval continuation translated. A prompt whose last message denies a spendgate call
 * counts as that call's `approval_denied` refusal: the SDK tells the model itself (`execution-denied`, with
 * spendgate's "do not retry" message added), the model gets that one step without spendgate's tools (so it
 * cannot split the call), and the loop ends after it, as after any other budget refusal.
 */
export function budgetedCall<P extends BudgetableParams>(params: P, run: Run, stop: LoopStop): P {
  const names = new Set(run.tools.map((tool) => tool.name));
  const prompt = params.messages ?? (Array.isArray(params.prompt) ? params.prompt : []);
  for (const answer of approvalAnswers(prompt)) {
    const { toolName, toolCallId } = answer;
    if (answer.approved || toolName === undefined || !names.has(toolName)) continue;
    stop.check([{ toolName, toolCallId, output: approvalDeniedResult(toolName) }]);
  }
  const tools: ToolSet = {
    ...params.tools,
    ...aiSdkTools(run, { onApprovedOutput: (output) => stop.check([output]) }),
  };
  return {
    ...withDeniedPrompt(params, names),
    tools,
    stopWhen: withBudgetStop(
      params.stopWhen,
      stopCondition((outputs) => stop.check(outputs)),
    ),
    prepareStep: withoutSpendToolsOnceStopped({ params, tools, names, stop }),
  };
}

/** The prompt with spendgate's message in its denials (see `withDeniedReasons`). */
function withDeniedPrompt<P extends BudgetableParams>(params: P, names: ReadonlySet<string>): P {
  if (params.messages) return { ...params, messages: withDeniedReasons(params.messages, names) };
  if (Array.isArray(params.prompt)) return { ...params, prompt: withDeniedReasons(params.prompt, names) };
  return params;
}

/**
 * The caller's `prepareStep`, plus: once the loop is stopped (a denial or a refused approved call before the
 * first step), the step's active tools leave out spendgate's, keeping whatever the caller made active.
 */
function withoutSpendToolsOnceStopped(input: {
  readonly params: BudgetableParams;
  readonly tools: ToolSet;
  readonly names: ReadonlySet<string>;
  readonly stop: LoopStop;
}): PrepareStepFunction<ToolSet> {
  const { params, tools, names, stop } = input;
  return async (options) => {
    const own = await params.prepareStep?.(options);
    if (stop.stoppedBy === null) return own;
    const active = own?.activeTools ?? params.activeTools ?? Object.keys(tools);
    return { ...own, activeTools: active.filter((name) => !names.has(name)) };
  };
}
