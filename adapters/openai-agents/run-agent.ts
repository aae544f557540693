import type { AgentInputItem, NonStreamRunOptions, Runner, RunResult } from '@openai/agents';
import {
  callSignal,
  createRun,
  LoopStop,
  type LoopOptions,
  type Run,
  type RunOptions,
} from '../../src/run/index.js';
import { budgetToolErrorFormatter } from './approvals.js';
import { agents } from './framework.js';
import { drivePausableRun, type ResumableResult } from './pausable-run.js';
import { stopThen } from './stop.js';
import { openaiAgentsTools } from './tools.js';

/** Any agent, as `Runner.run` accepts it. */
export type AnyAgent = Parameters<Runner['run']>[0];

export interface RunAgentWithBudgetOptions<TAgent extends AnyAgent, TContext = undefined>
  extends Omit<RunOptions, 'tools'>, LoopOptions {
  readonly agent: TAgent;
  readonly input: string | AgentInputItem[];
  /** spendgate tools to add to the agent for this run (its own tools are kept). */
  readonly tools: RunOptions['tools'];
  /** @default a new `Runner()` */
  readonly runner?: Runner;
  /**
   * Passed to `runner.run()`. `signal` is set from the run's options and from `run.signal`; a
   * `toolErrorFormatter` (yours, or the runner's) still formats everything but a rejected spendgate call.
   */
  readonly runOptions?: Omit<NonStreamRunOptions<TContext, TAgent>, 'signal' | 'stream'>;
}

/** `runAgentWithBudget`'s answer: the SDK's result, the run, why the loop ended, and how to go on after a pause. */
export type BudgetedRunResult<TContext, TAgent extends AnyAgent> = ResumableResult<
  RunResult<TContext, TAgent>
>;

/**
 * Runs an agent under a budget: issues the run's keys, runs a copy of `agent` with the spendgate tools
 * added, and revokes the keys however the run ends (success, throw, abort, timeout). If issuing fails, the
 * agent never runs. After a non-retryable budget refusal the run ends at once (see `stopOnRefusal`), with
 * the refusal in `spendgate.stoppedBy` and stated in `result.finalOutput`. On failure the error is rethrown
 * unchanged; `onRunEnd` still gets the run.
 *
 * A call above the budget's `approvalAboveUsd` pauses the run through the SDK's `needsApproval`: it returns
 * with `result.interruptions` (described in `approvals`) and its keys still active. Decide each with
 * `result.state.approve(item)` or `result.state.reject(item)`, then `await resume()`; or `end()` to give up.
 *
 * @example
 * ```ts
 * const { result, spendgate } = await runAgentWithBudget({
 *   client, agent, input: 'Charge cus_123 $20 for order 42',
 *   budget: { label: 'billing-42', caps: { stripe: { usdCap: 50 } } },
 *   tools: [chargeCustomerTool()],
 * });
 * if (spendgate.stoppedBy) console.log(spendgate.stoppedBy.message);
 * ```
 */
export async function runAgentWithBudget<TAgent extends AnyAgent, TContext = undefined>(
  options: RunAgentWithBudgetOptions<TAgent, TContext>,
): Promise<BudgetedRunResult<TContext, TAgent>> {
  const { agent, input, runOptions, stopOnRefusal, onRunEnd, ...runConfig } = options;
  const runner = options.runner ?? new agents.Runner();
  const run = createRun(runConfig);
  const stop = new LoopStop({ stopOnRefusal });
  const budgeted = budgetedAgent(agent, run, stop);
  const callOptions = {
    ...runOptions,
    signal: callSignal(run, options.signal),
    // Set on every resume too: the SDK reads it when it answers a rejection, which happens on resume.
    toolErrorFormatter: budgetToolErrorFormatter(run, {
      fallback: runOptions?.toolErrorFormatter ?? runner.config.toolErrorFormatter,
    }),
  };
  return drivePausableRun(
    { run, stop, onRunEnd, tools: options.tools },
    () => runner.run(budgeted, input, callOptions),
    // The SDK resumes a paused state with the agent and tools it paused in: this run's, bound to its keys.
    (paused) => runner.run(budgeted, paused.state, callOptions),
  );
}

/**
 * A copy of `agent` with the run's tools added and the budget stop in front of its own `toolUseBehavior`. A
 * copy, so the caller's agent never holds tools bound to a run that has ended.
 */
export function budgetedAgent<TAgent extends AnyAgent>(agent: TAgent, run: Run, stop: LoopStop): TAgent {
  return agent.clone({
    tools: [...agent.tools, ...openaiAgentsTools(run)],
    toolUseBehavior: stopThen((outputs) => stop.check(outputs), { fallback: agent.toolUseBehavior }),
  }) as TAgent;
}
