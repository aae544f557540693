import type { Run } from '../../src/run/index.js';
import { callbacks } from './framework.js';

/**
 * Ends a run when the root run of an invocation ends, on every path: success, a thrown error, an abort, a
 * recursion limit. The root is the first chain this handler sees, so it also works when the agent runs
 * inside a larger graph. Handlers are awaited, so the keys are revoked before `invoke()` settles. For a
 * LangGraph graph of your own (`langchainTools(run)` in a `ToolNode`); a `createAgent` agent needs only
 * `spendgateMiddleware`.
 */
export class SpendgateCallbackHandler extends callbacks.BaseCallbackHandler {
  name = 'spendgate';
  override awaitHandlers = true;
  readonly #run: Run;
  #rootRunId: string | undefined;

  constructor(run: Run) {
    super();
    this.#run = run;
  }

  override async handleChainStart(_chain: unknown, _inputs: unknown, runId: string): Promise<void> {
    this.#rootRunId ??= runId;
  }

  override async handleChainEnd(_outputs: unknown, runId: string): Promise<void> {
    if (runId === this.#rootRunId) await this.#run.end({ quiet: true });
  }

  override async handleChainError(_error: unknown, runId: string): Promise<void> {
    if (runId === this.#rootRunId) await this.#run.end({ quiet: true });
  }
}

/** A `SpendgateCallbackHandler` for one invocation: pass it in `invoke(input, { callbacks: [...] })`. */
export function spendgateCallbackHandler(run: Run): SpendgateCallbackHandler {
  return new SpendgateCallbackHandler(run);
}
