import { isRecord } from '../client/response-error.js';
import type { ToolFailure } from './types.js';

/**
 * The refusals after which retrying cannot help: the budget is used up, the run's key is gone, or the call is
 * not allowed at all. Adapters end the agent loop after one of these by default.
 */
export const BUDGET_STOP_CODES = [
  'cap_exhausted',
  'key_revoked',
  'key_expired',
  'per_call_limit_exceeded',
  'endpoint_not_allowed',
  'approval_invalid',
  // A sandbox key on a live proxy (or the reverse): no retry can change which ledger it belongs to.
  'key_mode_mismatch',
  // A call a person must approve (or has denied): the loop stops rather than trying smaller amounts.
  'approval_required',
  'approval_denied',
] as const;

export type BudgetStopCode = (typeof BUDGET_STOP_CODES)[number];

/** A tool result that ends the loop: a budget refusal the model must not retry. */
export type BudgetStopResult = ToolFailure & { readonly error: BudgetStopCode };

/**
 * Whether a tool's output is a non-retryable budget refusal. It takes `unknown` because frameworks hand tool
 * outputs back untyped; a `cap_exhausted` held by calls still in flight is retryable, so it does not match.
 */
export function isBudgetStop(output: unknown): output is BudgetStopResult {
  return (
    isRecord(output) &&
    output.ok === false &&
    output.retryable === false &&
    (BUDGET_STOP_CODES as readonly unknown[]).includes(output.error)
  );
}
