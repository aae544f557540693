import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { spendgateError } from '../errors/index.js';
import { usdToMicros } from '../money.js';
import { parseEndpointRule } from '../policy/endpoint-allowlist.js';
import { parseDurationMs } from '../duration.js';
import { auditQuery, bulkRevokeBody, issueKeyBody, listKeysQuery } from './admin-schemas.js';
import { requireAdmin } from './admin-auth.js';
import type { ProxyContext } from './context.js';
import { hashToken, newKeyId, newVaultToken } from './tokens.js';
import { jsonBody } from './json-body.js';
import { validate } from './validate.js';
import { ledger } from './ledger.js';
import { listKeysByStatus } from './key-list.js';
import { withKeyMode } from './sandbox.js';
import { auditView, keyView, keyWithSpendView } from './views.js';

/** The admin API: issue, read, list and revoke vault keys, and query the audit log. */
export function registerAdminRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  const admin = {
    onRequest: async (request: FastifyRequest) => requireAdmin(request, ctx.config.SPENDGATE_ADMIN_TOKEN),
  };

  const issue = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = validate(issueKeyBody, jsonBody(request));
    if (!ctx.vendors.has(body.vendor)) {
      throw spendgateError(
        'unknown_vendor',
        `Unknown vendor "${body.vendor}"; known: ${[...ctx.vendors.keys()].join(', ')}`,
        {
          param: 'vendor',
        },
      );
    }
    for (const entry of body.allowed_endpoints) parseEndpointRule(entry);
    const connectedAccounts = body.connected_accounts ?? [];
    if (connectedAccounts.length > 0 && ctx.vendors.get(body.vendor)?.vendor.accountHeaders.size === 0) {
      throw spendgateError('bad_request', `connected_accounts does not apply to ${body.vendor} keys`, {
        param: 'connected_accounts',
      });
    }
    const money = (value: number | string | undefined, field: string) =>
      value === undefined ? null : usdToMicros(value, field);
    let dailyUsdCap = money(body.daily_usd_cap, 'daily_usd_cap');
    const usdCap = money(body.usd_cap, 'usd_cap');
    const maxUsdPerCall = money(body.max_usd_per_call, 'max_usd_per_call');
    const approvalAboveUsd = money(body.approval_above_usd, 'approval_above_usd');
    if (dailyUsdCap === null && usdCap === null) {
      dailyUsdCap = ctx.config.SPENDGATE_DEFAULT_DAILY_USD_CAP ?? null;
      if (dailyUsdCap === null) {
        throw spendgateError(
          'cap_required',
          'A key needs usd_cap or daily_usd_cap (no default cap is configured)',
          {
            param: 'usd_cap',
          },
        );
      }
    }
    const now = ctx.now();
    const expiresAt = expiry(body, now, ctx);
    const token = newVaultToken();
    const key = await ledger(() =>
      ctx.store.issueKey({
        id: newKeyId(),
        tokenHash: hashToken(token),
        vendor: body.vendor,
        label: body.label ?? null,
        metadata: withKeyMode(body.metadata, ctx.sandbox),
        usdCap,
        dailyUsdCap,
        maxUsdPerCall,
        approvalAboveUsd,
        allowedEndpoints: body.allowed_endpoints,
        connectedAccounts,
        createdAt: now,
        expiresAt,
      }),
    );
    ctx.logger.info(
      { event: 'key_issued', key_id: key.id, vendor: key.vendor, label: key.label },
      'key issued',
    );
    const view = keyView(key);
    return reply.code(201).send({ id: key.id, token, vault_key: token, ...view });
  };
  app.post('/v1/keys', admin, issue);
  app.post('/vault/keys', admin, issue);

  app.get('/v1/keys/:id', admin, async (request) => {
    const { id } = request.params as { id: string };
    const key = await ledger(() => ctx.store.getKey(id));
    if (!key) throw spendgateError('not_found', `No key ${id}`);
    return keyWithSpendView(key, ctx.now());
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
          limit: query.limit,
          cursor: query.cursor,
        },
        now,
      ),
    );
    return { data: page.data.map((key) => keyWithSpendView(key, now)), next_cursor: page.nextCursor };
  });

  const revoke = async (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
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
        limit: query.limit,
        cursor: query.cursor,
      }),
    );
    return { data: page.data.map(auditView), next_cursor: page.nextCursor };
  });
}

function expiry(
  body: { expires_in?: string | number | undefined; expires_at?: string | undefined },
  now: number,
  ctx: ProxyContext,
): number {
  if (body.expires_in !== undefined && body.expires_at !== undefined) {
    throw spendgateError('bad_request', 'Give expires_in or expires_at, not both', { param: 'expires_at' });
  }
  let ttl = ctx.config.SPENDGATE_DEFAULT_TTL;
  if (body.expires_in !== undefined) {
    const parsed = parseDurationMs(body.expires_in);
    if (parsed === null) {
      throw spendgateError(
        'bad_request',
        'expires_in must be like "90s", "5m", "1h" or a number of seconds',
        {
          param: 'expires_in',
        },
      );
    }
    ttl = parsed;
  } else if (body.expires_at !== undefined) {
    ttl = Date.parse(body.expires_at) - now;
    if (ttl <= 0) throw spendgateError('bad_request', 'expires_at is in the past', { param: 'expires_at' });
  }
  const max = ctx.config.SPENDGATE_MAX_TTL;
  if (ttl > max) {
    throw spendgateError('ttl_too_long', `The TTL exceeds the maximum of ${Math.floor(max / 1000)} seconds`, {
      param: body.expires_at !== undefined ? 'expires_at' : 'expires_in',
      max_ttl_seconds: Math.floor(max / 1000),
    });
  }
  return now + ttl;
}
