import type { FastifyRequest } from 'fastify';
import { spendgateError } from '../errors/index.js';
import { basicCredentials, bearerToken } from '../vendors/shared/credentials.js';
import { secretsEqual, VAULT_TOKEN_PREFIX } from './tokens.js';

/**
 * Admin routes take only the admin token. A vault key gets 403 `admin_token_required` (it is a valid
 * credential, just not for this), anything else 401 `unauthorized`.
 */
export function requireAdmin(request: FastifyRequest, adminToken: string): void {
  const presented = bearerToken(request.headers);
  if (presented !== null && secretsEqual(presented, adminToken)) return;
  const basic = basicCredentials(request.headers);
  const vault = [presented, basic?.user, basic?.password].some((t) => t?.startsWith(VAULT_TOKEN_PREFIX));
  if (vault)
    throw spendgateError('admin_token_required', 'This route needs the admin token, not a vault key');
  throw spendgateError(
    'unauthorized',
    presented === null ? 'Missing admin token (Authorization: Bearer <token>)' : 'Invalid admin token',
  );
}
