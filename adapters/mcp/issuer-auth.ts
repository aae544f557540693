import { createHash, timingSafeEqual } from 'node:crypto';
import type { SpendgateClient } from '../../src/client/index.js';
import { SpendgateError } from '../../src/errors/index.js';

/** What an issuer token starts with (the proxy's `it_…`). Any other bearer is never sent to the proxy. */
export const ISSUER_TOKEN_PREFIX = 'it_';

/** Whether the proxy still honours an issuer token, as one scoped admin call found it. */
export type IssuerCheck =
  | { readonly status: 'valid' }
  /** The proxy answered 401 or 403 (`issuer_revoked`, `issuer_expired`, `unauthorized`, …). */
  | { readonly status: 'refused'; readonly code: string }
  /** No answer that says either way (the proxy unreachable, a 5xx): nothing is decided. */
  | { readonly status: 'unknown'; readonly code: string; readonly retryable: boolean };

/**
 * Checks the token behind `client` with the cheapest scoped admin call there is (`GET /v1/budgets?limit=1`,
 * which an issuer token may make inside its own subtree). The token goes to the proxy's admin API only.
 * A cancelled `signal` rejects with its reason.
 */
export async function checkIssuerToken(client: SpendgateClient, signal?: AbortSignal): Promise<IssuerCheck> {
  try {
    await client.listBudgets({ limit: 1 }, { signal });
    return { status: 'valid' };
  } catch (err) {
    if (signal?.aborted) throw err;
    if (SpendgateError.isInstance(err) && (err.status === 401 || err.status === 403)) {
      return { status: 'refused', code: err.code };
    }
    return SpendgateError.isInstance(err)
      ? { status: 'unknown', code: err.code, retryable: err.retryable }
      : { status: 'unknown', code: 'internal_error', retryable: false };
  }
}

/** A bearer's SHA-256: what each later request of a session is compared with. */
export function bearerDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Constant-time comparison of two digests from `bearerDigest`. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
