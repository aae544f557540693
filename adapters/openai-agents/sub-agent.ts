import type { FunctionTool, Handoff, NonStreamRunOptions, Runner } from '@openai/agents';
import { z } from 'zod';
import { callSignal, LoopStop, type BudgetStop, type Run } from '../../src/run/index.js';
import { resultForUnexpectedError, type ToolResult } from '../../src/tools/index.js';
import { runSubAgent, type SubAgentRunOptions } from '../shared/sub-agent.js';
import { agents } from './framework.js';
import { budgetedAgent, type AnyAgent } from './run-agent.js';

/** What the parent's model sends a sub-agent tool: the SDK's own `agent.asTool()` input. */
const subAgentInput = z.object({ input: z.string().describe('The task for the sub-agent, in full.') });

export interface SubAgentToolOptions<TAgent extends AnyAgent> extends SubAgentRunOptions {
  /** The sub-agent. Each call runs a copy of it with the child run's tools added. */
  readonly agent: TAgent;
  /** @default the agent's name */
  readonly name?: string;
  /** Tells the parent's model what the sub-agent does and when to call it. */
  readonly description: string;
  /** Runs the sub-agent. @default a new `Runner()` */
  readonly runner?: Runner;
  /** Passed to the sub-agent's `runner.run()` (`maxTurns`, …); the tool sets `signal` and `context`. */
  readonly runOptions?: Omit<NonStreamRunOptions<unknown, TAgent>, 'signal' | 'stream' | 'context'>;
}

/**
 * A sub-agent as a tool of the parent agent, like the SDK's `agent.asTool()`, except that each call runs
 * under its own child of the parent's run: new keys under a budget inside the parent's, revoked before the
 * tool answers. The sub-agent's loop ends at its first budget refusal, and the tool then answers with that
 * refusal (non-retryable), which ends the parent's loop too under `budgetToolUseBehavior`. Give the parent
 * a budget of its own (`budget.usdCap` or `budget.parentBudgetId`).
 *
 * A sub-agent cannot pause for a person: its child ends with the call. A call above `approvalAboveUsd` is
 * not sent, and the tool answers `approval_required`.
 *
 * @example
 * ```ts
 * await withRun({ client, budget: { usdCap: 20, caps: {} }, tools: [] }, async (run) => {
 *   const billing = subAgentTool({ run, agent: billingAgent, description: 'Bills one order.',
 *     child: { tools: [chargeCustomerTool()], usdCap: 5 } });
 *   const lead = new Agent({ name: 'lead', tools: [billing], toolUseBehavior: budgetToolUseBehavior() });
 *   return new Runner().run(lead, 'Bill order 42', { signal: run.signal, maxTurns: 10 });
 * });
 * ```
 */
export function subAgentTool<TAgent extends AnyAgent, TContext = unknown>(
  options: SubAgentToolOptions<TAgent>,
): FunctionTool<TContext, typeof subAgentInput, ToolResult> {
  const { agent, description, runOptions } = options;
  const runner = options.runner ?? new agents.Runner();
  const name = options.name ?? agent.name;
  return agents.tool<typeof subAgentInput, TContext, ToolResult>({
    name,
    description,
    parameters: subAgentInput,
    execute: ({ input }, context, details) =>
      runSubAgent(name, options, async (child, stop) => {
        const result = await runner.run(budgetedAgent(agent, child, stop), input, {
          ...runOptions,
          // The parent's context, as `asTool()` passes it: the sub-agent sees the same app context.
          ...(context === undefined ? {} : { context }),
          signal: callSignal(child, details?.signal),
        });
        if (result.interruptions.length > 0) return { paused: true };
        const output: unknown = result.finalOutput;
        return { text: typeof output === 'string' ? output : JSON.stringify(output ?? null) };
      }),
    // The SDK's default shows the model the raw error and says "please try again": wrong after spending.
    errorFunction: () => JSON.stringify(resultForUnexpectedError(name)),
  });
}

export interface BudgetedHandoffOptions<TAgent extends AnyAgent> extends Omit<
  SubAgentRunOptions,
  'onRunEnd'
> {
  /** The agent handed off to. It runs as a copy with the child run's tools added. */
  readonly agent: TAgent;
  /** The SDK's handoff options; the child run starts in `onHandoff`. */
  readonly handoff?: Omit<NonNullable<Parameters<typeof agents.handoff>[1]>, 'onHandoff' | 'inputType'>;
}

/** A handoff whose target spends under a child of the parent's run. */
export interface BudgetedHandoff {
  /** Put it in the parent agent's `handoffs`. */
  readonly handoff: Handoff;
  /** The child run the target agent spends under: started by the handoff, ended with the parent's run. */
  readonly run: Run;
  /** The budget refusal that ended the target agent's loop, or `null`. */
  readonly stoppedBy: () => BudgetStop | null;
}

/**
 * A handoff to an agent that spends under a child of the parent's run. A handoff hands over the rest of the
 * same `runner.run()`, so the child is made now and started when the model hands off (before the target
 * agent's first turn); it ends when the parent's run ends, which also revokes its budget and keys. The
 * target's loop ends at its first budget refusal, with that refusal's message as the run's final output.
 */
export function budgetedHandoff<TAgent extends AnyAgent>(
  options: BudgetedHandoffOptions<TAgent>,
): BudgetedHandoff {
  const child = options.run.child(options.child);
  const stop = new LoopStop({ stopOnRefusal: options.stopOnRefusal });
  const handoff = agents.handoff(budgetedAgent(options.agent, child, stop), {
    ...options.handoff,
    // Awaited by the SDK: if the child cannot start, the run rejects before the target spends anything.
    onHandoff: async () => {
      await child.start();
    },
  });
  return { handoff, run: child, stoppedBy: () => stop.stoppedBy };
}
