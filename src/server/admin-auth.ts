import type { FastifyRequest } from 'fastify';
import { spendgateError } from '../errors/index.js';
import type { IssuerRecord } from '../store/types.js';
import { basicCredentials, bearerToken } from '../vendors/shared/credentials.js';
import type { ProxyContext } from './context.js';
import { ledger } from './ledger.js';
import { digestsEqual, hashToken, ISSUER_TOKEN_PREFIX, secretsEqual, VAULT_TOKEN_PREFIX } from './tokens.js';

/** Who is calling an admin route: the operator (admin token) or an issuer scoped to one budget's subtree. */
export type AdminPrincipal =
  { readonly kind: 'admin' } | { readonly kind: 'issuer'; readonly issuer: IssuerRecord };

const ADMIN: AdminPrincipal = { kind: 'admin' };
const principals = new WeakMap<FastifyRequest, AdminPrincipal>();

/**
 * The `onRequest` hook of the admin routes. The admin token always passes. An issuer token (`it_…`) passes
 * only where `issuers` allows it, and is then scoped by the route (see issuer-scope.ts); elsewhere it gets
 * 403 `issuer_scope`. A vault key gets 403 `admin_token_required` (a valid credential, just not for this),
 * anything else 401.
 */
export function adminGuard(ctx: ProxyContext, options: { readonly issuers: boolean }) {
  return async (request: FastifyRequest): Promise<void> => {
    const presented = bearerToken(request.headers);
    if (presented !== null && secretsEqual(presented, ctx.config.SPENDGATE_ADMIN_TOKEN)) {
      principals.set(request, ADMIN);
      return;
    }
    if (presented?.startsWith(ISSUER_TOKEN_PREFIX)) {
      const issuer = await activeIssuer(ctx, presented);
      if (!options.issuers) {
        throw spendgateError(
          'issuer_scope',
          'This route needs the admin token; an issuer token cannot reach it',
          {
            issuer_id: issuer.id,
          },
        );
      }
      principals.set(request, { kind: 'issuer', issuer });
      return;
    }
    const basic = basicCredentials(request.headers);
    const vault = [presented, basic?.user, basic?.password].some((t) => t?.startsWith(VAULT_TOKEN_PREFIX));
    if (vault)
      throw spendgateError('admin_token_required', 'This route needs the admin token, not a vault key');
    throw spendgateError(
      'unauthorized',
      presented === null ? 'Missing admin token (Authorization: Bearer <token>)' : 'Invalid admin token',
    );
  };
}

/** The request's principal; the guard has run for every admin route, so a missing one is a wiring bug. */
export function principalOf(request: FastifyRequest): AdminPrincipal {
  const principal = principals.get(request);
  if (!principal) throw new Error('admin route without adminGuard');
  return principal;
}

/** The issuer a token names, read from the ledger on every request: a revoke takes effect at once. */
async function activeIssuer(ctx: ProxyContext, token: string): Promise<IssuerRecord> {
  const tokenHash = hashToken(token);
  const issuer = await ledger(() => ctx.store.findIssuerByTokenHash(tokenHash));
  // The lookup is by hash; the comparison that decides is constant-time, as for vault keys.
  if (!issuer || !digestsEqual(issuer.tokenHash, tokenHash))
    throw spendgateError('unauthorized', 'Invalid issuer token');
  if (issuer.status === 'revoked')
    throw spendgateError('issuer_revoked', `Issuer ${issuer.id} has been revoked`, { issuer_id: issuer.id });
  if (issuer.expiresAt !== null && issuer.expiresAt <= ctx.now())
    throw spendgateError('issuer_expired', `Issuer ${issuer.id} has expired`, { issuer_id: issuer.id });
  return issuer;
}
