import type { FastifyInstance, FastifyRequest } from 'fastify';
import { spendgateError } from '../errors/index.js';
import type { KeyRecord } from '../store/types.js';
import { auditQuery, bulkRevokeBody, listKeysQuery } from './admin-schemas.js';
import { adminGuard, principalOf } from './admin-auth.js';
import { chainReader, readChain } from './budget-read.js';
import type { ProxyContext } from './context.js';
import { assertInScope, scopeOf } from './issuer-scope.js';
import { jsonBody } from './json-body.js';
import { issueKeyHandler } from './key-issue.js';
import { validate } from './validate.js';
import { ledger } from './ledger.js';
import { listKeysByStatus } from './key-list.js';
import { auditView, keyWithSpendView } from './views.js';

/**
 * The admin API: issue, read, list and revoke vault keys, and query the audit log. The admin token reaches
 * everything; an issuer token only what is in its budget's subtree (anything else reads as not found).
 */
export function registerAdminRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  const admin = { onRequest: adminGuard(ctx, { issuers: true }) };

  /** The key, when it exists and the caller may see it; otherwise the same 404 either way. */
  const visibleKey = async (request: FastifyRequest, id: string): Promise<KeyRecord> => {
    const key = await ledger(() => ctx.store.getKey(id));
    if (!key) throw spendgateError('not_found', `No key ${id}`);
    assertInScope(principalOf(request), key.budgetPath, { kind: 'key', id });
    return key;
  };

  const issue = issueKeyHandler(ctx);
  app.post('/v1/keys', admin, issue);
  app.post('/vault/keys', admin, issue);

  app.get('/v1/keys/:id', admin, async (request) => {
    const { id } = request.params as { id: string };
    const key = await visibleKey(request, id);
    return keyWithSpendView(key, ctx.now(), await readChain(ctx.store, key.budgetPath));
  });

  app.get('/v1/keys', admin, async (request) => {
    const query = validate(listKeysQuery, request.query);
    const now = ctx.now();
    const page = await ledger(() =>
      listKeysByStatus(
        ctx.store,
        {
          label: query.label,
          labelPrefix: query.label_prefix,
          status: query.status,
          vendor: query.vendor,
          budgetId: query.budget_id,
          within: scopeOf(principalOf(request)),
          limit: query.limit,
          cursor: query.cursor,
        },
        now,
      ),
    );
    const chainOf = chainReader(ctx.store);
    const data = await Promise.all(
      page.data.map(async (key) => keyWithSpendView(key, now, await chainOf(key.budgetPath))),
    );
    return { data, next_cursor: page.nextCursor };
  });

  const revoke = async (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    await visibleKey(request, id);
    const key = await ledger(() => ctx.store.revokeKey(id));
    if (!key) throw spendgateError('not_found', `No key ${id}`);
    ctx.logger.info({ event: 'key_revoked', key_id: key.id, label: key.label }, 'key revoked');
    return { id: key.id, status: 'revoked', revoked_at: new Date(key.revokedAt ?? ctx.now()).toISOString() };
  };
  app.delete('/v1/keys/:id', admin, revoke);
  app.delete('/vault/keys/:id', admin, revoke);

  app.post('/v1/keys/revoke', admin, async (request) => {
    const body = validate(bulkRevokeBody, jsonBody(request));
    const revoked = await ledger(() =>
      ctx.store.revokeKeys({
        label: body.label,
        labelPrefix: body.label_prefix,
        metadata: body.metadata,
        within: scopeOf(principalOf(request)),
      }),
    );
    ctx.logger.info({ event: 'keys_revoked', count: revoked }, 'keys revoked in bulk');
    return { revoked };
  });

  app.get('/v1/audit', admin, async (request) => {
    const query = validate(auditQuery, request.query);
    const page = await ledger(() =>
      ctx.store.queryAudit({
        keyId: query.key_id,
        label: query.label,
        labelPrefix: query.label_prefix,
        vendor: query.vendor,
        decision: query.decision,
        since: query.since,
        until: query.until,
        within: scopeOf(principalOf(request)),
        limit: query.limit,
        cursor: query.cursor,
      }),
    );
    return { data: page.data.map(auditView), next_cursor: page.nextCursor };
  });
}
