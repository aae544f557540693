import type { ToolApprovalResponse, ToolModelMessage } from 'ai';

/** A call the SDK paused for a person (a `tool-approval-request` part), as an approval UI shows it. */
export interface ApprovalRequest {
  /** The SDK's id for the request; the answer names it. */
  readonly approvalId: string;
  readonly toolCallId: string;
  readonly toolName: string;
  /** The call's arguments as the model gave them (for `charge_customer`: `amount` in cents, `currency`). */
  readonly input: unknown;
}

/** What a person decided on one request. */
export interface ApprovalDecisionInput {
  readonly request: ApprovalRequest;
  readonly approved: boolean;
  /**
   * Shown to the model with a denial. The budget wrappers put spendgate's own "do not retry, do not split"
   * message before it for spendgate's tools.
   */
  readonly reason?: string;
}

interface ContentLike {
  readonly type: string;
}

/**
 * The calls a `generateText` result (or a `streamText` result's awaited `content`) paused for approval:
 * the `tool-approval-request` parts of its last step.
 */
export function approvalRequests(content: readonly ContentLike[]): ApprovalRequest[] {
  return content.flatMap((part) => {
    if (!isApprovalRequest(part)) return [];
    const { approvalId, toolCall } = part;
    return [
      { approvalId, toolCallId: toolCall.toolCallId, toolName: toolCall.toolName, input: toolCall.input },
    ];
  });
}

/**
 * The tool message that answers the requests, to append after the paused call's `response.messages` in the
 * next call's `messages`.
 */
export function approvalResponses(decisions: readonly ApprovalDecisionInput[]): ToolModelMessage {
  return {
    role: 'tool',
    content: decisions.map(({ request, approved, reason }): ToolApprovalResponse => ({
      type: 'tool-approval-response',
      approvalId: request.approvalId,
      approved,
      ...(reason === undefined ? {} : { reason }),
    })),
  };
}

interface ApprovalRequestPart {
  readonly type: 'tool-approval-request';
  readonly approvalId: string;
  readonly toolCall: { readonly toolCallId: string; readonly toolName: string; readonly input: unknown };
}

function isApprovalRequest(part: ContentLike): part is ApprovalRequestPart {
  return part.type === 'tool-approval-request';
}
