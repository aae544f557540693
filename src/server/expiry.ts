import { parseDurationMs } from '../duration.js';
import { spendgateError } from '../errors/index.js';
import type { ProxyContext } from './context.js';

/**
 * The expiry a key or budget asks for (`expires_in` or `expires_at`, else the default TTL), refused past the
 * server's maximum TTL.
 */
export function expiry(
  body: { expires_in?: string | number | undefined; expires_at?: string | undefined },
  now: number,
  ctx: ProxyContext,
  limits: {
    /** The longest TTL allowed: keys' by default; budgets have their own. */
    readonly maxMs?: number;
    /** An issuer's `max_ttl`: a request that names no expiry gets at most this, instead of a refusal. */
    readonly defaultCapMs?: number | null;
  } = {},
): number {
  const max = limits.maxMs ?? ctx.config.SPENDGATE_MAX_TTL;
  if (body.expires_in !== undefined && body.expires_at !== undefined) {
    throw spendgateError('bad_request', 'Give expires_in or expires_at, not both', { param: 'expires_at' });
  }
  let ttl = Math.min(ctx.config.SPENDGATE_DEFAULT_TTL, limits.defaultCapMs ?? Infinity);
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
  if (ttl > max) {
    throw spendgateError('ttl_too_long', `The TTL exceeds the maximum of ${Math.floor(max / 1000)} seconds`, {
      param: body.expires_at !== undefined ? 'expires_at' : 'expires_in',
      max_ttl_seconds: Math.floor(max / 1000),
    });
  }
  return now + ttl;
}
