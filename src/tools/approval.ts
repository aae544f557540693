import { isRecord } from '../client/response-error.js';
import type { CallOutcome } from './proxy-call.js';
import { failure, readProxyRefusal, STOP_AND_REPORT } from './refusal-result.js';
import type { ToolFailure } from './types.js';

/**
 * A person's decision on one tool call, as the framework's own human-in-the-loop reports it: `approved`
 * lets the tool obtain a grant and send the call; `denied` ends it before anything is sent.
 */
export type ApprovalDecision = 'approved' | 'denied';

/** What a call says it will spend, in USD, when its arguments state it; `'unknown'` when they state an amount this code cannot convert. */
export type StatedUsd = number | 'unknown' | null;

/**
 * Whether a person should be asked before a call is sent: its stated amount is above the run's threshold,
 * or it states an amount in a currency this process cannot price (the proxy, which can, decides either way).
 * A call that states nothing (an SMS priced by segments) is not asked about here; the proxy still refuses
 * it with `approval_required` if its price is above the threshold.
 */
export function isAboveThreshold(stated: StatedUsd, thresholdUsd: number | null): boolean {
  if (thresholdUsd === null || stated === null) return false;
  return stated === 'unknown' || stated > thresholdUsd;
}

/** The pending approval a proxy refusal names. */
export interface PendingApproval {
  readonly id: string;
  readonly amountUsd: number;
}

/** The `error.approval` of an `approval_required` refusal; `null` for any other outcome. */
export function pendingApproval(outcome: CallOutcome): PendingApproval | null {
  if (outcome.kind !== 'response' || outcome.status !== 403) return null;
  const refusal = readProxyRefusal(outcome.json);
  if (refusal?.code !== 'approval_required' || !isRecord(refusal.details.approval)) return null;
  const { id, amount_usd: amountUsd } = refusal.details.approval;
  if (typeof id !== 'string' || typeof amountUsd !== 'number') return null;
  return { id, amountUsd };
}

/**
 * A call above the approval threshold that no person has approved through the framework. Nothing was sent;
 * the app can approve `approval_id` (admin API or `spendgate approvals approve`) and run the call again.
 */
export function approvalRequiredResult(toolName: string, pending: PendingApproval): ToolFailure {
  return failure({
    error: 'approval_required',
    retryable: false,
    approval_id: pending.id,
    amount_usd: pending.amountUsd,
    message: `${toolName} for $${pending.amountUsd} needs a person's approval (approval ${pending.id}), and none was given for this call. Nothing was sent. ${STOP_AND_REPORT}`,
  });
}

/** A person said no. Nothing was sent or charged. */
export function approvalDeniedResult(toolName: string): ToolFailure {
  return failure({
    error: 'approval_denied',
    retryable: false,
    message: `A person denied this ${toolName} call. Nothing was sent or charged. ${STOP_AND_REPORT}`,
  });
}

/** The proxy priced the call above what the person was shown: the grant is not asked for. */
export function approvalMismatchResult(
  toolName: string,
  approvedUsd: number,
  pricedUsd: number,
): ToolFailure {
  return failure({
    error: 'approval_invalid',
    retryable: false,
    message: `${toolName} was approved for $${approvedUsd}, but the proxy prices it at $${pricedUsd}; it was not sent. ${STOP_AND_REPORT}`,
  });
}

/** The approval could not be turned into a grant (it expired, or was decided elsewhere). */
export function grantFailedResult(toolName: string, reason: string): ToolFailure {
  return failure({
    error: 'approval_invalid',
    retryable: false,
    message: `${toolName} was approved, but its grant could not be obtained (${reason}); nothing was sent. ${STOP_AND_REPORT}`,
  });
}
