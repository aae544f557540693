import type { StreamedRunResult, StreamRunOptions } from '@openai/agents';
import {
  callSignal,
  createRun,
  finishRun,
  LoopStop,
  type Run,
  type RunEnd,
  type RunOutcome,
} from '../../src/run/index.js';
import { agents } from './framework.js';
import { budgetedAgent, type AnyAgent, type RunAgentWithBudgetOptions } from './run-agent.js';

export interface StreamAgentWithBudgetOptions<TAgent extends AnyAgent, TContext = undefined> extends Omit<
  RunAgentWithBudgetOptions<TAgent, TContext>,
  'runOptions'
> {
  /** Passed to `runner.run()` with `stream: true`. */
  readonly runOptions?: Omit<StreamRunOptions<TContext, TAgent>, 'signal' | 'stream'>;
}

export interface BudgetedStream<TContext, TAgent extends AnyAgent> {
  /** The SDK's streamed result: iterate it, or read `toTextStream()`, as usual. */
  readonly result: StreamedRunResult<TContext, TAgent>;
  readonly run: Run;
  /**
   * Settles once the stream has finished and the run's keys are revoked (also after an error or abort, and
   * after a budget stop: see `stoppedBy`). It never rejects; await it before the process exits.
   */
  readonly ended: Promise<RunEnd>;
}

/**
 * `runAgentWithBudget`, streaming: issues the keys, starts the streamed run, and revokes the keys when the
 * stream completes, errors or is aborted. A stream nobody reads does not progress: give the run a
 * `timeoutMs`, or read it to the end.
 */
export async function streamAgentWithBudget<TAgent extends AnyAgent, TContext = undefined>(
  options: StreamAgentWithBudgetOptions<TAgent, TContext>,
): Promise<BudgetedStream<TContext, TAgent>> {
  const { agent, input, runner, runOptions, stopOnRefusal, onRunEnd, ...runConfig } = options;
  const run = createRun(runConfig);
  const stop = new LoopStop({ stopOnRefusal });
  const end = (outcome: RunOutcome) =>
    finishRun({ run, stoppedBy: stop.stoppedBy, ...outcome }, { onRunEnd, quiet: true });
  let result: StreamedRunResult<TContext, TAgent>;
  try {
    await run.start();
    result = await (runner ?? new agents.Runner()).run(budgetedAgent(agent, run, stop), input, {
      ...runOptions,
      stream: true,
      signal: callSignal(run, options.signal),
    });
  } catch (error) {
    await end({ failed: true, error });
    throw error;
  }
  const ended = result.completed.then(
    () => (result.error ? end({ failed: true, error: result.error }) : end({ failed: false })),
    (error: unknown) => end({ failed: true, error }),
  );
  return { result, run, ended };
}
