import type { Micros } from '../money.js';

/**
 * The cap rules, shared by the stores that decide in JavaScript (memory). SQL stores express the same rules
 * in their conditional UPDATE; the conformance suite holds all of them to the same answers.
 */
export function capRefusal(input: {
  readonly amount: Micros;
  readonly committed: Micros;
  readonly dayCommitted: Micros;
  readonly usdCap: Micros | null;
  readonly dailyUsdCap: Micros | null;
  readonly maxUsdPerCall: Micros | null;
}): { code: 'per_call_limit_exceeded' } | { code: 'cap_exhausted'; cap: 'usd_cap' | 'daily_usd_cap' } | null {
  if (input.maxUsdPerCall !== null && input.amount > input.maxUsdPerCall)
    return { code: 'per_call_limit_exceeded' };
  if (input.usdCap !== null && input.committed + input.amount > input.usdCap) {
    return { code: 'cap_exhausted', cap: 'usd_cap' };
  }
  if (input.dailyUsdCap !== null && input.dayCommitted + input.amount > input.dailyUsdCap) {
    return { code: 'cap_exhausted', cap: 'daily_usd_cap' };
  }
  return null;
}
