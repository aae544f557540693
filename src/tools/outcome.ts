import { isRecord } from '../client/response-error.js';
import type { CallOutcome } from './proxy-call.js';
import {
  failure,
  readProxyRefusal,
  resultForRefusal,
  STOP_AND_REPORT,
  STOP_REASONS,
} from './refusal-result.js';
import type { JsonValue, ToolFailure, ToolResult, ToolSuccess } from './types.js';

/**
 * The one place that decides what a model sees after a spend call. Every outcome becomes a `ToolResult`;
 * nothing here throws, because a thrown error reaches the model as a framework-specific string that says
 * "please try again", exactly the wrong advice for a budget refusal.
 */

/** The tool facts the mapping needs. */
export interface OutcomeTool {
  readonly name: string;
  readonly vendor: string;
  /**
   * Whether a repeat of this call with the same idempotency key is a no-op at the vendor. Stripe and Resend
   * honour `Idempotency-Key`; Twilio's Messages API has none, so a retry after a lost answer can send twice.
   */
  readonly idempotent: boolean;
}

export interface OutcomeInput {
  readonly tool: OutcomeTool;
  readonly outcome: CallOutcome;
  /** The call id the idempotency key was derived from: what `retry_of` must name for a safe retry. */
  readonly callId: string;
  /** Compact facts from a 2xx body (ids, amount); used only for a success. */
  readonly summary?: Readonly<Record<string, JsonValue>>;
  /** Budget left on the run's key after the call, read from the proxy. */
  readonly remainingUsd?: number | null;
  /**
   * How long calls still in flight on the key may take, in seconds: the wait suggested when part of the budget
   * is held by them.
   * @default 30
   */
  readonly inFlightWaitSeconds?: number;
}

/** Maps the outcome of one vendor call to what the model sees. */
export function resultForOutcome(input: OutcomeInput): ToolResult {
  const { outcome, tool } = input;
  if (outcome.kind === 'no_response') {
    return transientFailure(input, outcome.error.code, outcome.error.message);
  }
  if (outcome.status >= 200 && outcome.status < 300) {
    const success: ToolSuccess = {
      ok: true,
      ...input.summary,
      remaining_budget_usd: input.remainingUsd ?? null,
    };
    return success;
  }
  const refusal = readProxyRefusal(outcome.json);
  if (refusal) {
    if (isTransient(refusal.code)) return transientFailure(input, refusal.code, refusal.message);
    return resultForRefusal(refusal, {
      toolName: tool.name,
      inFlightWaitSeconds: input.inFlightWaitSeconds ?? 30,
    });
  }
  return vendorFailure(tool, outcome.status, outcome.json, input);
}

/** A vendor's own error: a decline is final, a rate limit or a 5xx is worth one retry on an idempotent call. */
function vendorFailure(tool: OutcomeTool, status: number, body: unknown, input: OutcomeInput): ToolFailure {
  const detail = vendorErrorDetail(body);
  if (status >= 500 || status === 429 || (status === 409 && tool.idempotent)) {
    return transientFailure(
      input,
      'vendor_error',
      `${tool.vendor} answered HTTP ${status}${detail.message ? `: ${detail.message}` : ''}`,
    );
  }
  const declined = status === 402 || detail.type === 'card_error';
  const reason = detail.declineCode ?? detail.code ?? `http_${status}`;
  return failure({
    error: declined ? 'vendor_declined' : 'vendor_rejected',
    retryable: false,
    vendor: tool.vendor,
    reason,
    message: `${tool.vendor} ${declined ? 'declined' : 'rejected'} the request (${reason}${detail.message ? `: ${detail.message}` : ''}). Nothing was charged for it. Do not retry the same request; report the reason to the user.`,
  });
}

/** No answer, or an answer saying "try later": whether a retry is safe depends on idempotency. */
function transientFailure(input: OutcomeInput, error: string, what: string): ToolFailure {
  const { tool, callId } = input;
  if (tool.idempotent) {
    return failure({
      error,
      retryable: true,
      retry_of: callId,
      message: `The call did not complete (${what}); it may or may not have gone through. A retry is safe: call ${tool.name} again with the same arguments and retry_of "${callId}". That reuses this call's idempotency key, so it cannot be applied twice.`,
    });
  }
  // The proxy answers ledger_unavailable before forwarding anything, so even a non-idempotent call is safe.
  if (error === 'ledger_unavailable') {
    return failure({
      error,
      retryable: true,
      message: `The call was not sent (${what}). Nothing happened; you may retry it once.`,
    });
  }
  return failure({
    error: 'outcome_unknown',
    retryable: false,
    message: `The call did not complete (${what}), and it may already have been carried out. ${tool.vendor} has no idempotency key for it, so a retry could do it twice. Do not retry; tell the user the outcome is unknown.`,
  });
}

function isTransient(code: string): boolean {
  return (
    code === 'upstream_timeout' ||
    code === 'upstream_unreachable' ||
    code === 'internal_error' ||
    code === 'ledger_unavailable'
  );
}

/** Stripe `{ error: { type, code, decline_code, message } }`, Resend `{ name, message }`, Twilio `{ code, message }`. */
function vendorErrorDetail(body: unknown): {
  type?: string;
  code?: string;
  declineCode?: string;
  message?: string;
} {
  if (!isRecord(body)) return {};
  const source = isRecord(body.error) ? body.error : body;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const code =
    text(source.code) ??
    (typeof source.code === 'number' ? String(source.code) : undefined) ??
    text(source.name);
  return {
    ...(text(source.type) ? { type: text(source.type) } : {}),
    ...(code ? { code } : {}),
    ...(text(source.decline_code) ? { declineCode: text(source.decline_code) } : {}),
    ...(text(source.message) ? { message: text(source.message) } : {}),
  };
}

/**
 * A tool called outside its run's lifetime: before the run started, after its start failed, or after it
 * ended and its keys were revoked. No request is sent; the model is told to stop, as for a revoked key.
 */
export function resultForInactiveRun(phase: 'not_started' | 'failed' | 'ended'): ToolFailure {
  const reasons = {
    not_started: ['run_not_started', "This tool's run has not started, so it has no spending key"],
    failed: ['run_not_started', "This tool's run could not get its spending keys"],
    ended: ['key_revoked', STOP_REASONS.key_revoked ?? 'This run has ended'],
  } as const;
  const [error, reason] = reasons[phase];
  return failure({ error, retryable: false, message: `${reason}; nothing was sent. ${STOP_AND_REPORT}` });
}

/**
 * A tool that threw something unexpected (a bug, not a spend outcome). The model gets a fixed text rather
 * than the raw error, which may hold internals, and is told not to retry.
 */
export function resultForUnexpectedError(toolName: string): ToolFailure {
  return failure({
    error: 'tool_failed',
    retryable: false,
    message: `${toolName} failed unexpectedly, and it is unknown whether it had any effect. Do not retry; report this to the user.`,
  });
}

/** Whether a tool result is a refusal or failure (as opposed to a completed call). */
export function isToolFailure(result: ToolResult): result is ToolFailure {
  return result.ok === false;
}
