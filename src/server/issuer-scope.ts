import { spendgateError } from '../errors/index.js';
import { formatUsd } from '../money.js';
import { parseEndpointRule } from '../policy/endpoint-allowlist.js';
import { rulesWithin } from '../policy/endpoint-ceiling.js';
import type { IssuerRecord } from '../store/types.js';
import type { AdminPrincipal } from './admin-auth.js';

/**
 * What an issuer token may do, checked on every admin route it reaches. Its scope is its budget's subtree:
 * anything outside reads as 404 `not_found`, so existence does not leak. Its ceilings (vendors, per-key cap,
 * TTL, endpoints) refuse with 403 `issuer_scope`, naming the limit.
 */
export function scopeOf(principal: AdminPrincipal): string | undefined {
  return principal.kind === 'issuer' ? principal.issuer.budgetId : undefined;
}

/** Whether something with this budget path (root first) is visible to the principal. */
export function inScope(principal: AdminPrincipal, budgetPath: readonly string[]): boolean {
  return principal.kind === 'admin' || budgetPath.includes(principal.issuer.budgetId);
}

/** Throws the not-found the route would give for a missing `kind` `id`, when it is out of scope. */
export function assertInScope(
  principal: AdminPrincipal,
  budgetPath: readonly string[],
  what: { readonly kind: string; readonly id: string; readonly param?: string },
): void {
  if (inScope(principal, budgetPath)) return;
  throw spendgateError('not_found', `No ${what.kind} ${what.id}`, what.param ? { param: what.param } : {});
}

/** The ceilings an issuer's keys must fit, checked before anything is created. */
export function checkKeyCeilings(
  issuer: IssuerRecord,
  key: {
    readonly vendor: string;
    readonly usdCap: number | null;
    readonly dailyUsdCap: number | null;
    readonly ttlMs: number;
    readonly allowedEndpoints: readonly string[];
    readonly connectedAccounts: readonly string[];
  },
): void {
  // An issuer has no ceiling on connected accounts, so its keys act on the platform account only.
  if (key.connectedAccounts.length > 0) {
    throw scopeError(
      issuer,
      'connected_accounts',
      `Issuer ${issuer.id} may not issue keys for connected accounts`,
    );
  }
  if (issuer.vendors !== null && !issuer.vendors.includes(key.vendor)) {
    throw scopeError(
      issuer,
      'vendors',
      `Issuer ${issuer.id} may issue keys for ${issuer.vendors.join(', ')} only`,
    );
  }
  const ceiling = issuer.maxKeyUsdCap;
  if (ceiling !== null) {
    const caps = [key.usdCap, key.dailyUsdCap].filter((cap): cap is number => cap !== null);
    if (caps.length === 0 || caps.some((cap) => cap > ceiling)) {
      throw scopeError(
        issuer,
        'max_key_usd_cap',
        `Issuer ${issuer.id} may issue keys capped at ${formatUsd(ceiling)} at most (usd_cap and daily_usd_cap)`,
      );
    }
  }
  checkTtl(issuer, key.ttlMs);
  const ceilings = issuer.allowedEndpoints;
  if (ceilings !== null) {
    const rules = key.allowedEndpoints.map(parseEndpointRule);
    if (!rulesWithin(rules, ceilings.map(parseEndpointRule))) {
      throw scopeError(
        issuer,
        'allowed_endpoints',
        `Issuer ${issuer.id} may allow only endpoints within: ${ceilings.join(', ')}`,
      );
    }
  }
}

/** An issuer's `max_ttl` bounds every key and budget it creates. */
export function checkTtl(issuer: IssuerRecord, ttlMs: number): void {
  if (issuer.maxTtlMs !== null && ttlMs > issuer.maxTtlMs) {
    throw scopeError(
      issuer,
      'max_ttl',
      `Issuer ${issuer.id} may issue for ${Math.floor(issuer.maxTtlMs / 1000)} seconds at most`,
    );
  }
}

function scopeError(issuer: IssuerRecord, limit: string, message: string) {
  return spendgateError('issuer_scope', message, { issuer_id: issuer.id, limit });
}
