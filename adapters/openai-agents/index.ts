/**
 * `spendgate/openai-agents`: spendgate's budget-scoped tools for the OpenAI Agents SDK, and the run's
 * lifecycle around `Runner.run()`.
 *
 * The Agents SDK has no run-end event on failure (`agent_end` fires on success only), so the lifecycle is
 * `try/finally` around the run: `runAgentWithBudget` issues the keys first and revokes them however the run
 * ends. `attachRunHooks` is the event form, for code that already drives its own `Runner`.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import {
  Runner,
  tool,
  type AgentInputItem,
  type FunctionTool,
  type NonStreamRunOptions,
  type RunResult,
} from '@openai/agents';
import { createRun, type Run, type RunOptions } from '../../src/run/index.js';
import { resultForUnexpectedError, type RunTool } from '../../src/tools/index.js';

/**
 * The run's tools as Agents SDK function tools. Each returns spendgate's structured result, which the SDK
 * sends to the model as JSON; budget refusals are results, never thrown errors.
 */
export function openaiAgentsTools<TContext = unknown>(
  run: Run,
): FunctionTool<TContext, RunTool['inputSchema']>[] {
  return run.tools.map((runTool) => toFunctionTool<TContext>(runTool));
}

function toFunctionTool<TContext>(runTool: RunTool): FunctionTool<TContext, RunTool['inputSchema']> {
  return tool<RunTool['inputSchema'], TContext, unknown>({
    name: runTool.name,
    description: runTool.description,
    parameters: runTool.inputSchema,
    async execute(input, _context, details) {
      return runTool.execute(input, {
        // The call id seeds the idempotency key; without one, each attempt is its own call.
        toolCallId: details?.toolCall?.callId ?? randomUUID(),
        signal: details?.signal,
      });
    },
    // The SDK's default puts the raw error message in front of the model and says "please try again".
    errorFunction: () => JSON.stringify(resultForUnexpectedError(runTool.name)),
  });
}

/** Any agent, as `Runner.run` accepts it. */
type AnyAgent = Parameters<Runner['run']>[0];

export interface RunAgentWithBudgetOptions<TAgent extends AnyAgent, TContext = undefined> extends Omit<
  RunOptions,
  'tools'
> {
  readonly agent: TAgent;
  readonly input: string | AgentInputItem[];
  /** spendgate tools to add to the agent for this run (its own tools are kept). */
  readonly tools: RunOptions['tools'];
  /** @default a new `Runner()` */
  readonly runner?: Runner;
  /** Passed to `runner.run()`. `signal` is set from the run's options and from `run.signal`. */
  readonly runOptions?: Omit<NonStreamRunOptions<TContext, TAgent>, 'signal' | 'stream'>;
}

/**
 * Runs an agent under a budget: issues the run's keys, runs a copy of `agent` with the spendgate tools
 * added, and revokes the keys in `finally`, whether the run succeeds, throws, is aborted or times out.
 * If issuing fails, the agent never runs.
 *
 * @example
 * ```ts
 * const { result } = await runAgentWithBudget({
 *   client, agent, input: 'Charge cus_123 $20 for order 42',
 *   budget: { label: 'billing-42', caps: { stripe: { usdCap: 50 } } },
 *   tools: [chargeCustomerTool()],
 * });
 * ```
 */
export async function runAgentWithBudget<TAgent extends AnyAgent, TContext = undefined>(
  options: RunAgentWithBudgetOptions<TAgent, TContext>,
): Promise<{ readonly result: RunResult<TContext, TAgent>; readonly run: Run }> {
  const { agent, input, runner = new Runner(), runOptions, ...runConfig } = options;
  const run = createRun(runConfig);
  let result: RunResult<TContext, TAgent>;
  try {
    await run.start();
    // A copy, so the caller's agent never holds tools bound to a run that has ended.
    const budgeted = agent.clone({ tools: [...agent.tools, ...openaiAgentsTools(run)] }) as TAgent;
    const signal = options.signal ? AbortSignal.any([options.signal, run.signal]) : run.signal;
    result = await runner.run(budgeted, input, { ...runOptions, signal });
  } catch (err) {
    await run.end({ quiet: true });
    throw err;
  }
  await run.end();
  return { result, run };
}

/**
 * The event form: starts the run on `agent_start` and ends it on `agent_end`. Listeners are not awaited by
 * the SDK, so the tools wait for the start to finish before their first call.
 *
 * `agent_end` does not fire when a run throws or is aborted: pair this with `finally { await run.end() }`
 * (or `await using`). Returns a function that detaches the listeners.
 */
export function attachRunHooks(runner: Runner, run: Run): () => void {
  const onStart = () => {
    // A failed start leaves the run `failed`; its tools then refuse with a structured result.
    run.start().catch(() => undefined);
  };
  const onEnd = () => {
    void run.end({ quiet: true });
  };
  runner.on('agent_start', onStart);
  runner.on('agent_end', onEnd);
  return () => {
    runner.off('agent_start', onStart);
    runner.off('agent_end', onEnd);
  };
}

export * from '../shared/core-exports.js';
