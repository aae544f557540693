import { z } from 'zod';
import type { SpendgateClient, VaultKeyWithSpend } from '../../src/client/index.js';
import { SpendgateError } from '../../src/errors/index.js';
import { resultForInactiveRun, type JsonValue, type ToolResult } from '../../src/tools/index.js';
import { READ_ONLY_ANNOTATIONS } from './annotations.js';
import type { McpSession } from './session.js';
import type { SessionTool } from './types.js';

export const BUDGET_TOOL_NAME = 'spendgate_budget';

/**
 * `spendgate_budget`: what this session has spent, what is held by calls still in flight, and what is left,
 * per vendor. It reads the proxy's own ledger, so it is the truth, not a tally kept here.
 */
export function budgetTool(options: {
  readonly session: McpSession;
  readonly client: SpendgateClient;
}): SessionTool {
  const { session, client } = options;
  return {
    name: BUDGET_TOOL_NAME,
    description:
      "Report this session's spending budget per vendor: spent_usd (settled), held_usd (reserved by calls still in flight), remaining_usd, the caps, and when the budget expires. It spends nothing. Check it before a batch of paid calls.",
    inputSchema: z.object({}),
    annotations: READ_ONLY_ANNOTATIONS,
    async call(): Promise<ToolResult> {
      const keys = await session.activeKeys();
      if (!keys) return resultForInactiveRun(session.closed ? 'ended' : 'failed');
      try {
        const read = await Promise.all(keys.map((key) => client.getKey(key.id)));
        return { ok: true, session: session.label, vendors: read.map(vendorBudget) };
      } catch (err) {
        const code = SpendgateError.isInstance(err) ? err.code : 'internal_error';
        return {
          ok: false,
          error: code,
          retryable: SpendgateError.isInstance(err) ? err.retryable : false,
          message: `The budget could not be read from spendgate (${code}). Nothing was spent by this call.`,
        };
      }
    },
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
