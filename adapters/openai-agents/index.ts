/**
 * `spendgate/openai-agents`: spendgate's budget-scoped tools for the OpenAI Agents SDK, and the run's
 * lifecycle around `Runner.run()`.
 *
 * The Agents SDK has no run-end event on failure (`agent_end` fires on success only), so the lifecycle is
 * `try/finally` around the run: `runAgentWithBudget` (and `streamAgentWithBudget`) issue the keys first and
 * revoke them however the run ends, and end the loop after a non-retryable budget refusal through the
 * agent's `toolUseBehavior`. `attachRunHooks` is the event form, for code that drives its own `Runner`.
 *
 * Calls above the budget's `approvalAboveUsd` pause through the SDK's own `needsApproval`: the run returns
 * with `result.interruptions`, the app decides with `result.state.approve()` / `reject()`, and `resume()`
 * goes on under the same keys; `pendingSpendApprovals` lists the paused spend calls for an approval UI.
 *
 * Sub-agents spend under a child of a run you hold (`withRun`, a budget with `usdCap`): `subAgentTool` is
 * `agent.asTool()` with a child run per call, and `budgetedHandoff` a handoff whose target spends under one.
 *
 * @module
 */
export { createSpendgateClient, type SpendgateClient } from '../../src/client/index.js';
export {
  BudgetStopError,
  type BudgetedResult,
  type BudgetStop,
  type LoopOptions,
  type OnRunEnd,
  type RunEnd,
  type SpendgateOutcome,
} from '../../src/run/index.js';
export {
  budgetToolErrorFormatter,
  pendingSpendApprovals,
  type BudgetToolErrorFormatterOptions,
  type PendingSpendApproval,
} from './approvals.js';
export type { ResumableResult } from './pausable-run.js';
export {
  runAgentWithBudget,
  type AnyAgent,
  type BudgetedRunResult,
  type RunAgentWithBudgetOptions,
} from './run-agent.js';
export { attachRunHooks } from './run-hooks.js';
export { budgetToolUseBehavior, type BudgetToolUseBehaviorOptions } from './stop.js';
export {
  streamAgentWithBudget,
  type BudgetedStream,
  type StreamAgentWithBudgetOptions,
} from './stream-agent.js';
export {
  budgetedHandoff,
  subAgentTool,
  type BudgetedHandoff,
  type BudgetedHandoffOptions,
  type SubAgentToolOptions,
} from './sub-agent.js';
export { openaiAgentsTools } from './tools.js';
export * from '../shared/core-exports.js';
