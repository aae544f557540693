import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isRecord } from '../../src/client/response-error.js';
import type { BudgetStop, LoopOptions, RunOptions, RunOutcome } from '../../src/run/index.js';
import { executeWithApproval, sharesTaskWithOtherCalls } from './approval.js';
import { graph, lc } from './framework.js';
import { OpenRuns, type InvocationRef } from './open-runs.js';
import { lastStepOutputs } from './stop.js';
import { toLangChainTool } from './tools.js';

/** The run to create for each invocation (client, budget, tools), and the loop options. */
export type SpendgateMiddlewareOptions = RunOptions & LoopOptions;

/** What the middleware keeps in the agent's state, and so in `invoke()`'s result as `result.spendgate`. */
export interface SpendgateState {
  /** The invocation's run, `run_…`: the `spendgate_run_id` metadata on its keys. */
  readonly runId: string;
  /** The budget refusal that ended the loop, or `null`. */
  readonly stoppedBy: BudgetStop | null;
}

/** The `configurable` entry by which the wrappers find the run their invocation started. */
const INVOCATION = 'spendgate_invocation';

const stateSchema = z.object({ spendgate: z.custom<SpendgateState>().optional() });

type InvocationConfig = { readonly configurable?: Readonly<Record<string, unknown>> } | undefined;

/** An agent that streams (its `stream` is generic over stream modes, so it is matched loosely). */
type Streamable = { stream(input: never, config?: never): Promise<AsyncIterable<unknown>> };
type ChunkOf<A extends Streamable> =
  Awaited<ReturnType<A['stream']>> extends AsyncIterable<infer T> ? T : never;

/**
 * Everything a `createAgent` agent needs, in one middleware. It adds the spendgate tools to the agent,
 * starts a fresh run (new keys) in `beforeAgent` of every invocation, so a reused agent never holds a
 * revoked key, ends the loop after a non-retryable budget refusal (`beforeModel`, jumping to the end with
 * a final message that says why), and revokes the keys when the agent finishes.
 *
 * Middleware does not see every failure (a model error, a recursion limit), so call the agent through
 * `spendgate.invoke(agent, …)` or `spendgate.stream(agent, …)`: they revoke on every path. A plain
 * `agent.invoke()` still works, and after such a failure its keys lapse at their TTL.
 *
 * A call above the budget's `approvalAboveUsd` pauses the graph (`interrupt()`, so give `createAgent` a
 * checkpointer) with a `HITLRequest`, and is sent once after `spendgate.invoke(agent, new Command({ resume:
 * { decisions: [{ type: 'approve' }] } }), config)`. Through the wrappers, the paused invocation's keys are
 * revoked when it returns, so an approval nobody answers leaves nothing live; the resume gets a new run.
 *
 * @example
 * ```ts
 * const spendgate = spendgateMiddleware({ client, budget: { caps: { stripe: { usdCap: 50 } } }, tools: [chargeCustomerTool()] });
 * const agent = createAgent({ model, tools: [lookupOrder], middleware: [spendgate] });
 * const result = await spendgate.invoke(agent, { messages: [new HumanMessage('Bill order 42')] });
 * result.spendgate?.stoppedBy; // the refusal that ended the run, if one did
 * ```
 */
export function spendgateMiddleware(options: SpendgateMiddlewareOptions) {
  const { stopOnRefusal, onRunEnd, ...runOptions } = options;
  const runs = new OpenRuns(runOptions, { stopOnRefusal, onRunEnd });
  const names = new Set(runOptions.tools.map((tool) => tool.name));
  const middleware = lc.createMiddleware({
    name: 'spendgate',
    stateSchema,
    tools: runOptions.tools.map((tool) =>
      toLangChainTool(tool, (input, call, runtime) =>
        runs.execute(tool.name, refOf(runtime.configurable, runtime.state), (runTool) =>
          executeWithApproval(runTool, input, call, {
            canPause: !sharesTaskWithOtherCalls(runtime.state, call.toolCallId),
          }),
        ),
      ),
    ),
    beforeAgent: async (_state, runtime) => {
      const open = await runs.open(tokenOf(runtime.configurable));
      return { spendgate: { runId: open.run.id, stoppedBy: null } };
    },
    beforeModel: {
      canJumpTo: ['end'],
      hook: async (state, runtime) => {
        const open = runs.find(refOf(runtime.configurable, state));
        if (!open) return undefined;
        const stop = open.stop.check(lastStepOutputs(state.messages, names));
        // A resumed graph still holds the paused invocation's run id: point the state at this one.
        const moved = open.run.id !== runIdOf(state);
        if (!stop) return moved ? { spendgate: { runId: open.run.id, stoppedBy: null } } : undefined;
        // A jump to the end skips `afterAgent`, so the run ends here.
        await runs.settle(open, { failed: false });
        const spendgate: SpendgateState = { runId: open.run.id, stoppedBy: stop };
        return { jumpTo: 'end', messages: [new lc.AIMessage(stop.message)], spendgate };
      },
    },
    afterAgent: async (state, runtime) => {
      const open = runs.find(refOf(runtime.configurable, state));
      if (open) await runs.settle(open, { failed: false });
      return undefined;
    },
  });

  /** `agent.invoke(input, config)`, with the invocation's run ended on every path. */
  async function invoke<I, C extends InvocationConfig, R>(
    agent: { invoke(input: I, config?: C): Promise<R> },
    input: I,
    config?: C,
  ): Promise<R> {
    const token = randomUUID();
    let result: R;
    try {
      await openIfResume(input, token);
      result = await agent.invoke(input, withToken(config, token));
    } catch (error) {
      await runs.endInvocation(token, { failed: true, error });
      throw error;
    }
    await runs.endInvocation(token, { failed: false });
    return result;
  }

  /** `agent.stream(input, config)`, with the run ended when the stream ends, fails or is left early. */
  async function stream<A extends Streamable>(
    agent: A,
    input: Parameters<A['stream']>[0],
    config?: Parameters<A['stream']>[1],
  ): Promise<AsyncGenerator<ChunkOf<A>, void, undefined>> {
    const token = randomUUID();
    const start = agent.stream.bind(agent) as (
      input: unknown,
      config?: InvocationConfig,
    ) => Promise<AsyncIterable<ChunkOf<A>>>;
    let source: AsyncIterable<ChunkOf<A>>;
    try {
      await openIfResume(input, token);
      source = await start(input, withToken(config as InvocationConfig, token));
    } catch (error) {
      await runs.endInvocation(token, { failed: true, error });
      throw error;
    }
    return endAfter(source, (how) => runs.endInvocation(token, how));
  }

  /**
   * A resume (`new Command({ resume })`) continues a paused graph after `beforeAgent`, so its run is opened
   * here. The paused invocation's keys were revoked when it returned; this one gets its own.
   */
  async function openIfResume(input: unknown, token: string): Promise<void> {
    if (graph.isCommand(input)) await runs.open(token);
  }

  return Object.assign(middleware, { invoke, stream });
}

/** Passes every chunk on, then ends the run: after the last chunk, after an error, or when the reader stops. */
async function* endAfter<T>(
  source: AsyncIterable<T>,
  end: (how: RunOutcome) => Promise<void>,
): AsyncGenerator<T, void, undefined> {
  // Until the last chunk has passed, an exit (a `break` in the reader's loop) is an abandoned stream.
  let how: RunOutcome = {
    failed: true,
    error: new DOMException('The stream was left before it ended', 'AbortError'),
  };
  try {
    yield* source;
    how = { failed: false };
  } catch (error) {
    how = { failed: true, error };
    throw error;
  } finally {
    await end(how);
  }
}

function withToken<C extends InvocationConfig>(config: C | undefined, token: string): C {
  return { ...config, configurable: { ...config?.configurable, [INVOCATION]: token } } as unknown as C;
}

function tokenOf(configurable: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const token = configurable?.[INVOCATION];
  return typeof token === 'string' ? token : undefined;
}

function refOf(configurable: Readonly<Record<string, unknown>> | undefined, state: unknown): InvocationRef {
  return { token: tokenOf(configurable), runId: runIdOf(state) };
}

function runIdOf(state: unknown): string | undefined {
  const entry = isRecord(state) ? state.spendgate : undefined;
  return isRecord(entry) && typeof entry.runId === 'string' ? entry.runId : undefined;
}
