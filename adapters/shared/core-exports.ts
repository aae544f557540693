/**
 * The core pieces every adapter re-exports, so one import from `spendgate/<framework>` is enough for the
 * common case: a run, its budget, and the three spend tools.
 */
export {
  createRun,
  startRun,
  withRun,
  type ChildRunOptions,
  type Run,
  type RunBudget,
  type RunOptions,
} from '../../src/run/index.js';
export {
  chargeCustomerTool,
  sendEmailTool,
  sendSmsTool,
  type ApprovalDecision,
  type ToolFailure,
  type ToolResult,
} from '../../src/tools/index.js';
