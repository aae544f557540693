import { createHash } from 'node:crypto';

/**
 * The `Idempotency-Key` for one tool call. It is derived, not random, so the same call sent again (a
 * framework retry, or the model retrying with `retry_of`) carries the same key and the vendor and the proxy
 * both answer the first result instead of charging again.
 *
 * The vault key's id is part of it because Stripe scopes idempotency keys to the whole account: frameworks
 * reuse call ids across runs (mock models number them `call-1`, `call-2`), and two runs must never collide.
 */
export function idempotencyKeyFor(input: {
  readonly keyId: string;
  readonly toolName: string;
  readonly callId: string;
}): string {
  const digest = createHash('sha256')
    .update(`${input.keyId}\u0000${input.toolName}\u0000${input.callId}`)
    .digest('hex');
  return `spendgate-${digest.slice(0, 40)}`;
}
