import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { basicCredentials, bearerToken } from '../vendors/shared/credentials.js';

export const VAULT_TOKEN_PREFIX = 'vk_';
export const ISSUER_TOKEN_PREFIX = 'it_';

export function newKeyId(): string {
  return `key_${randomBytes(12).toString('hex')}`;
}

export function newBudgetId(): string {
  return `bud_${randomBytes(12).toString('hex')}`;
}

export function newIssuerId(): string {
  return `iss_${randomBytes(12).toString('hex')}`;
}

/** An issuer token: like a vault key, shown once and stored only as its SHA-256. */
export function newIssuerToken(): string {
  return `${ISSUER_TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
}

/** 192 bits of randomness: shown to the caller once, stored only as its SHA-256. */
export function newVaultToken(): string {
  return `${VAULT_TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time equality of two hex digests of equal length (a stored token hash and a computed one). */
export function digestsEqual(a: string, b: string): boolean {
  const da = Buffer.from(a, 'hex');
  const db = Buffer.from(b, 'hex');
  return da.length === db.length && timingSafeEqual(da, db);
}

/** Constant-time equality of two secrets of any length (compares their digests). */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/**
 * The vault token from a vendor call, in any form an official SDK sends its credential:
 * `Bearer vk_…` (Stripe, Resend), Basic `vk_…:x` (Twilio, Stripe) or Basic `AC…:vk_…` (Twilio).
 */
export function vaultTokenFrom(headers: IncomingHttpHeaders): string | null {
  const bearer = bearerToken(headers);
  if (bearer !== null) return bearer;
  const basic = basicCredentials(headers);
  if (!basic) return null;
  if (basic.user.startsWith(VAULT_TOKEN_PREFIX)) return basic.user;
  if (basic.password.startsWith(VAULT_TOKEN_PREFIX)) return basic.password;
  return basic.user || null;
}
