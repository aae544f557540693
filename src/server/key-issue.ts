import type { FastifyReply, FastifyRequest } from 'fastify';
import { spendgateError } from '../errors/index.js';
import { usdToMicros } from '../money.js';
import { parseEndpointRule } from '../policy/endpoint-allowlist.js';
import type { BudgetRecord } from '../store/types.js';
import { principalOf, type AdminPrincipal } from './admin-auth.js';
import { issueKeyBody } from './admin-schemas.js';
import type { ProxyContext } from './context.js';
import { expiry } from './expiry.js';
import { readChain } from './budget-read.js';
import { assertInScope, checkKeyCeilings } from './issuer-scope.js';
import { jsonBody } from './json-body.js';
import { ledger } from './ledger.js';
import { withKeyMode } from './sandbox.js';
import { hashToken, newKeyId, newVaultToken } from './tokens.js';
import { validate } from './validate.js';
import { keyView } from './views.js';

type IssueKeyBody = ReturnType<typeof issueKeyBody.parse>;

const money = (value: number | string | undefined, field: string) =>
  value === undefined ? null : usdToMicros(value, field);

/**
 * `POST /v1/keys`: validate → check the budget (exists, in scope, active, outlived) → check an issuer's
 * ceilings → insert. Nothing is created unless every check passes.
 */
export function issueKeyHandler(ctx: ProxyContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = principalOf(request);
    const body = validate(issueKeyBody, jsonBody(request));
    checkVendor(ctx, body);
    const now = ctx.now();
    const issuer = principal.kind === 'issuer' ? principal.issuer : null;
    const expiresAt = expiry(body, now, ctx, { defaultCapMs: issuer?.maxTtlMs ?? null });
    const budgetId = body.budget_id ?? issuer?.budgetId;
    const chain =
      budgetId === undefined
        ? []
        : await readChain(ctx.store, (await checkBudget(ctx, principal, budgetId, expiresAt, now)).path);
    const caps = capsOf(ctx, body, budgetId !== undefined, chain);
    if (issuer) {
      checkKeyCeilings(issuer, {
        vendor: body.vendor,
        usdCap: caps.usdCap,
        dailyUsdCap: caps.dailyUsdCap,
        ttlMs: expiresAt - now,
        allowedEndpoints: body.allowed_endpoints,
        connectedAccounts: body.connected_accounts ?? [],
      });
    }
    const token = newVaultToken();
    const key = await ledger(() =>
      ctx.store.issueKey({
        id: newKeyId(),
        tokenHash: hashToken(token),
        vendor: body.vendor,
        label: body.label ?? null,
        metadata: withKeyMode(body.metadata, ctx.sandbox),
        ...caps,
        allowedEndpoints: body.allowed_endpoints,
        connectedAccounts: body.connected_accounts ?? [],
        budgetId: budgetId ?? null,
        issuerId: issuer?.id ?? null,
        createdAt: now,
        expiresAt,
      }),
    );
    ctx.logger.info(
      { event: 'key_issued', key_id: key.id, vendor: key.vendor, label: key.label, budget_id: key.budgetId },
      'key issued',
    );
    return reply.code(201).send({ id: key.id, token, vault_key: token, ...keyView(key) });
  };
}

function checkVendor(ctx: ProxyContext, body: IssueKeyBody): void {
  if (!ctx.vendors.has(body.vendor)) {
    throw spendgateError(
      'unknown_vendor',
      `Unknown vendor "${body.vendor}"; known: ${[...ctx.vendors.keys()].join(', ')}`,
      { param: 'vendor' },
    );
  }
  for (const entry of body.allowed_endpoints) parseEndpointRule(entry);
  const accounts = body.connected_accounts ?? [];
  if (accounts.length > 0 && ctx.vendors.get(body.vendor)?.vendor.accountHeaders.size === 0) {
    throw spendgateError('bad_request', `connected_accounts does not apply to ${body.vendor} keys`, {
      param: 'connected_accounts',
    });
  }
}

/**
 * The key's own caps. A key under a budget may have none (the budget caps it); any other key needs one, or
 * the configured default.
 */
function capsOf(ctx: ProxyContext, body: IssueKeyBody, budgeted: boolean, chain: readonly BudgetRecord[]) {
  let dailyUsdCap = money(body.daily_usd_cap, 'daily_usd_cap');
  const usdCap = money(body.usd_cap, 'usd_cap');
  if (dailyUsdCap === null && usdCap === null && !budgeted) {
    dailyUsdCap = ctx.config.SPENDGATE_DEFAULT_DAILY_USD_CAP ?? null;
    if (dailyUsdCap === null) {
      throw spendgateError(
        'cap_required',
        'A key needs usd_cap, daily_usd_cap or budget_id (no default cap is configured)',
        { param: 'usd_cap' },
      );
    }
  }
  return {
    usdCap,
    dailyUsdCap,
    maxUsdPerCall: money(body.max_usd_per_call, 'max_usd_per_call'),
    approvalAboveUsd: lowestThreshold([
      money(body.approval_above_usd, 'approval_above_usd'),
      ...chain.map((budget) => budget.approvalAboveUsd),
    ]),
  };
}

/**
 * A key below budgets with approval thresholds takes the lowest of its own and theirs. Budgets never change
 * their thresholds, so the proxy checks the key's alone on every call, with no extra read.
 */
function lowestThreshold(thresholds: readonly (number | null)[]): number | null {
  const set = thresholds.filter((t): t is number => t !== null);
  return set.length === 0 ? null : Math.min(...set);
}

/** The budget a key (or child budget) is to draw from: it exists in scope, is active, and outlives it. */
export async function checkBudget(
  ctx: ProxyContext,
  principal: AdminPrincipal,
  budgetId: string,
  expiresAt: number,
  now: number,
  param = 'budget_id',
): Promise<BudgetRecord> {
  const budget = await ledger(() => ctx.store.getBudget(budgetId));
  if (!budget) throw spendgateError('not_found', `No budget ${budgetId}`, { param });
  assertInScope(principal, budget.path, { kind: 'budget', id: budgetId, param });
  if (budget.status !== 'active' || budget.expiresAt <= now) {
    throw spendgateError(
      'parent_inactive',
      `Budget ${budgetId} is ${budget.status === 'active' ? 'expired' : 'revoked'}`,
      {
        param,
      },
    );
  }
  if (expiresAt > budget.expiresAt) {
    throw spendgateError(
      'outlives_parent',
      `This would expire after budget ${budgetId} (${new Date(budget.expiresAt).toISOString()}); shorten its TTL`,
      { param, parent_expires_at: new Date(budget.expiresAt).toISOString() },
    );
  }
  return budget;
}
