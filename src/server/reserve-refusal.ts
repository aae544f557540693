import { spendgateError, type SpendgateError } from '../errors/index.js';
import { formatUsd, microsToUsd } from '../money.js';
import type { BudgetRecord, KeyRecord, ReserveResult } from '../store/types.js';
import type { ProxyContext } from './context.js';
import { budgetRemainingMicros, remainingMicros } from './views.js';

/**
 * The refusal the caller (and through the tools, the model) sees for a reservation the ledger refused. A
 * budget's refusal names the budget and what it has left; reading it is best effort, since the refusal
 * stands whatever the read says.
 */
export async function reserveRefusal(
  ctx: ProxyContext,
  result: Extract<ReserveResult, { ok: false }>,
  amount: number,
  fallback: KeyRecord,
): Promise<SpendgateError> {
  if (result.budgetId === undefined) return keyRefusal(result, amount, fallback);
  const budget = await ctx.store.getBudget(result.budgetId).catch(() => null);
  return budget
    ? budgetRefusal(result, amount, result.key ?? fallback, budget)
    : keyRefusal(result, amount, fallback);
}

function budgetRefusal(
  result: Extract<ReserveResult, { ok: false }>,
  amount: number,
  key: KeyRecord,
  budget: BudgetRecord,
): SpendgateError {
  const details = { key_id: key.id, budget_id: budget.id };
  switch (result.code) {
    case 'key_revoked':
      return spendgateError(
        'key_revoked',
        `Budget ${budget.id} (above key ${key.id}) has been revoked`,
        details,
      );
    case 'key_expired':
      return spendgateError('key_expired', `Budget ${budget.id} (above key ${key.id}) has expired`, details);
    case 'per_call_limit_exceeded':
      return spendgateError(
        'per_call_limit_exceeded',
        `This call needs ${formatUsd(amount)}, above budget ${budget.id}'s per-call limit of ${formatUsd(budget.maxUsdPerCall ?? 0)}`,
        { ...details, max_usd_per_call: microsToUsd(budget.maxUsdPerCall ?? 0) },
      );
    case 'cap_exhausted': {
      const daily = result.cap === 'daily_usd_cap';
      const cap = (daily ? budget.dailyUsdCap : budget.usdCap) ?? 0;
      const spent = daily ? budget.spentToday : budget.spent + budget.reserved;
      return spendgateError(
        'cap_exhausted',
        `${daily ? 'Daily cap' : 'Cap'} of ${formatUsd(cap)} reached for budget ${budget.id} (${formatUsd(spent)} spent, this call needs ${formatUsd(amount)})`,
        {
          ...details,
          cap: result.cap,
          remaining_usd: microsToUsd(budgetRemainingMicros(budget) ?? 0),
          reserved_usd: microsToUsd(budget.reserved),
        },
      );
    }
    default:
      return keyRefusal(result, amount, key);
  }
}

function keyRefusal(
  result: Extract<ReserveResult, { ok: false }>,
  amount: number,
  fallback: KeyRecord,
): SpendgateError {
  const key = result.key ?? fallback;
  const details = { key_id: key.id };
  switch (result.code) {
    case 'key_invalid':
      return spendgateError('key_invalid', 'Unknown vault key');
    case 'key_revoked':
      return spendgateError('key_revoked', `Key ${key.id} has been revoked`, details);
    case 'key_expired':
      return spendgateError('key_expired', `Key ${key.id} has expired`, details);
    case 'idempotency_key_in_use':
      return spendgateError(
        'idempotency_key_in_use',
        'A request with this Idempotency-Key is still in flight; retry once it has finished to get its result',
        details,
      );
    case 'approval_required':
      return spendgateError(
        'approval_required',
        `Key ${key.id} needs a person's approval for this call`,
        details,
      );
    case 'approval_invalid':
      return spendgateError(
        'approval_invalid',
        'Spendgate-Approval is not an approved, unused, unexpired grant for this key and this exact request',
        details,
      );
    case 'idempotency_mismatch':
      return spendgateError(
        'idempotency_mismatch',
        'This Idempotency-Key was already used with different parameters; use a new key for a different request',
        details,
      );
    case 'per_call_limit_exceeded':
      return spendgateError(
        'per_call_limit_exceeded',
        `This call needs ${formatUsd(amount)}, above the per-call limit of ${formatUsd(key.maxUsdPerCall ?? 0)} for key ${key.id}`,
        { ...details, max_usd_per_call: microsToUsd(key.maxUsdPerCall ?? 0) },
      );
    case 'cap_exhausted': {
      const daily = result.cap === 'daily_usd_cap';
      const cap = (daily ? key.dailyUsdCap : key.usdCap) ?? 0;
      const spent = daily ? key.spentToday : key.spent + key.reserved;
      const remaining = remainingMicros(key) ?? 0;
      return spendgateError(
        'cap_exhausted',
        `${daily ? 'Daily cap' : 'Cap'} of ${formatUsd(cap)} reached for key ${key.id} (${formatUsd(spent)} spent, this call needs ${formatUsd(amount)})`,
        // reserved_usd > 0 means part of the cap is held by calls still in flight, and may come back.
        {
          ...details,
          cap: result.cap,
          remaining_usd: microsToUsd(remaining),
          reserved_usd: microsToUsd(key.reserved),
        },
      );
    }
  }
}
