import type { generateText, Tool } from 'ai';
import { z } from 'zod';
import { callSignal } from '../../src/run/index.js';
import type { ToolResult } from '../../src/tools/index.js';
import { runSubAgent, type SubAgentRunOptions } from '../shared/sub-agent.js';
import { approvalRequests } from './approval-requests.js';
import { budgetedCall } from './budgeted-call.js';
import { ai } from './framework.js';

type GenerateTextParams = Parameters<typeof generateText>[0];

/** What the parent's model sends a sub-agent tool. */
const subAgentInput = z.object({ input: z.string().describe('The task for the sub-agent, in full.') });

export interface SubAgentToolOptions extends SubAgentRunOptions {
  /** The key you give the tool in `tools`: what the parent's model is told names this sub-agent. */
  readonly name: string;
  /** Tells the parent's model what the sub-agent does and when to call it. */
  readonly description: string;
  /**
   * The sub-agent's `generateText` call, without a prompt: the parent model's `input` becomes it, and the
   * child run's tools are added to `tools`. Give it a `stopWhen` (the SDK's default is a single step).
   */
  readonly generate: Omit<GenerateTextParams, 'prompt' | 'messages' | 'abortSignal'>;
}

/**
 * A tool whose `execute` runs a nested `generateText`, the sub-agent, under its own child of the parent's
 * run: new keys under a budget inside the parent's, revoked before the tool answers. The sub-agent's loop
 * ends at its first budget refusal, and the tool then answers with that refusal as an `error-json` result
 * (non-retryable), which ends the parent's loop too under `budgetRefused()`. Give the parent a budget of
 * its own (`budget.usdCap` or `budget.parentBudgetId`).
 *
 * A sub-agent cannot pause for a person: its child ends with the call. A call above `approvalAboveUsd` is
 * not sent, and the tool answers `approval_required`.
 *
 * @example
 * ```ts
 * await withRun({ client, budget: { usdCap: 20, caps: {} }, tools: [] }, (run) =>
 *   generateText({ model, prompt: 'Bill order 42', abortSignal: run.signal,
 *     stopWhen: [stepCountIs(10), budgetRefused()],
 *     tools: { billing: subAgentTool({ run, name: 'billing', description: 'Bills one order.',
 *       child: { tools: [chargeCustomerTool()], usdCap: 5 },
 *       generate: { model, stopWhen: stepCountIs(10) } }) } }));
 * ```
 */
export function subAgentTool(options: SubAgentToolOptions): Tool<{ input: string }, ToolResult> {
  const { name, description, generate } = options;
  return ai.tool({
    description,
    inputSchema: subAgentInput,
    execute: ({ input }, { abortSignal }) =>
      runSubAgent(name, options, async (child, stop) => {
        const result = await ai.generateText({
          ...budgetedCall({ ...generate, prompt: input }, child, stop),
          abortSignal: callSignal(child, abortSignal),
        });
        if (approvalRequests(result.content).length > 0) return { paused: true };
        return { text: result.text };
      }),
    // The mark the SDK gives a failed call, as on spendgate's own tools (see `aiSdkTools`).
    toModelOutput: ({ output }) =>
      output.ok ? { type: 'json', value: output } : { type: 'error-json', value: output },
  });
}
