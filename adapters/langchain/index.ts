/**
 * `spendgate/langchain`: spendgate's budget-scoped tools for LangChain v1 agents (`createAgent`), as one
 * middleware that adds the tools, gives every invocation its own run, ends the loop after a non-retryable
 * budget refusal, and revokes the keys.
 *
 * @example
 * ```ts
 * const spendgate = spendgateMiddleware({ client, budget, tools: [sendSmsTool({ from: '+15017122661' })] });
 * const agent = createAgent({ model, middleware: [spendgate] });
 * const result = await spendgate.invoke(agent, { messages });
 * ```
 *
 * For a LangGraph graph of your own: `langchainTools(run)` in a `ToolNode`, with `spendgateCallbackHandler(run)`
 * ending the run when the graph's root run ends.
 *
 * Subagents: `subAgentTool` invokes a nested `createAgent` agent under a child of a run you hold (`withRun`, a
 * budget with `usdCap`); `runMiddleware(run)` gives the parent that run's tools and ends its loop on a refusal.
 *
 * @module
 */
export { createSpendgateClient, type SpendgateClient } from '../../src/client/index.js';
export { type BudgetStop, type LoopOptions, type OnRunEnd, type RunEnd } from '../../src/run/index.js';
export { type SpendgateApprovalRequest } from './approval.js';
export { SpendgateCallbackHandler, spendgateCallbackHandler } from './callback-handler.js';
export { spendgateMiddleware, type SpendgateMiddlewareOptions, type SpendgateState } from './middleware.js';
export {
  runMiddleware,
  subAgentTool,
  type RunMiddleware,
  type RunMiddlewareOptions,
  type SubAgent,
  type SubAgentToolOptions,
} from './sub-agent.js';
export { langchainTools } from './tools.js';
export * from '../shared/core-exports.js';
