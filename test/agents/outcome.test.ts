import { describe, expect, it } from 'vitest';
import { spendgateError, type ErrorCode } from '../../src/errors/index.js';
import {
  BUDGET_STOP_CODES,
  isBudgetStop,
  resultForOutcome,
  type OutcomeTool,
} from '../../src/tools/index.js';

const stripe: OutcomeTool = { name: 'charge_customer', vendor: 'stripe', idempotent: true };
const twilio: OutcomeTool = { name: 'send_sms', vendor: 'twilio', idempotent: false };

/** A proxy refusal body, as the contract shapes it. */
function refusal(code: ErrorCode | 'approval_invalid', extra: Record<string, unknown> = {}) {
  return {
    kind: 'response' as const,
    status: 403,
    json: {
      code,
      message: `refused: ${code}`,
      error: { type: 'spendgate_error', code, retryable: false, message: `refused: ${code}`, ...extra },
    },
  };
}

describe('resultForOutcome', () => {
  it.each([
    'cap_exhausted',
    'key_revoked',
    'key_expired',
    'endpoint_not_allowed',
    'per_call_limit_exceeded',
    'approval_invalid',
  ] as const)('%s tells the model to stop and report, and ends the loop', (code) => {
    const result = resultForOutcome({ tool: stripe, outcome: refusal(code), callId: 'c1' });
    expect(result).toMatchObject({ ok: false, error: code, retryable: false });
    expect(result.message).toContain(`refused: ${code}`);
    expect(result.message).toMatch(/Do not retry.*Stop and report this to the user/);
    expect(isBudgetStop(result)).toBe(true);
  });

  it('the codes that end the loop are exactly the budget refusals no retry can fix', () => {
    expect([...BUDGET_STOP_CODES].sort()).toEqual([
      'approval_denied',
      'approval_invalid',
      'approval_required',
      'cap_exhausted',
      'endpoint_not_allowed',
      'key_expired',
      'key_mode_mismatch',
      'key_revoked',
      'per_call_limit_exceeded',
    ]);
  });

  it('a spent cap (nothing in flight) is final, and says the budget is spent', () => {
    const outcome = refusal('cap_exhausted', { remaining_usd: 10, reserved_usd: 0 });
    const result = resultForOutcome({ tool: stripe, outcome, callId: 'c1' });
    expect(result).toMatchObject({ error: 'cap_exhausted', retryable: false, budget: 'spent' });
    expect(isBudgetStop(result)).toBe(true);
  });

  it('a cap held by calls still in flight may free up: retryable, with a suggested wait, and ends nothing', () => {
    const outcome = refusal('cap_exhausted', { remaining_usd: 10, reserved_usd: 40 });
    const result = resultForOutcome({ tool: stripe, outcome, callId: 'c1', inFlightWaitSeconds: 12 });
    expect(result).toEqual({
      ok: false,
      error: 'cap_exhausted',
      retryable: true,
      budget: 'in_flight',
      reserved_usd: 40,
      remaining_budget_usd: 10,
      retry_after_seconds: 12,
      message: expect.stringMatching(
        /\$40 of it is held by calls still in flight.*at most 12 s.*once more/,
      ) as string,
    });
    expect(isBudgetStop(result)).toBe(false);
  });

  it('a refusal code this client does not know yet keeps its code and is not retried', () => {
    const outcome = {
      kind: 'response' as const,
      status: 403,
      json: { error: { type: 'spendgate_error', code: 'some_future_code', message: 'no', retryable: false } },
    };
    expect(resultForOutcome({ tool: stripe, outcome, callId: 'c1' })).toMatchObject({
      error: 'some_future_code',
      retryable: false,
    });
  });

  it('carries remaining_usd from a cap refusal', () => {
    const result = resultForOutcome({
      tool: stripe,
      outcome: refusal('cap_exhausted', { remaining_usd: 10 }),
      callId: 'c1',
    });
    expect(result.remaining_budget_usd).toBe(10);
  });

  it('a success carries the summary and the budget left', () => {
    const result = resultForOutcome({
      tool: stripe,
      outcome: { kind: 'response', status: 200, json: {} },
      callId: 'c1',
      summary: { payment_intent: 'pi_1', amount: 2000 },
      remainingUsd: 30,
    });
    expect(result).toEqual({ ok: true, payment_intent: 'pi_1', amount: 2000, remaining_budget_usd: 30 });
  });

  it('a vendor decline is final and keeps the vendor reason', () => {
    const result = resultForOutcome({
      tool: stripe,
      outcome: {
        kind: 'response',
        status: 402,
        json: {
          error: {
            type: 'card_error',
            code: 'card_declined',
            decline_code: 'insufficient_funds',
            message: 'Your card has insufficient funds.',
          },
        },
      },
      callId: 'c1',
    });
    expect(result).toMatchObject({
      error: 'vendor_declined',
      retryable: false,
      reason: 'insufficient_funds',
    });
    expect(result.message).toContain('Your card has insufficient funds.');
  });

  it('no answer on an idempotent call is safe to retry with retry_of', () => {
    const outcome = {
      kind: 'no_response' as const,
      error: spendgateError('upstream_timeout', 'No answer within 30000 ms'),
    };
    const result = resultForOutcome({ tool: stripe, outcome, callId: 'c9' });
    expect(result).toMatchObject({ error: 'upstream_timeout', retryable: true, retry_of: 'c9' });
    expect(result.message).toMatch(/retry is safe.*idempotency key/);
  });

  it('no answer on a non-idempotent call is not retryable', () => {
    const outcome = { kind: 'no_response' as const, error: spendgateError('upstream_timeout', 'No answer') };
    expect(resultForOutcome({ tool: twilio, outcome, callId: 'c9' })).toMatchObject({
      error: 'outcome_unknown',
      retryable: false,
    });
  });

  it('ledger_unavailable is retryable even without idempotency: nothing was forwarded', () => {
    const outcome = { kind: 'response' as const, status: 503, json: refusal('ledger_unavailable').json };
    expect(resultForOutcome({ tool: twilio, outcome, callId: 'c1' })).toMatchObject({
      error: 'ledger_unavailable',
      retryable: true,
    });
  });

  it('a vendor error whose code collides with a contract code is still a vendor error', () => {
    const outcome = {
      kind: 'response' as const,
      status: 404,
      json: { error: { code: 'not_found', message: 'No such customer' } },
    };
    expect(resultForOutcome({ tool: stripe, outcome, callId: 'c1' })).toMatchObject({
      error: 'vendor_rejected',
      reason: 'not_found',
    });
  });
});
