import type { RunToolApprovalItem } from '@openai/agents';
import { spendgateError } from '../../src/errors/index.js';
import {
  finishRun,
  type BudgetedResult,
  type LoopStop,
  type OnRunEnd,
  type Run,
  type RunEnd,
  type RunOutcome,
} from '../../src/run/index.js';
import type { SpendTool } from '../../src/tools/index.js';
import { pendingSpendApprovals, type PendingSpendApproval } from './approvals.js';

/** A budgeted result that may be paused on interruptions (the SDK's human-in-the-loop). */
export interface ResumableResult<TResult> extends BudgetedResult<TResult> {
  /** The spend calls among `result.interruptions`, with their amounts; empty unless the run is paused. */
  readonly approvals: readonly PendingSpendApproval[];
  /**
   * Present while the run is paused (`result.interruptions` is not empty): decide every interruption with
   * `result.state.approve(item)` / `reject(item)`, then call this to go on under the same keys and budget.
   * `null` once the run has ended.
   */
  readonly resume: (() => Promise<ResumableResult<TResult>>) | null;
  /** Ends the run without resuming it: revokes its keys and calls `onRunEnd`. Harmless once it has ended. */
  readonly end: () => Promise<void>;
}

export interface PausableRunOptions {
  readonly run: Run;
  readonly stop: LoopStop;
  readonly onRunEnd?: OnRunEnd | undefined;
  /** The run's spend tools, to describe its paused calls. */
  readonly tools: readonly SpendTool[];
}

interface Interruptible {
  readonly interruptions: readonly RunToolApprovalItem[];
}

/**
 * Drives one spendgate run through `body` and, while the SDK pauses it for approvals, through each `next`.
 * A pause does not end the run: the call a person approves must be sent under the same keys, against the
 * same caps (a fresh key per resume would reset the budget at every approval). So the keys stay active while
 * the person decides, bounded by the run's `ttl` and `timeoutMs`, and are revoked when a segment ends without
 * interruptions, throws, or `end()` is called; a pause nobody resumes or ends lapses at the keys' `ttl`.
 */
export function drivePausableRun<TResult extends Interruptible>(
  options: PausableRunOptions,
  body: () => Promise<TResult>,
  next: (paused: TResult) => Promise<TResult>,
): Promise<ResumableResult<TResult>> {
  const { run, stop } = options;
  let finished: Promise<RunEnd> | undefined;
  const finish = (outcome: RunOutcome) =>
    (finished ??= finishRun({ run, stoppedBy: stop.stoppedBy, ...outcome }, { onRunEnd: options.onRunEnd }));

  const segment = async (call: () => Promise<TResult>): Promise<ResumableResult<TResult>> => {
    let result: TResult;
    try {
      await run.start();
      result = await call();
      // Ended under the call (its signal, its timeout): the tools were cut off, so this is the abort.
      if (run.signal.aborted) throw run.signal.reason;
    } catch (error) {
      await finish({ failed: true, error });
      throw error;
    }
    const paused = result.interruptions.length > 0;
    if (!paused) await finish({ failed: false });
    return {
      result,
      run,
      spendgate: { stoppedBy: stop.stoppedBy },
      approvals: paused ? pendingSpendApprovals(result.interruptions, run.tools) : [],
      resume: paused ? once(() => segment(() => next(result))) : null,
      end: async () => {
        await finish({ failed: false });
      },
    };
  };

  /** A paused state resumes once; after `end()` (or a second resume) there is nothing to resume. */
  const once = (resume: () => Promise<ResumableResult<TResult>>) => {
    let used = false;
    return async () => {
      if (used || finished) {
        throw spendgateError('key_revoked', `Run ${run.label} was already resumed or has ended`);
      }
      used = true;
      return resume();
    };
  };

  return segment(body);
}
