import type { SpendgateClient } from '../client/admin-client.js';
import { SpendgateError } from '../errors/index.js';

const BACKOFF_MS = [100, 400];

/**
 * Revokes one key, retrying what may succeed on a second try (the proxy unreachable, a 5xx). Revocation is
 * idempotent on the proxy, so a retry after a lost answer is harmless. A key the proxy does not know is
 * treated as revoked: nothing can spend with it.
 */
export async function revokeWithRetry(client: SpendgateClient, keyId: string): Promise<void> {
  await withRetry(() => client.revokeKey(keyId));
}

/** Revokes a budget, its subtree and every key in it, with the same retries as a key's revoke. */
export async function revokeBudgetWithRetry(client: SpendgateClient, budgetId: string): Promise<void> {
  await withRetry(() => client.revokeBudget(budgetId));
}

async function withRetry(revoke: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await revoke();
      return;
    } catch (err) {
      if (SpendgateError.isInstance(err) && err.code === 'not_found') return;
      const retryable = SpendgateError.isInstance(err) && err.retryable;
      const delay = BACKOFF_MS[attempt];
      if (!retryable || delay === undefined) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
