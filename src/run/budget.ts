import { spendgateError } from '../errors/index.js';
import { microsToUsd, usdToMicros, type Micros } from '../money.js';

/** Caps for one vendor's key, in USD. At least one of `usdCap` and `dailyUsdCap` is required. */
export interface VendorCaps {
  /** Cap over the run's whole life. */
  readonly usdCap?: number;
  /** Cap per UTC calendar day (for long-lived runs, or a shared daily ceiling). */
  readonly dailyUsdCap?: number;
  /** The most one call may cost: a $20 limit stops one $500 charge even with budget left. */
  readonly maxUsdPerCall?: number;
  /**
   * A call above this is sent only once a person approves it: the framework pauses the call (its own
   * human-in-the-loop), and the proxy refuses it without a single-use grant for that exact request.
   */
  readonly approvalAboveUsd?: number;
}

/**
 * A run's budget: what its keys are called, how long they live, and what each vendor may spend. Keys are
 * issued only for vendors the run's tools use, so naming caps for an unused vendor grants nothing.
 *
 * @example
 * ```ts
 * const budget: RunBudget = { label: `billing-${orderId}`, ttl: '15m', caps: { stripe: { usdCap: 50, maxUsdPerCall: 25 } } };
 * ```
 */
export interface RunBudget {
  /**
   * Label on every key of the run, for `GET /v1/audit?label=…`.
   * @default `spendgate-run-${run.id}`
   */
  readonly label?: string;
  /**
   * Key lifetime: `"90s"`, `"15m"`, `"1h"` or seconds. The proxy stops honouring the keys after it even if
   * the process dies before it can revoke them.
   * @default '15m'
   */
  readonly ttl?: string | number;
  /** Added to every key (tenant, user, request id). The run adds `spendgate_run_id`. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Caps per vendor name (`stripe`, `twilio`, `resend`). Each vendor the run's tools use needs one, unless
   * the run has a budget of its own (`usdCap` or `parentBudgetId`), which then caps every vendor together.
   */
  readonly caps: Readonly<Record<string, VendorCaps | undefined>>;
  /**
   * One cap for the whole run, across every vendor. The run then creates a budget with this cap, issues
   * every key under it, and revokes the budget (and with it every key) when it ends. Needs a proxy with
   * budgets (v1.1).
   */
  readonly usdCap?: number;
  /**
   * Creates the run's budget under this one (`bud_…`), e.g. a tenant's monthly budget: the run can never
   * spend more than that budget has left, and revoking it ends the run's keys too.
   */
  readonly parentBudgetId?: string;
}

/** Whether a run of this budget draws from a budget of its own. */
export function hasRunBudget(budget: RunBudget): boolean {
  return budget.usdCap !== undefined || budget.parentBudgetId !== undefined;
}

/** A vendor's caps checked and held as integer micro-dollars. */
export interface ResolvedCaps {
  readonly usdCap: Micros | null;
  readonly dailyUsdCap: Micros | null;
  readonly maxUsdPerCall: Micros | null;
  readonly approvalAboveUsd: Micros | null;
}

/**
 * Checks the caps for every vendor the run needs. A vendor with no cap is refused here, before anything is
 * issued: an uncapped key is exactly what a run exists to prevent.
 */
export function resolveCaps(
  budget: RunBudget,
  vendors: readonly string[],
  /** Whether a budget above the run's keys caps them (its own, or its parent run's). */
  budgeted = hasRunBudget(budget),
): ReadonlyMap<string, ResolvedCaps> {
  const resolved = new Map<string, ResolvedCaps>();
  for (const vendor of vendors) {
    const caps = budget.caps[vendor];
    const money = (value: number | undefined, field: string) =>
      value === undefined ? null : usdToMicros(value, `caps.${vendor}.${field}`);
    const entry: ResolvedCaps = {
      usdCap: money(caps?.usdCap, 'usdCap'),
      dailyUsdCap: money(caps?.dailyUsdCap, 'dailyUsdCap'),
      maxUsdPerCall: money(caps?.maxUsdPerCall, 'maxUsdPerCall'),
      approvalAboveUsd: money(caps?.approvalAboveUsd, 'approvalAboveUsd'),
    };
    if (entry.usdCap === null && entry.dailyUsdCap === null && !budgeted) {
      throw spendgateError(
        'cap_required',
        `The run's tools call ${vendor}, but its budget has no usdCap or dailyUsdCap for ${vendor} (nor a usdCap for the whole run)`,
        { param: `caps.${vendor}` },
      );
    }
    resolved.set(vendor, entry);
  }
  return resolved;
}

/** Micro-dollars back to the contract's USD numbers (exact for whole micros). */
export function capsToUsd(caps: ResolvedCaps): {
  usdCap?: number;
  dailyUsdCap?: number;
  maxUsdPerCall?: number;
  approvalAboveUsd?: number;
} {
  return {
    ...(caps.usdCap === null ? {} : { usdCap: microsToUsd(caps.usdCap) }),
    ...(caps.dailyUsdCap === null ? {} : { dailyUsdCap: microsToUsd(caps.dailyUsdCap) }),
    ...(caps.maxUsdPerCall === null ? {} : { maxUsdPerCall: microsToUsd(caps.maxUsdPerCall) }),
    ...(caps.approvalAboveUsd === null ? {} : { approvalAboveUsd: microsToUsd(caps.approvalAboveUsd) }),
  };
}
