import type { ModelMessage, ToolApprovalResponse } from 'ai';
import { approvalDeniedResult, type ApprovalDecision } from '../../src/tools/index.js';

/** One answer in the prompt's last message to a `tool-approval-request`, with the call it is about. */
export interface ApprovalAnswer {
  readonly approvalId: string;
  readonly toolCallId: string;
  /** The called tool's name; `undefined` when the prompt holds no matching tool call. */
  readonly toolName: string | undefined;
  readonly approved: boolean;
  readonly reason: string | undefined;
}

/**
 * The approval answers the SDK acts on in this prompt. Like the SDK, only a last message with role `tool`
 * counts, so an answer that was already acted on (the next message holds its result) is not read again.
 */
export function approvalAnswers(messages: readonly ModelMessage[]): ApprovalAnswer[] {
  const last = messages.at(-1);
  if (last?.role !== 'tool') return [];
  const callIds = new Map<string, string>();
  const toolNames = new Map<string, string>();
  for (const message of messages) {
    if (message.role !== 'assistant' || typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type === 'tool-approval-request') callIds.set(part.approvalId, part.toolCallId);
      if (part.type === 'tool-call') toolNames.set(part.toolCallId, part.toolName);
    }
  }
  return last.content.flatMap((part) => {
    const toolCallId = part.type === 'tool-approval-response' ? callIds.get(part.approvalId) : undefined;
    if (part.type !== 'tool-approval-response' || toolCallId === undefined) return [];
    const { approvalId, approved, reason } = part;
    return [{ approvalId, toolCallId, toolName: toolNames.get(toolCallId), approved, reason }];
  });
}

/**
 * The person's decision on one call, read from the messages the SDK hands the tool's `execute`. The SDK runs
 * a tool that needs approval only once it is approved, but the decision is read from the answer itself, so
 * a call runs with a grant only when a person's approval for that very call id is in the prompt.
 */
export function decisionFor(
  messages: readonly ModelMessage[],
  toolCallId: string,
): ApprovalDecision | undefined {
  const answer = approvalAnswers(messages).find((a) => a.toolCallId === toolCallId);
  return answer === undefined ? undefined : answer.approved ? 'approved' : 'denied';
}

/**
 * The reason a denied spendgate call gives the model in the SDK's `execution-denied` result: spendgate's
 * non-retryable message (do not retry, do not split), then the person's own reason, if any.
 */
export function deniedReason(toolName: string, reason?: string): string {
  const message = approvalDeniedResult(toolName).message;
  if (reason === undefined || reason === '') return message;
  if (reason.startsWith(message)) return reason;
  return `${message} The person said: ${reason}`;
}

/**
 * The prompt with spendgate's message added to the denials of spendgate calls in its last message, so the
 * model reads "do not retry" whatever the app's UI put in `reason`. Anything else is returned unchanged.
 */
export function withDeniedReasons(
  messages: readonly ModelMessage[],
  toolNames: ReadonlySet<string>,
): ModelMessage[] {
  const denied = new Map(
    approvalAnswers(messages)
      .filter((a) => !a.approved && a.toolName !== undefined && toolNames.has(a.toolName))
      .map((a) => [a.approvalId, a.toolName ?? ''] as const),
  );
  const last = messages.at(-1);
  if (denied.size === 0 || last?.role !== 'tool') return [...messages];
  const content = last.content.map((part) => {
    const toolName = part.type === 'tool-approval-response' ? denied.get(part.approvalId) : undefined;
    if (part.type !== 'tool-approval-response' || toolName === undefined) return part;
    return { ...part, reason: deniedReason(toolName, part.reason) } satisfies ToolApprovalResponse;
  });
  return [...messages.slice(0, -1), { ...last, content }];
}
