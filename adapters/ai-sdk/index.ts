/**
 * `spendgate/ai-sdk`: spendgate's budget-scoped tools for the Vercel AI SDK, and wrappers around
 * `generateText` and `streamText` that issue the run's keys before the call and revoke them after it, on
 * finish, error or abort, and end the loop after a non-retryable budget refusal (a `stopWhen` condition
 * added to the caller's).
 *
 * `generateText` has no error callback (a failure just rejects), so its wrapper uses `try/finally`;
 * `streamText`'s wrapper ends the run in a stream transform, so the revoke is done before the stream's own
 * promises settle.
 *
 * A call above the budget's `approvalAboveUsd` pauses through the SDK's own tool approval (`needsApproval`,
 * a `tool-approval-request` in the result, a `tool-approval-response` in the next call's messages);
 * `approvalRequests` and `approvalResponses` read and answer them.
 *
 * `subAgentTool` is a tool whose `execute` runs a nested `generateText` under a child of a run you hold
 * (`withRun`, a budget with `usdCap`), so the sub-agent can never spend more than its parent has left.
 *
 * @module
 */
export { createSpendgateClient, type SpendgateClient } from '../../src/client/index.js';
export {
  type BudgetedResult,
  type BudgetStop,
  type LoopOptions,
  type OnRunEnd,
  type RunEnd,
  type SpendgateOutcome,
} from '../../src/run/index.js';
export {
  generateTextWithBudget,
  type GenerateTextWithBudgetOptions,
  type SpendgateCallOptions,
} from './generate.js';
export {
  approvalRequests,
  approvalResponses,
  type ApprovalDecisionInput,
  type ApprovalRequest,
} from './approval-requests.js';
export { budgetRefused } from './stop.js';
export { streamTextWithBudget, type BudgetedTextStream, type StreamTextWithBudgetOptions } from './stream.js';
export { subAgentTool, type SubAgentToolOptions } from './sub-agent.js';
export { aiSdkTools, type AiSdkToolsOptions } from './tools.js';
export * from '../shared/core-exports.js';
