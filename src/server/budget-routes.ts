import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { spendgateError } from '../errors/index.js';
import { usdToMicros } from '../money.js';
import type { BudgetRecord, IssueBudgetResult } from '../store/types.js';
import { MAX_BUDGET_DEPTH } from '../store/budget-types.js';
import { adminGuard, principalOf } from './admin-auth.js';
import { issueBudgetBody, listBudgetsQuery } from './admin-schemas.js';
import { chainReader } from './budget-read.js';
import type { ProxyContext } from './context.js';
import { expiry } from './expiry.js';
import { assertInScope, checkTtl, scopeOf } from './issuer-scope.js';
import { jsonBody } from './json-body.js';
import { checkBudget } from './key-issue.js';
import { ledger } from './ledger.js';
import { newBudgetId } from './tokens.js';
import { validate } from './validate.js';
import { budgetView } from './views.js';

const money = (value: number | string | undefined, field: string) =>
  value === undefined ? null : usdToMicros(value, field);

/**
 * Budgets: pots of money that keys and child budgets draw from, nested up to eight deep. The admin token
 * reaches every budget; an issuer token its own budget's subtree, where it may also create child budgets.
 */
export function registerBudgetRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  const admin = { onRequest: adminGuard(ctx, { issuers: true }) };

  const visibleBudget = async (request: FastifyRequest, id: string): Promise<BudgetRecord> => {
    const budget = await ledger(() => ctx.store.getBudget(id));
    if (!budget) throw spendgateError('not_found', `No budget ${id}`);
    assertInScope(principalOf(request), budget.path, { kind: 'budget', id });
    return budget;
  };
  const view = async (budget: BudgetRecord, chainOf = chainReader(ctx.store)) =>
    budgetView(budget, ctx.now(), await chainOf(budget.path));

  app.post('/v1/budgets', admin, async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = principalOf(request);
    const body = validate(issueBudgetBody, jsonBody(request));
    const now = ctx.now();
    const expiresAt = expiry(body, now, ctx, {
      maxMs: ctx.config.SPENDGATE_MAX_BUDGET_TTL,
      defaultCapMs: principal.kind === 'issuer' ? principal.issuer.maxTtlMs : null,
    });
    // An issuer's budgets always hang below its own: it cannot create a root.
    const parentId = body.parent_id ?? (principal.kind === 'issuer' ? principal.issuer.budgetId : null);
    if (parentId !== null) await checkBudget(ctx, principal, parentId, expiresAt, now, 'parent_id');
    if (principal.kind === 'issuer') checkTtl(principal.issuer, expiresAt - now);
    const usdCap = money(body.usd_cap, 'usd_cap');
    const dailyUsdCap = money(body.daily_usd_cap, 'daily_usd_cap');
    if (parentId === null && usdCap === null && dailyUsdCap === null) {
      throw spendgateError('cap_required', 'A root budget needs usd_cap or daily_usd_cap', {
        param: 'usd_cap',
      });
    }
    const result = await ledger(() =>
      ctx.store.issueBudget({
        id: newBudgetId(),
        parentId,
        label: body.label ?? null,
        metadata: body.metadata ?? {},
        usdCap,
        dailyUsdCap,
        maxUsdPerCall: money(body.max_usd_per_call, 'max_usd_per_call'),
        approvalAboveUsd: money(body.approval_above_usd, 'approval_above_usd'),
        createdAt: now,
        expiresAt,
      }),
    );
    const budget = created(result, parentId);
    ctx.logger.info(
      { event: 'budget_created', budget_id: budget.id, parent_id: budget.parentId, label: budget.label },
      'budget created',
    );
    return reply.code(201).send(await view(budget));
  });

  app.get('/v1/budgets/:id', admin, async (request) => {
    const { id } = request.params as { id: string };
    return view(await visibleBudget(request, id));
  });

  app.get('/v1/budgets', admin, async (request) => {
    const query = validate(listBudgetsQuery, request.query);
    const page = await ledger(() =>
      ctx.store.listBudgets({
        label: query.label,
        labelPrefix: query.label_prefix,
        parentId: query.parent_id,
        status: query.status,
        within: scopeOf(principalOf(request)),
        limit: query.limit,
        cursor: query.cursor,
      }),
    );
    const chainOf = chainReader(ctx.store);
    return {
      data: await Promise.all(page.data.map((budget) => view(budget, chainOf))),
      next_cursor: page.nextCursor,
    };
  });

  app.delete('/v1/budgets/:id', admin, async (request) => {
    const { id } = request.params as { id: string };
    await visibleBudget(request, id);
    const result = await ledger(() => ctx.store.revokeBudget(id));
    if (!result) throw spendgateError('not_found', `No budget ${id}`);
    ctx.logger.info(
      {
        event: 'budget_revoked',
        budget_id: id,
        revoked_keys: result.revokedKeys,
        revoked_budgets: result.revokedBudgets,
      },
      'budget revoked',
    );
    return {
      id,
      status: 'revoked',
      revoked_at: new Date(result.budget.revokedAt ?? ctx.now()).toISOString(),
      revoked_keys: result.revokedKeys,
      revoked_budgets: result.revokedBudgets,
    };
  });
}

/** The store re-checks the parent in its own atomic step; a change since the route's check lands here. */
function created(result: IssueBudgetResult, parentId: string | null): BudgetRecord {
  if (result.ok) return result.budget;
  const param = { param: 'parent_id' };
  switch (result.reason) {
    case 'parent_not_found':
      throw spendgateError('not_found', `No budget ${parentId ?? ''}`, param);
    case 'parent_inactive':
      throw spendgateError('parent_inactive', `Budget ${parentId ?? ''} is revoked or expired`, param);
    case 'outlives_parent':
      throw spendgateError(
        'outlives_parent',
        `This budget would expire after its parent ${parentId ?? ''}`,
        param,
      );
    case 'too_deep':
      throw spendgateError('bad_request', `Budgets nest at most ${MAX_BUDGET_DEPTH} deep`, {
        ...param,
        max_depth: MAX_BUDGET_DEPTH,
      });
  }
}
