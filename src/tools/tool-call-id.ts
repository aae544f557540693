import { SpendgateError } from '../errors/index.js';

/**
 * The framework's id for a tool call, or a loud failure. The id seeds the call's idempotency key, so
 * inventing one (a random UUID) would give a retried call a new key, and the retry would charge again.
 */
export function requireToolCallId(
  id: string | undefined,
  where: { readonly tool: string; readonly framework: string },
): string {
  if (typeof id === 'string' && id !== '') return id;
  throw new SpendgateError({
    code: 'bad_request',
    message: `${where.framework} called ${where.tool} without a tool call id, so spendgate cannot make the call idempotent; nothing was sent. Invoke the tool with the model's tool call (its id included), not with bare arguments.`,
    details: { reason: 'tool_call_id_missing', tool: where.tool },
  });
}

/** Whether `error` is the failure `requireToolCallId` throws: a framework must let it through, not hide it. */
export function isToolCallIdMissing(error: unknown): boolean {
  return SpendgateError.isInstance(error) && error.details.reason === 'tool_call_id_missing';
}
