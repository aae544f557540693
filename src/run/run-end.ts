import type { BudgetStop, StopPolicy } from './budget-stop.js';
import type { Run } from './run.js';

/** What spendgate adds to a run's result. */
export interface SpendgateOutcome {
  /** The budget refusal that ended the agent loop; `null` when the loop ended on its own. */
  readonly stoppedBy: BudgetStop | null;
}

/** A run wrapper's answer: the framework's result, the run (its id and keys), and why the loop ended. */
export interface BudgetedResult<TResult> {
  readonly result: TResult;
  readonly run: Run;
  readonly spendgate: SpendgateOutcome;
}

/** Whether what ran under the run succeeded, and if not, what it threw. */
export type RunOutcome = { readonly failed: false } | { readonly failed: true; readonly error: unknown };

/** How a run ended, told to `onRunEnd` once its keys are revoked. */
export type RunEnd = SpendgateOutcome & { readonly run: Run } & RunOutcome;

/** Called once per run, on every path (success, throw, abort), after the run's keys have been revoked. */
export type OnRunEnd = (end: RunEnd) => void | Promise<void>;

/** The options every adapter's run wrapper takes on top of the run's own. */
export interface LoopOptions extends StopPolicy {
  /**
   * Called once the run has ended and its keys are revoked, whether it succeeded or threw: the way to reach
   * the run (its id and key ids, for the audit log) after a failure.
   */
  readonly onRunEnd?: OnRunEnd;
}

/**
 * Ends `run`, then tells `onRunEnd`. After a failure, or with `quiet`, nothing here rejects: the caller has an
 * error of its own to throw (or nobody to throw to), so a revoke failure goes to the run's `onEndError` and a
 * throwing `onRunEnd` becomes a process warning.
 */
export async function finishRun(
  end: RunEnd,
  options: { readonly onRunEnd?: OnRunEnd | undefined; readonly quiet?: boolean } = {},
): Promise<RunEnd> {
  const quiet = end.failed || options.quiet === true;
  await end.run.end({ quiet });
  if (!options.onRunEnd) return end;
  if (!quiet) {
    await options.onRunEnd(end);
    return end;
  }
  try {
    await options.onRunEnd(end);
  } catch (err) {
    process.emitWarning(
      `onRunEnd threw: ${err instanceof Error ? err.message : String(err)}`,
      'SpendgateWarning',
    );
  }
  return end;
}

/**
 * Starts `run`, awaits `body`, and ends the run however `body` settles; `onRunEnd` hears about it after the
 * keys are revoked. A body error is rethrown unchanged; a revoke failure after a success rejects.
 */
export async function driveRun<T>(
  run: Run,
  body: () => Promise<T>,
  options: { readonly onRunEnd?: OnRunEnd | undefined; readonly stoppedBy?: () => BudgetStop | null } = {},
): Promise<T> {
  const stoppedBy = () => options.stoppedBy?.() ?? null;
  let value: T;
  try {
    await run.start();
    value = await body();
    // The run ended under the body (its signal, its timeout): whatever the framework returned, it only
    // stopped because its tools were cut off, so the caller gets the abort, as it would from the framework.
    if (run.signal.aborted) throw run.signal.reason;
  } catch (error) {
    await finishRun({ run, stoppedBy: stoppedBy(), failed: true, error }, options);
    throw error;
  }
  await finishRun({ run, stoppedBy: stoppedBy(), failed: false }, options);
  return value;
}

/** The signal to hand a framework call: it aborts when the caller's does, or when the run ends early. */
export function callSignal(run: Run, signal: AbortSignal | undefined): AbortSignal {
  return signal ? AbortSignal.any([signal, run.signal]) : run.signal;
}
