import type { SpendTool, ToolFailure } from '../../src/tools/index.js';

/**
 * The session's approval threshold: a call that states it will spend more than `thresholdUsd` needs a
 * person's approval. Neither the proxy nor this server can obtain one yet, so such a call is refused before
 * anything is sent, with `approval_required` and `retryable: false`.
 *
 * TODO(elicitation): once approvals exist, ask the person through MCP elicitation
 * (`server.elicitInput`, when `server.getClientCapabilities()?.elicitation` is set) and send the call only on
 * `accept`; keep this refusal for clients without elicitation. Until the proxy can enforce an approval, an
 * answer from the client alone would be a client-side promise, which is why it is not done here.
 */
export interface ApprovalPolicy {
  readonly thresholdUsd: number;
}

/** The refusal for a call over the threshold, or `null` when the call may go ahead. */
export function approvalRefusal(
  tool: Pick<SpendTool, 'name' | 'vendor'>,
  input: unknown,
  policy: ApprovalPolicy | undefined,
): ToolFailure | null {
  if (!policy) return null;
  const stated = statedUsd(tool, input);
  if (stated === null || (stated !== 'unknown' && stated <= policy.thresholdUsd)) return null;
  const amount = stated === 'unknown' ? 'an amount in a currency this server cannot price' : `$${stated}`;
  return {
    ok: false,
    error: 'approval_required',
    retryable: false,
    approval_threshold_usd: policy.thresholdUsd,
    message:
      `${tool.name} for ${amount} is above this session's approval threshold of $${policy.thresholdUsd}: it needs a person's approval, ` +
      'and this server cannot ask for one. Nothing was sent. Do not retry it, do not split it into smaller calls, and do not spend another way; stop and report this to the user.',
  };
}

/**
 * What a call says it will spend, in USD, when its arguments state it: a Stripe charge's `amount` in USD
 * cents. SMS and email are priced by the proxy from segments and recipients, not stated by the call, so
 * they are not gated here (their caps and per-call limits still apply). `'unknown'` for a stated amount in
 * another currency: it is treated as over the threshold.
 */
function statedUsd(tool: Pick<SpendTool, 'vendor'>, input: unknown): number | 'unknown' | null {
  if (tool.vendor !== 'stripe' || typeof input !== 'object' || input === null) return null;
  const { amount, currency } = input as { amount?: unknown; currency?: unknown };
  // Invalid arguments are the tool's to refuse, with its own message.
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) return null;
  return currency === 'usd' ? amount / 100 : 'unknown';
}
