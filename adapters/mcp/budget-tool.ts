import { z } from 'zod';
import type { Budget, SpendgateClient, VaultKeyWithSpend } from '../../src/client/index.js';
import { SpendgateError } from '../../src/errors/index.js';
import type { JsonValue, ToolResult } from '../../src/tools/index.js';
import { READ_ONLY_ANNOTATIONS } from './annotations.js';
import type { McpSession } from './session.js';
import type { SessionTool } from './types.js';

export const BUDGET_TOOL_NAME = 'spendgate_budget';

/**
 * `spendgate_budget`: what this session has spent, what is held by calls still in flight, and what is left,
 * per vendor, and for the session's own budget when it has one (one cap across every vendor). It reads the
 * proxy's own ledger, so it is the truth, not a tally kept here.
 */
export function budgetTool(options: {
  readonly session: McpSession;
  readonly client: SpendgateClient;
}): SessionTool {
  const { session, client } = options;
  return {
    name: BUDGET_TOOL_NAME,
    description:
      "Report this session's spending budget per vendor: spent_usd (settled), held_usd (reserved by calls still in flight), remaining_usd, the caps, and when the budget expires; with one cap for the whole session, `budget` reports it too, and its remaining_usd bounds every vendor. It spends nothing. Check it before a batch of paid calls.",
    inputSchema: z.object({}),
    annotations: READ_ONLY_ANNOTATIONS,
    call(_input, call): Promise<ToolResult> {
      return session.withRun(async (run): Promise<ToolResult> => {
        const options = { signal: call.signal };
        try {
          const [read, budget] = await Promise.all([
            Promise.all(run.keys.map((key) => client.getKey(key.id, options))),
            run.budgetId === undefined ? undefined : client.getBudget(run.budgetId, options),
          ]);
          const vendors = read.map(vendorBudget);
          return budget
            ? { ok: true, session: session.label, budget: sessionBudget(budget), vendors }
            : { ok: true, session: session.label, vendors };
        } catch (err) {
          const code = SpendgateError.isInstance(err) ? err.code : 'internal_error';
          return {
            ok: false,
            error: code,
            retryable: SpendgateError.isInstance(err) ? err.retryable : false,
            message: `The budget could not be read from spendgate (${code}). Nothing was spent by this call.`,
          };
        }
      }, call.signal);
    },
  };
}

/** The session's own budget: one cap over every vendor's key (and under its parent's, if any). */
function sessionBudget(budget: Budget): { [field: string]: JsonValue } {
  return {
    id: budget.id,
    status: budget.status,
    spent_usd: budget.spentUsd,
    spent_today_usd: budget.spentTodayUsd,
    held_usd: budget.reservedUsd,
    uncertain_usd: budget.uncertainUsd,
    remaining_usd: budget.remainingUsd,
    usd_cap: budget.usdCap,
    parent_id: budget.parentId,
    expires_at: budget.expiresAt.toISOString(),
  };
}

function vendorBudget(key: VaultKeyWithSpend): { [field: string]: JsonValue } {
  return {
    vendor: key.vendor,
    status: key.status,
    spent_usd: key.spentUsd,
    spent_today_usd: key.spentTodayUsd,
    held_usd: key.reservedUsd,
    remaining_usd: key.remainingUsd,
    usd_cap: key.usdCap,
    daily_usd_cap: key.dailyUsdCap,
    max_usd_per_call: key.maxUsdPerCall,
    calls: key.calls,
    denied_calls: key.deniedCalls,
    expires_at: key.expiresAt.toISOString(),
  };
}
