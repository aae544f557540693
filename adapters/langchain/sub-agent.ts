import type { BaseMessage } from 'langchain';
import { z } from 'zod';
import { budgetStopIn, callSignal, type BudgetStop, type LoopStop, type Run } from '../../src/run/index.js';
import type { RunTool } from '../../src/tools/index.js';
import { runSubAgent, type SubAgentRunOptions } from '../shared/sub-agent.js';
import { executeWithApproval } from './approval.js';
import { lc } from './framework.js';
import { lastStepOutputs } from './stop.js';
import { langchainTools, toLangChainTool } from './tools.js';

/** What the parent's model sends a sub-agent tool. */
const subAgentInput = z.object({ input: z.string().describe('The task for the sub-agent, in full.') });

export interface RunMiddlewareOptions {
  /** Other tools whose budget refusal ends the loop too: the names of sub-agent tools (`subAgentTool`). */
  readonly stopOn?: readonly string[];
  /** Called with the refusal that ended the loop. */
  readonly onStop?: (stop: BudgetStop) => void;
}

/**
 * A middleware for a run you start and end yourself (`withRun`, or `run.start()` and `run.end()`): it adds
 * the run's tools to a `createAgent` agent and ends the loop after a non-retryable budget refusal, jumping to
 * the end with a message that says why. It neither starts nor ends the run. `spendgateMiddleware` is the
 * one-piece form that also gives every invocation a run of its own.
 */
export function runMiddleware(run: Run, options: RunMiddlewareOptions = {}) {
  return stopMiddleware(
    langchainTools(run),
    run,
    (outputs) => {
      const stop = budgetStopIn(outputs);
      if (stop) options.onStop?.(stop);
      return stop;
    },
    options.stopOn,
  );
}

export type RunMiddleware = ReturnType<typeof runMiddleware>;

/** A `createAgent` agent, as far as a sub-agent tool uses it. */
export interface SubAgent {
  invoke(
    input: { messages: BaseMessage[] },
    config?: { signal?: AbortSignal; recursionLimit?: number },
  ): Promise<{ messages: BaseMessage[] }>;
}

export interface SubAgentToolOptions extends SubAgentRunOptions {
  readonly name: string;
  /** Tells the parent's model what the sub-agent does and when to call it. */
  readonly description: string;
  /**
   * Builds the sub-agent for one call: a `createAgent` agent with `spendgate` in its `middleware`, which
   * adds the child run's tools and ends its loop at a budget refusal. A factory, since each call has its own
   * child run and so its own tools.
   */
  readonly agent: (spendgate: RunMiddleware) => SubAgent;
  /** The sub-agent's LangGraph `recursionLimit` (its steps), @default LangGraph's */
  readonly recursionLimit?: number;
}

/**
 * A LangChain subagent as a tool of the parent agent: each call builds the sub-agent and invokes it under
 * its own child of the parent's run, with new keys under a budget inside the parent's, revoked before the
 * tool answers. The sub-agent's loop ends at its first budget refusal, and the tool then answers with that
 * refusal (non-retryable, `status: 'error'`); a parent under `runMiddleware(run, { stopOn: [name] })` ends
 * its loop on it too. Give the parent a budget of its own (`budget.usdCap` or `budget.parentBudgetId`).
 *
 * A sub-agent cannot pause for a person: its child ends with the call. A call above `approvalAboveUsd` is
 * sent without a grant, and the proxy refuses it with `approval_required`.
 */
export function subAgentTool(options: SubAgentToolOptions) {
  const { name, description, recursionLimit } = options;
  return toLangChainTool({ name, description, inputSchema: subAgentInput }, (input, call) =>
    runSubAgent(name, options, async (child, stop) => {
      const agent = options.agent(childMiddleware(child, stop));
      const state = await agent.invoke(
        { messages: [new lc.HumanMessage(subAgentInput.parse(input).input)] },
        {
          signal: callSignal(child, call.signal),
          ...(recursionLimit === undefined ? {} : { recursionLimit }),
        },
      );
      return { text: state.messages.at(-1)?.text ?? '' };
    }),
  );
}

/**
 * The child's middleware. Its tools never pause: a LangGraph `interrupt()` inside a tool call would pause
 * the parent's graph, and the child run ends with that call, so there would be nothing to resume under.
 */
function childMiddleware(child: Run, stop: LoopStop): RunMiddleware {
  const tools = child.tools.map((runTool: RunTool) =>
    toLangChainTool(runTool, (input, call) => executeWithApproval(runTool, input, call, { canPause: false })),
  );
  return stopMiddleware(tools, child, (outputs) => stop.check(outputs));
}

function stopMiddleware(
  tools: ReturnType<typeof langchainTools>,
  run: Run,
  check: (outputs: ReturnType<typeof lastStepOutputs>) => BudgetStop | null,
  stopOn: readonly string[] = [],
) {
  const names = new Set([...run.tools.map((tool) => tool.name), ...stopOn]);
  return lc.createMiddleware({
    name: 'spendgate-run',
    tools,
    beforeModel: {
      canJumpTo: ['end'],
      hook: (state) => {
        const stop = check(lastStepOutputs(state.messages, names));
        return stop ? { jumpTo: 'end', messages: [new lc.AIMessage(stop.message)] } : undefined;
      },
    },
  });
}
