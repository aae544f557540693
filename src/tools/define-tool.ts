import type { z } from 'zod';
import {
  approvalDeniedResult,
  approvalMismatchResult,
  approvalRequiredResult,
  grantFailedResult,
  pendingApproval,
  type StatedUsd,
} from './approval.js';
import { idempotencyKeyFor } from './idempotency.js';
import { resultForOutcome } from './outcome.js';
import { callThroughProxy, type CallOutcome, type VendorCall } from './proxy-call.js';
import { isBudgetStop } from './stop-codes.js';
import type { JsonValue, SpendTool, ToolAnnotations, ToolCallContext, ToolResult } from './types.js';

/** How to turn a validated input into one vendor call, and a 2xx answer into facts for the model. */
export interface SpendToolSpec<S extends z.ZodObject> {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: S;
  readonly vendor: string;
  /** Every endpoint `request` can produce, as `allowed_endpoints` entries. The run's key allows only these. */
  readonly endpoints: readonly string[];
  readonly annotations: ToolAnnotations;
  /**
   * Whether the vendor honours `Idempotency-Key` for this call. When it does, each call sends a key derived
   * from its call id (or from `retryOf`), and a lost answer is reported as safe to retry.
   */
  readonly idempotent: boolean;
  /** The earlier call id this call repeats (the `retry_of` input), so it reuses that call's idempotency key. */
  readonly retryOf?: (input: z.output<S>) => string | undefined;
  readonly request: (input: z.output<S>) => Omit<VendorCall, 'idempotencyKey'>;
  /** Picks the few fields the model needs from a 2xx body. Keep it small: it is paid for in tokens. */
  readonly summarize: (body: unknown, input: z.output<S>) => Readonly<Record<string, JsonValue>>;
  /**
   * What the call says it will spend, in USD, where its arguments state it (a charge's amount). It decides
   * whether a framework asks a person first; the proxy's own price decides whether the call needs a grant.
   */
  readonly statedUsd?: (input: z.output<S>) => StatedUsd;
}

/**
 * Builds a `SpendTool` from a spec. The returned `execute` validates its input, sends one call through the
 * proxy under the run's key, and maps the outcome with `resultForOutcome`; it throws only when the caller
 * aborts.
 */
export function defineSpendTool<S extends z.ZodObject>(spec: SpendToolSpec<S>): SpendTool {
  const spendTool: SpendTool = {
    name: spec.name,
    description: spec.description,
    inputSchema: spec.inputSchema,
    vendor: spec.vendor,
    endpoints: spec.endpoints,
    annotations: spec.annotations,
    statedUsd(rawInput) {
      const parsed = spec.inputSchema.safeParse(withoutNulls(rawInput));
      return parsed.success && spec.statedUsd ? spec.statedUsd(parsed.data) : null;
    },
    async execute(rawInput, context): Promise<ToolResult> {
      const parsed = spec.inputSchema.safeParse(withoutNulls(rawInput));
      if (!parsed.success) return invalidArguments(spec.name, parsed.error.issues[0]);
      const input = parsed.data;
      // Denied by a person: nothing is sent, so nothing can be charged.
      if (context.approval === 'denied') return approvalDeniedResult(spec.name);
      const callId = spec.retryOf?.(input) ?? context.toolCallId;
      const idempotencyKey = spec.idempotent
        ? idempotencyKeyFor({ keyId: context.credential.keyId, toolName: spec.name, callId })
        : undefined;
      const call: VendorCall = { ...spec.request(input), idempotencyKey };
      const sent = await sendWithApproval(call, context, spec.statedUsd?.(input) ?? null);
      if ('ok' in sent) return sent;
      const outcome = sent;
      const tool = { name: spec.name, vendor: spec.vendor, idempotent: spec.idempotent };
      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        const summary = spec.summarize(outcome.json, input);
        const remainingUsd = await context.remainingUsd();
        return resultForOutcome({ tool, outcome, callId, summary, remainingUsd });
      }
      const inFlightWaitSeconds = Math.ceil(context.timeoutMs / 1000);
      return withSpend(resultForOutcome({ tool, outcome, callId, inFlightWaitSeconds }), context);
    },
  };
  return spendTool;

  /**
   * Sends the call. When the proxy answers `approval_required` and a person approved this call through the
   * framework, obtains the grant and re-sends the identical request (same body, same idempotency key) with
   * it; otherwise the refusal becomes a non-retryable result.
   */
  async function sendWithApproval(
    call: VendorCall,
    context: ToolCallContext,
    stated: StatedUsd,
  ): Promise<CallOutcome | ToolResult> {
    const outcome = await callThroughProxy(call, context);
    const pending = pendingApproval(outcome);
    if (!pending) return outcome;
    if (context.approval !== 'approved' || !context.approveCall)
      return approvalRequiredResult(spec.name, pending);
    // The person approved what the arguments state; a higher price (an exchange rate) was not approved.
    if (typeof stated === 'number' && pending.amountUsd > stated) {
      return approvalMismatchResult(spec.name, stated, pending.amountUsd);
    }
    let grant: string;
    try {
      grant = await context.approveCall(pending.id);
    } catch (err) {
      if (context.signal?.aborted) throw err;
      return grantFailedResult(spec.name, err instanceof Error ? err.message : String(err));
    }
    return callThroughProxy({ ...call, approvalGrant: grant }, context);
  }
}

function invalidArguments(name: string, issue: z.core.$ZodIssue | undefined): ToolResult {
  return {
    ok: false,
    error: 'bad_request',
    retryable: false,
    message: `Invalid arguments for ${name}: ${issue?.path.join('.') || 'input'} ${issue?.message ?? 'is invalid'}. Fix the arguments before calling again.`,
  };
}

/**
 * Adds what the key has spent to a refusal that ends the run, so the model and the run's summary can say how
 * much went through. The refusal's own `remaining_budget_usd` (from the moment it was refused) is kept.
 */
async function withSpend(result: ToolResult, context: ToolCallContext): Promise<ToolResult> {
  if (!isBudgetStop(result) || !context.spend) return result;
  const spend = await context.spend();
  if (!spend) return result;
  return {
    ...result,
    spent_usd: spend.spentUsd,
    remaining_budget_usd: result.remaining_budget_usd ?? spend.remainingUsd,
  };
}

/**
 * Strict function calling (OpenAI) sends an omitted optional field as `null`; the schemas say "optional",
 * so a top-level `null` is read as "not given".
 */
function withoutNulls(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null));
}
