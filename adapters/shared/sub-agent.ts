import {
  BudgetStopError,
  driveRun,
  LoopStop,
  type BudgetStop,
  type ChildRunOptions,
  type LoopOptions,
  type Run,
} from '../../src/run/index.js';
import { failure, STOP_AND_REPORT } from '../../src/tools/refusal-result.js';
import { resultForInactiveRun, type ToolResult } from '../../src/tools/index.js';

/** One sub-agent tool: whose run it spends under, what it is called, and the budget of each call. */
export interface SubAgentRunOptions extends LoopOptions {
  /** The parent's run. Each call of the tool starts a child of it, so the sub-agent spends from its budget. */
  readonly run: Run;
  /** The sub-agent's spend tools and its share of the parent's budget, for each call's child run. */
  readonly child: ChildRunOptions;
}

/** How one sub-agent loop ended: with a final text, or paused for a person's approval. */
export type SubAgentAnswer = { readonly text: string } | { readonly paused: true };

/**
 * Runs one call of a sub-agent tool under a fresh child of the parent's run: starts the child, runs `body`
 * with it (the adapter's nested framework loop), and ends the child however `body` settles, before the tool
 * answers. The answer is a spendgate tool result, so the parent sees a sub-agent's budget refusal exactly as
 * it would see one of its own tools' refusals, and its own loop ends on it too (see `stopOnRefusal`).
 */
export async function runSubAgent(
  name: string,
  options: SubAgentRunOptions,
  body: (child: Run, stop: LoopStop) => Promise<SubAgentAnswer>,
): Promise<ToolResult> {
  const { run: parent, child: childOptions, stopOnRefusal, onRunEnd } = options;
  const child = parent.child(childOptions);
  const stop = new LoopStop({ stopOnRefusal });
  let answer: SubAgentAnswer;
  try {
    answer = await driveRun(child, () => body(child, stop), { onRunEnd, stoppedBy: () => stop.stoppedBy });
  } catch (error) {
    // A sub-agent with a structured output cannot end with a sentence: its framework throws the stop instead.
    if (stop.stoppedBy && error instanceof BudgetStopError) return stoppedResult(name, stop.stoppedBy);
    // `failed` is a child that never started: nothing ran, so the model is told why instead of a stack.
    if (child.state !== 'failed') throw error;
    return notStarted(name, parent, error);
  }
  if (stop.stoppedBy) return stoppedResult(name, stop.stoppedBy);
  if ('paused' in answer) return pausedResult(name);
  return { ok: true, output: answer.text };
}

/**
 * The sub-agent's refusal, passed up unchanged but for its message: still non-retryable, so the parent's
 * loop ends on it too. The child's budget lies inside the parent's, so either the parent has nothing left,
 * or calling the sub-agent again would just start another child to be refused the same way. The amounts
 * are the child's key's, so they move into the message: at the top they would read as the parent's.
 */
function stoppedResult(name: string, stop: BudgetStop): ToolResult {
  const { spent_usd: _spent, remaining_budget_usd: _remaining, ...refusal } = stop.refusal;
  return {
    ...refusal,
    sub_agent: name,
    message: `The sub-agent ${name} was stopped: ${stop.message} ${STOP_AND_REPORT}`,
  };
}

/**
 * A sub-agent paused for a person's approval. Its child run ends with the tool call, so no one could resume
 * it under the same keys: nothing above the threshold was sent, and the parent is told to stop and report.
 */
function pausedResult(name: string): ToolResult {
  return failure({
    error: 'approval_required',
    retryable: false,
    sub_agent: name,
    message: `The sub-agent ${name} reached a call that needs a person's approval, which a sub-agent cannot wait for; nothing was sent. ${STOP_AND_REPORT}`,
  });
}

function notStarted(name: string, parent: Run, error: unknown): ToolResult {
  if (parent.state !== 'active') {
    return { ...resultForInactiveRun(parent.state === 'created' ? 'not_started' : 'ended'), sub_agent: name };
  }
  const reason = error instanceof Error ? error.message : String(error);
  return failure({
    error: 'run_not_started',
    retryable: false,
    sub_agent: name,
    message: `The sub-agent ${name} could not start (${reason}). ${STOP_AND_REPORT}`,
  });
}
