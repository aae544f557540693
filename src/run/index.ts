export { capsToUsd, resolveCaps, type ResolvedCaps, type RunBudget, type VendorCaps } from './budget.js';
export { asyncDisposeSymbol } from './dispose.js';
export { endpointsByVendor } from './endpoints.js';
export { createRun, Run, startRun, type RunKey, type RunOptions, type RunState } from './run.js';
export { withRun } from './with-run.js';
