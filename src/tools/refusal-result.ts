import { isRecord } from '../client/response-error.js';
import type { JsonValue, ToolFailure } from './types.js';

/** What the model is told after a refusal that no retry can fix. */
export const STOP_AND_REPORT =
  'Do not retry this call, and do not try to spend another way (smaller amounts, other tools). Stop and report this to the user.';

/** Proxy refusals that end the run's ability to spend: the model must stop, not work around them. */
export const STOP_REASONS: Readonly<Record<string, string>> = {
  cap_exhausted: 'The budget for this run is used up',
  key_revoked: 'This run has ended and its spending key was revoked',
  key_expired: "This run's spending key has expired",
  key_invalid: "This run's spending key is not valid",
  endpoint_not_allowed: 'This run is not allowed to make this call',
  vendor_mismatch: "This run's key is for a different vendor",
  per_call_limit_exceeded: 'This single call would cost more than the per-call limit for this run',
  approval_invalid: 'The approval for this call is not valid (denied, expired or already used)',
  approval_required: "This call needs a person's approval",
  approval_denied: 'A person denied this call',
  key_mode_mismatch: "This run's key belongs to another mode (sandbox or live) than this proxy",
};

/** A refusal written by the proxy itself, as opposed to a vendor error that happens to share a code. */
export interface ProxyRefusal {
  /** Kept as a string: a newer proxy may answer a code this client does not list yet. */
  readonly code: string;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Reads `{ error: { type: 'spendgate_error', code, message, ... } }`; `null` for any other body. */
export function readProxyRefusal(body: unknown): ProxyRefusal | null {
  if (!isRecord(body) || !isRecord(body.error) || body.error.type !== 'spendgate_error') return null;
  const { code, message, ...rest } = body.error;
  if (typeof code !== 'string' || code === '') return null;
  return { code, message: typeof message === 'string' ? message : code, details: rest };
}

/**
 * Maps a final (not transient) proxy refusal. A `cap_exhausted` while other calls still hold part of the
 * budget (`reserved_usd` > 0) is different from a spent budget: if one of those calls fails, its money comes
 * back, so the model may try once more after they finish.
 */
export function resultForRefusal(
  refusal: ProxyRefusal,
  context: { readonly toolName: string; readonly inFlightWaitSeconds: number },
): ToolFailure {
  const remaining = usdField(refusal.details.remaining_usd);
  const reserved = usdField(refusal.details.reserved_usd);
  // Which budget refused (a run's, a parent's, a tenant's), when it was a budget and not the key itself.
  const budgetId = typeof refusal.details.budget_id === 'string' ? refusal.details.budget_id : null;
  if (refusal.code === 'cap_exhausted' && reserved !== null && reserved > 0) {
    return withBudget(heldByCallsInFlight(refusal, reserved, remaining, context), budgetId);
  }
  const reason = STOP_REASONS[refusal.code];
  if (!reason) {
    return failure({
      error: refusal.code,
      retryable: false,
      message: `spendgate refused the call (${refusal.message}). Do not retry it as it is; report this to the user.`,
    });
  }
  return withBudget(
    failure({
      error: refusal.code,
      retryable: false,
      ...(refusal.code === 'cap_exhausted' ? { budget: 'spent' } : {}),
      message: `${reason} (${refusal.message}). ${STOP_AND_REPORT}`,
      ...(remaining === null ? {} : { remaining_budget_usd: remaining }),
    }),
    budgetId,
  );
}

function withBudget(result: ToolFailure, budgetId: string | null): ToolFailure {
  return budgetId === null ? result : { ...result, budget_id: budgetId };
}

function heldByCallsInFlight(
  refusal: ProxyRefusal,
  reserved: number,
  remaining: number | null,
  context: { readonly toolName: string; readonly inFlightWaitSeconds: number },
): ToolFailure {
  const wait = context.inFlightWaitSeconds;
  return failure({
    error: 'cap_exhausted',
    retryable: true,
    budget: 'in_flight',
    reserved_usd: reserved,
    ...(remaining === null ? {} : { remaining_budget_usd: remaining }),
    retry_after_seconds: wait,
    message: `This call does not fit the budget right now: $${reserved} of it is held by calls still in flight on this run's ${typeof refusal.details.budget_id === 'string' ? 'budget' : 'key'} (${refusal.message}). Nothing was charged for this call. If one of those calls fails, its money comes back: wait until they have finished (at most ${wait} s), then you may call ${context.toolName} once more. If that is refused too, stop and report it to the user.`,
  });
}

function usdField(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

type FailureFields = {
  readonly error: string;
  readonly retryable: boolean;
  readonly message: string;
  readonly [field: string]: JsonValue;
};

export function failure(fields: FailureFields): ToolFailure {
  return { ok: false, ...fields };
}
