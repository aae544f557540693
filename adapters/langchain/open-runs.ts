import {
  createRun,
  finishRun,
  LoopStop,
  type LoopOptions,
  type Run,
  type RunEnd,
  type RunOptions,
  type RunOutcome,
} from '../../src/run/index.js';
import { resultForInactiveRun, type RunTool, type ToolResult } from '../../src/tools/index.js';

/** One agent invocation's run, and the stop decision for its loop. */
export interface OpenRun {
  readonly run: Run;
  readonly stop: LoopStop;
  started?: Promise<void>;
  ending?: Promise<RunEnd>;
}

/**
 * How a hook or a tool names its invocation's run: the token a wrapper put in `configurable` (it names the
 * invocation itself, a resume included), else the run id kept in the agent's state.
 */
export interface InvocationRef {
  readonly token: string | undefined;
  readonly runId: string | undefined;
}

/**
 * The runs one middleware has open: a fresh run per agent invocation, found again by its id (kept in the
 * agent's state) or by the invocation token a wrapper put in `configurable`. An entry goes once its run ends.
 */
export class OpenRuns {
  readonly #runOptions: RunOptions;
  readonly #loop: LoopOptions;
  readonly #byRunId = new Map<string, OpenRun>();
  readonly #byToken = new Map<string, OpenRun>();

  constructor(runOptions: RunOptions, loop: LoopOptions) {
    // A run only validates here (caps, tool names); nothing is issued. A budget without caps then fails
    // when the middleware is made, not at the first invocation.
    createRun(runOptions);
    this.#runOptions = runOptions;
    this.#loop = loop;
  }

  /**
   * Creates and starts the run of an invocation; the same one again for a token that has one (a resume opens
   * its run before the graph runs, and `beforeAgent` may then run too). If issuing fails, the run is settled
   * as failed.
   */
  async open(token: string | undefined): Promise<OpenRun> {
    const existing = token === undefined ? undefined : this.#byToken.get(token);
    if (existing) {
      await existing.started;
      return existing;
    }
    const open: OpenRun = { run: createRun(this.#runOptions), stop: new LoopStop(this.#loop) };
    const { run } = open;
    this.#byRunId.set(run.id, open);
    if (token !== undefined) this.#byToken.set(token, open);
    // However the run ends (settled here, its signal, its timeout), its tools stop finding it by id. The token
    // entry stays until the wrapper that made it ends the invocation.
    run.signal.addEventListener('abort', () => this.#byRunId.delete(run.id), { once: true });
    open.started = this.#start(open);
    await open.started;
    return open;
  }

  async #start(open: OpenRun): Promise<void> {
    try {
      await open.run.start();
    } catch (error) {
      await this.settle(open, { failed: true, error });
      throw error;
    }
  }

  /** The invocation's run: by its wrapper's token first, since a resumed graph still holds the paused run's id. */
  find(ref: InvocationRef): OpenRun | undefined {
    const byToken = ref.token === undefined ? undefined : this.#byToken.get(ref.token);
    return byToken ?? (ref.runId === undefined ? undefined : this.#byRunId.get(ref.runId));
  }

  /** Runs a tool under the invocation's run; outside one (ended, or never started) nothing is sent. */
  async execute(
    toolName: string,
    ref: InvocationRef,
    body: (runTool: RunTool) => Promise<ToolResult>,
  ): Promise<ToolResult> {
    const open = this.find(ref);
    const runTool = open?.run.tools.find((candidate) => candidate.name === toolName);
    if (!runTool) return resultForInactiveRun(open || ref.runId !== undefined ? 'ended' : 'not_started');
    return body(runTool);
  }

  /** Ends a run once, whoever asks first (the stop, `afterAgent`, the wrapper), and tells `onRunEnd`. */
  settle(open: OpenRun, how: RunOutcome): Promise<RunEnd> {
    open.ending ??= finishRun(
      { run: open.run, stoppedBy: open.stop.stoppedBy, ...how },
      { onRunEnd: this.#loop.onRunEnd },
    );
    return open.ending;
  }

  /** The wrapper's end of an invocation: ends its run if the graph did not. Never rejects after a failure. */
  async endInvocation(token: string, how: RunOutcome): Promise<void> {
    const open = this.#byToken.get(token);
    this.#byToken.delete(token);
    if (!open) return;
    const ending = this.settle(open, how);
    if (how.failed) await ending.catch(() => undefined);
    else await ending;
  }
}
