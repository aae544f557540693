import type { streamText, StreamTextResult, StreamTextTransform, ToolSet } from 'ai';
import {
  callSignal,
  createRun,
  finishRun,
  LoopStop,
  type Run,
  type RunEnd,
  type RunOutcome,
} from '../../src/run/index.js';
import { ai } from './framework.js';
import type { SpendgateCallOptions } from './generate.js';
import { budgetedCall } from './budgeted-call.js';

type StreamTextParams = Parameters<typeof streamText>[0];

/** `streamText`'s options, plus the run to create around the call. */
export type StreamTextWithBudgetOptions = StreamTextParams & {
  readonly spendgate: SpendgateCallOptions;
};

export interface BudgetedTextStream {
  /** The SDK's stream result, used as usual. Its promises (`text`, `steps`, …) settle after the revoke. */
  readonly result: StreamTextResult<ToolSet, never>;
  readonly run: Run;
  /**
   * Settles once the stream has ended and the run's keys are revoked, on finish, error, abort or budget stop
   * (see `stoppedBy`). It never rejects: await it before the process exits.
   */
  readonly ended: Promise<RunEnd>;
}

/**
 * `streamText` under a budget: issues the run's keys first, then starts the stream with the spendgate tools
 * added. The keys are revoked when the stream's last part has passed (finish, error or abort), before
 * `result.text`, `result.steps` and `onFinish` settle, so a process that exits right after reading the text
 * leaves no live key. A stream nobody consumes never ends: give the run a `timeoutMs`, or `await run.end()`.
 */
export async function streamTextWithBudget(
  options: StreamTextWithBudgetOptions,
): Promise<BudgetedTextStream> {
  const { spendgate, ...params } = options;
  const { stopOnRefusal, onRunEnd, ...runOptions } = spendgate;
  const run = createRun({ ...runOptions, signal: runOptions.signal ?? params.abortSignal });
  const stop = new LoopStop({ stopOnRefusal });
  let settle: (end: RunEnd) => void = () => undefined;
  const ended = new Promise<RunEnd>((resolve) => (settle = resolve));
  let ending: Promise<RunEnd> | undefined;
  const end = (how: RunOutcome) =>
    (ending ??= finishRun({ run, stoppedBy: stop.stoppedBy, ...how }, { onRunEnd, quiet: true }).then(
      (done) => {
        settle(done);
        return done;
      },
    ));
  try {
    await run.start();
    const result = ai.streamText({
      ...budgetedCall(params, run, stop),
      abortSignal: callSignal(run, params.abortSignal),
      experimental_transform: [...asArray(params.experimental_transform), endRunTransform(end)],
    });
    return { result, run, ended };
  } catch (error) {
    await end({ failed: true, error });
    throw error;
  }
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * A pass-through transform, placed last, whose flush ends the run. Transforms run before the SDK's own
 * bookkeeping, so the revoke finishes before the result's promises and `onFinish` settle.
 */
function endRunTransform(end: (how: RunOutcome) => Promise<RunEnd>): StreamTextTransform<ToolSet> {
  return () => {
    let how: RunOutcome = { failed: false };
    return new TransformStream({
      transform(part, controller) {
        if (part.type === 'error') how = { failed: true, error: part.error };
        else if (part.type === 'abort') how = { failed: true, error: abortError(part.reason) };
        controller.enqueue(part);
      },
      async flush() {
        await end(how);
      },
    });
  };
}

function abortError(reason: string | undefined): DOMException {
  return new DOMException(reason ?? 'The stream was aborted', 'AbortError');
}
