import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseDurationMs } from '../duration.js';
import { spendgateError } from '../errors/index.js';
import { usdToMicros } from '../money.js';
import { parseEndpointRule } from '../policy/endpoint-allowlist.js';
import { adminGuard } from './admin-auth.js';
import { issueIssuerBody, listIssuersQuery } from './admin-schemas.js';
import type { ProxyContext } from './context.js';
import { jsonBody } from './json-body.js';
import { ledger } from './ledger.js';
import { hashToken, newIssuerId, newIssuerToken } from './tokens.js';
import { validate } from './validate.js';
import { issuerView } from './views.js';

/**
 * Issuer tokens: what an agent's backend holds instead of the admin token. Only the admin token reaches
 * these routes, so an issuer can never mint another issuer or widen its own scope.
 */
export function registerIssuerRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  const admin = { onRequest: adminGuard(ctx, { issuers: false }) };

  app.post('/v1/issuers', admin, async (request: FastifyRequest, reply: FastifyReply) => {
    const body = validate(issueIssuerBody, jsonBody(request));
    const budget = await ledger(() => ctx.store.getBudget(body.budget_id));
    if (!budget) throw spendgateError('not_found', `No budget ${body.budget_id}`, { param: 'budget_id' });
    for (const vendor of body.vendors ?? []) {
      if (!ctx.vendors.has(vendor))
        throw spendgateError('unknown_vendor', `Unknown vendor "${vendor}"`, { param: 'vendors' });
    }
    for (const entry of body.allowed_endpoints ?? []) parseEndpointRule(entry);
    const now = ctx.now();
    const token = newIssuerToken();
    const issuer = await ledger(() =>
      ctx.store.createIssuer({
        id: newIssuerId(),
        tokenHash: hashToken(token),
        budgetId: budget.id,
        label: body.label ?? null,
        vendors: body.vendors ?? null,
        maxKeyUsdCap:
          body.max_key_usd_cap === undefined ? null : usdToMicros(body.max_key_usd_cap, 'max_key_usd_cap'),
        maxTtlMs: body.max_ttl === undefined ? null : durationMs(body.max_ttl, 'max_ttl'),
        allowedEndpoints: body.allowed_endpoints ?? null,
        createdAt: now,
        expiresAt: body.expires_in === undefined ? null : now + durationMs(body.expires_in, 'expires_in'),
      }),
    );
    ctx.logger.info(
      { event: 'issuer_created', issuer_id: issuer.id, budget_id: issuer.budgetId },
      'issuer created',
    );
    // The token is shown here once; the ledger keeps only its hash.
    return reply.code(201).send({ ...issuerView(issuer, now), token });
  });

  app.get('/v1/issuers', admin, async (request) => {
    const query = validate(listIssuersQuery, request.query);
    const page = await ledger(() =>
      ctx.store.listIssuers({
        budgetId: query.budget_id,
        status: query.status,
        limit: query.limit,
        cursor: query.cursor,
      }),
    );
    const now = ctx.now();
    return { data: page.data.map((issuer) => issuerView(issuer, now)), next_cursor: page.nextCursor };
  });

  app.get('/v1/issuers/:id', admin, async (request) => {
    const { id } = request.params as { id: string };
    const issuer = await ledger(() => ctx.store.getIssuer(id));
    if (!issuer) throw spendgateError('not_found', `No issuer ${id}`);
    return issuerView(issuer, ctx.now());
  });

  app.delete('/v1/issuers/:id', admin, async (request) => {
    const { id } = request.params as { id: string };
    const result = await ledger(() => ctx.store.revokeIssuer(id));
    if (!result) throw spendgateError('not_found', `No issuer ${id}`);
    const { issuer, revokedKeys } = result;
    ctx.logger.info({ event: 'issuer_revoked', issuer_id: id, revoked_keys: revokedKeys }, 'issuer revoked');
    return {
      id,
      status: 'revoked',
      revoked_at: new Date(issuer.revokedAt ?? ctx.now()).toISOString(),
      revoked_keys: revokedKeys,
    };
  });
}

function durationMs(value: string | number, param: string): number {
  const ms = parseDurationMs(value);
  if (ms === null || ms < 1000) {
    throw spendgateError(
      'bad_request',
      `${param} must be a duration of at least 1s, like "90s", "1h" or seconds`,
      {
        param,
      },
    );
  }
  return ms;
}
