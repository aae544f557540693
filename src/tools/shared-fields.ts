import { z } from 'zod';

/**
 * The input a model fills in to repeat a call whose outcome was unknown. The repeat reuses the first call's
 * idempotency key, so the vendor answers the first result instead of acting twice. Without it, a repeat from
 * the model is a new call with a new id, and a second charge.
 */
export const retryOfField = z
  .string()
  .optional()
  .describe(
    'Only when an earlier call of this tool returned retryable: true with a retry_of value: pass that value here, with the same arguments. Otherwise leave it out.',
  );

/** The rule every spend tool's description ends with, so the model knows what a refusal means before it sees one. */
export const STOP_RULE =
  'If a result has "retryable": false, do not repeat the call; do what its "message" says (after a budget refusal: stop spending and report to the user).';
