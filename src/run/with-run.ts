import { driveRun } from './run-end.js';
import { createRun, type Run, type RunOptions } from './run.js';

/**
 * Starts a run, calls `body` with it, and ends the run however `body` finishes: return, throw, abort or
 * timeout. If `body` throws, that error is rethrown unchanged and a revoke failure goes to `onEndError`;
 * if it returns, a revoke failure rejects.
 *
 * @example
 * ```ts
 * const summary = await withRun({ client, budget, tools }, async (run) => runMyAgent(run.tools, run.signal));
 * ```
 */
export async function withRun<T>(options: RunOptions, body: (run: Run) => Promise<T>): Promise<T> {
  const run = createRun(options);
  return driveRun(run, () => body(run));
}
