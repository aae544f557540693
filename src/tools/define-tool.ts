import type { z } from 'zod';
import { idempotencyKeyFor } from './idempotency.js';
import { resultForOutcome } from './outcome.js';
import { callThroughProxy, type VendorCall } from './proxy-call.js';
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
}

/**
 * Builds a `SpendTool` from a spec. The returned `execute` validates its input, sends one call through the
 * proxy under the run's key, and maps the outcome with `resultForOutcome`; it throws only when the caller
 * aborts.
 */
export function defineSpendTool<S extends z.ZodObject>(spec: SpendToolSpec<S>): SpendTool {
  return {
    name: spec.name,
    description: spec.description,
    inputSchema: spec.inputSchema,
    vendor: spec.vendor,
    endpoints: spec.endpoints,
    annotations: spec.annotations,
    async execute(rawInput, context): Promise<ToolResult> {
      const parsed = spec.inputSchema.safeParse(withoutNulls(rawInput));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return {
          ok: false,
          error: 'bad_request',
          retryable: false,
          message: `Invalid arguments for ${spec.name}: ${issue?.path.join('.') || 'input'} ${issue?.message ?? 'is invalid'}. Fix the arguments before calling again.`,
        };
      }
      const input = parsed.data;
      const callId = spec.retryOf?.(input) ?? context.toolCallId;
      const idempotencyKey = spec.idempotent
        ? idempotencyKeyFor({ keyId: context.credential.keyId, toolName: spec.name, callId })
        : undefined;
      const outcome = await callThroughProxy({ ...spec.request(input), idempotencyKey }, context);
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
