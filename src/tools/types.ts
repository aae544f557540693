import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { ApprovalDecision, StatedUsd } from './approval.js';

/** A JSON value: what a tool hands back to a model must survive `JSON.stringify` unchanged. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { readonly [key: string]: JsonValue };

/** A call that went through: compact facts for the model, plus the budget left on the run's key. */
export interface ToolSuccess {
  readonly ok: true;
  readonly [field: string]: JsonValue;
}

/**
 * A call that did not go through. `retryable: false` means the model must not call again; the `message`
 * is written for the model and says what to do instead.
 */
export interface ToolFailure {
  readonly ok: false;
  /** A contract code (`cap_exhausted`, `key_revoked`, …) or `vendor_declined`, `vendor_error`, `outcome_unknown`. */
  readonly error: string;
  readonly retryable: boolean;
  readonly message: string;
  readonly [field: string]: JsonValue;
}

/** What a tool returns to the model. Tools never throw for spend outcomes; they return one of these. */
export type ToolResult = ToolSuccess | ToolFailure;

/** The vault key a tool call runs under. */
export interface ToolCredential {
  readonly keyId: string;
  readonly vendor: string;
  /** `vk_…`. A run's credentials hide it from `JSON.stringify`, so logging a context never leaks it. */
  readonly token: string;
  toJSON?(): unknown;
}

/** Everything one tool call needs from its run: the key, where the proxy is, and the call's identity. */
export interface ToolCallContext {
  /** The framework's id for this call. It seeds the idempotency key, so a replayed call cannot pay twice. */
  readonly toolCallId: string;
  readonly signal?: AbortSignal | undefined;
  readonly credential: ToolCredential;
  /** The proxy's origin. */
  readonly proxyUrl: string;
  /** Time allowed for the vendor call, in milliseconds. */
  readonly timeoutMs: number;
  readonly dispatcher?: Dispatcher | undefined;
  /** What the key has left, read from the proxy; `null` when unknown (no cap, or the read failed). */
  readonly remainingUsd: () => Promise<number | null>;
  /** The key's spend, read from the proxy after a budget refusal; `null` when the read failed. */
  readonly spend?: () => Promise<KeySpend | null>;
  /** A person's decision on this call, from the framework's human-in-the-loop; absent when none was asked. */
  readonly approval?: ApprovalDecision | undefined;
  /**
   * Turns a pending approval into its single-use grant, with the run's admin credentials (never the model's).
   * Called only for a call a person approved.
   */
  readonly approveCall?: ((approvalId: string) => Promise<string>) | undefined;
}

/** A vault key's spend, in USD, as the proxy reports it. */
export interface KeySpend {
  /** Settled spend, including calls whose outcome is uncertain. */
  readonly spentUsd: number;
  /** What is left before the tightest cap; `null` when the key has no cap. */
  readonly remainingUsd: number | null;
  /** Held by calls still in flight. */
  readonly reservedUsd: number;
}

/** Hints about a tool's side effects, in the MCP annotations' vocabulary. */
export interface ToolAnnotations {
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  /** Repeating a call with the same idempotency key has no further effect. */
  readonly idempotentHint: boolean;
}

/**
 * A budget-scoped tool as plain data, independent of any agent framework. It declares the vendor and the
 * endpoints it calls, so a run can issue a key that reaches exactly those and nothing else.
 */
export interface SpendTool {
  /** The name the model calls it by: snake_case, unique within a run. */
  readonly name: string;
  /** Written for the model: what it does, when to use it, and what to do when it refuses. */
  readonly description: string;
  readonly inputSchema: z.ZodObject;
  readonly vendor: string;
  /** `"METHOD /vendor/path"` entries, as `allowed_endpoints` takes them. */
  readonly endpoints: readonly string[];
  readonly annotations: ToolAnnotations;
  /** What a call says it will spend, from its arguments (a charge's amount); `null` when they do not say. */
  statedUsd(input: unknown): StatedUsd;
  /** Validates `input` against `inputSchema`, calls the proxy, and maps every outcome to a `ToolResult`. */
  execute(input: unknown, context: ToolCallContext): Promise<ToolResult>;
}

/** The identity of one tool call, as every framework provides it. */
export interface ToolCall {
  readonly toolCallId: string;
  readonly signal?: AbortSignal | undefined;
  /** The person's decision, when the framework paused this call for approval (see `RunTool.needsApproval`). */
  readonly approval?: ApprovalDecision | undefined;
}

/** A `SpendTool` bound to a run's key: what the framework adapters translate. */
export interface RunTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: z.ZodObject;
  readonly vendor: string;
  readonly annotations: ToolAnnotations;
  /** The run's `approvalAboveUsd` for this tool's vendor; `null` when calls never need approval. */
  readonly approvalAboveUsd: number | null;
  /** What a call says it will spend, from its arguments: what a person is shown when asked to approve it. */
  statedUsd(input: unknown): StatedUsd;
  /**
   * Whether the framework should pause this call for a person before running it: its stated amount is above
   * `approvalAboveUsd`. Adapters map it to the framework's own approval mechanism.
   */
  needsApproval(input: unknown): boolean;
  execute(input: unknown, call: ToolCall): Promise<ToolResult>;
}
