import type { z } from 'zod';
import type { ToolCall, ToolResult } from '../../src/tools/index.js';

/** MCP's tool annotations: hints a client may use to decide when to ask a person (never trusted for safety). */
export interface McpToolAnnotations {
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

/** What a person is asked before one call above the session's approval threshold is sent. */
export interface ApprovalQuestion {
  readonly tool: string;
  /** The call's USD amount: the proxy's price, or what the arguments state; `null` when neither says. */
  readonly amountUsd: number | null;
  readonly thresholdUsd: number | null;
  /** The model's arguments, shown as they are. */
  readonly arguments: unknown;
}

/** The person's answer; `unanswered` when the client could not ask (an error, a timeout). */
export type ApprovalAnswer = 'approved' | 'denied' | 'unanswered';

/** Asks the person behind the MCP client about one call (MCP elicitation). */
export type AskApproval = (question: ApprovalQuestion) => Promise<ApprovalAnswer>;

/** One `tools/call`: its identity, plus a way to ask a person when the client supports elicitation. */
export interface SessionToolCall extends ToolCall {
  /** Absent when the client declared no (form) elicitation capability. */
  readonly askApproval?: AskApproval | undefined;
}

/**
 * One tool as an MCP session serves it, still as plain data: what `tools/list` shows, and the call that
 * answers `tools/call`. The server module only translates these to and from the protocol.
 */
export interface SessionTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: z.ZodObject;
  readonly annotations: McpToolAnnotations;
  call(input: unknown, call: SessionToolCall): Promise<ToolResult>;
}
