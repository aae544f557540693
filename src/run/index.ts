export {
  capsToUsd,
  hasRunBudget,
  resolveCaps,
  type ResolvedCaps,
  type RunBudget,
  type VendorCaps,
} from './budget.js';
export {
  budgetStopIn,
  BudgetStopError,
  LoopStop,
  type BudgetStop,
  type StopPolicy,
  type ToolOutput,
} from './budget-stop.js';
export { asyncDisposeSymbol } from './dispose.js';
export { endpointsByVendor } from './endpoints.js';
export {
  callSignal,
  driveRun,
  finishRun,
  type BudgetedResult,
  type LoopOptions,
  type OnRunEnd,
  type RunEnd,
  type RunOutcome,
  type SpendgateOutcome,
} from './run-end.js';
export {
  createRun,
  Run,
  startRun,
  type ChildRunOptions,
  type RunKey,
  type RunOptions,
  type RunState,
} from './run.js';
export { withRun } from './with-run.js';
