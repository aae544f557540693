import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ClientCapabilities, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { formatUsd } from '../../src/money.js';
import type { ApprovalQuestion, AskApproval } from './types.js';

/** The one field of the approval form: an explicit `true` approves; anything else sends nothing. */
export const APPROVE_FIELD = 'approve';

/**
 * How long a person may take to answer. It matches the proxy's default approval lifetime
 * (`SPENDGATE_APPROVAL_TTL`, 10 minutes): an answer after that would find the pending approval expired.
 */
const ANSWER_TIMEOUT_MS = 600_000;

/**
 * An `AskApproval` that asks through MCP elicitation (`server.elicitInput`, a form with one boolean), or
 * `undefined` when the client declared no form elicitation. The question is tied to the `tools/call` that
 * raised it (`relatedRequestId`), so Streamable HTTP sends it on that call's own stream, and cancelling the
 * call cancels the question.
 */
export function elicitationAsker(
  server: Server,
  request: { readonly requestId: RequestId; readonly signal: AbortSignal },
): AskApproval | undefined {
  if (!supportsFormElicitation(server.getClientCapabilities())) return undefined;
  return async (question) => {
    try {
      const answer = await server.elicitInput(
        {
          message: approvalMessage(question),
          requestedSchema: {
            type: 'object',
            properties: {
              [APPROVE_FIELD]: {
                type: 'boolean',
                title: 'Approve this call',
                description: 'true sends this exact call once; false or no answer sends nothing.',
                default: false,
              },
            },
            required: [APPROVE_FIELD],
          },
        },
        { relatedRequestId: request.requestId, signal: request.signal, timeout: ANSWER_TIMEOUT_MS },
      );
      if (answer.action !== 'accept') return 'denied';
      return answer.content?.[APPROVE_FIELD] === true ? 'approved' : 'denied';
    } catch (err) {
      // A cancelled call gets no answer at all; a client that failed to ask decided nothing.
      if (request.signal.aborted) throw err;
      return 'unanswered';
    }
  };
}

/**
 * Form elicitation: `elicitation.form`, or an empty `elicitation: {}` (clients from before the spec named
 * modes). A client that offers only URL mode cannot show this form.
 */
export function supportsFormElicitation(capabilities: ClientCapabilities | undefined): boolean {
  const elicitation = capabilities?.elicitation;
  if (!elicitation) return false;
  return elicitation.form !== undefined || Object.keys(elicitation).length === 0;
}

/** What the person reads: the tool, the amount, the threshold and the model's arguments, as they are. */
export function approvalMessage(question: ApprovalQuestion): string {
  const amount =
    question.amountUsd === null
      ? 'an amount stated in another currency (see the arguments)'
      : usd(question.amountUsd);
  const threshold =
    question.thresholdUsd === null
      ? ''
      : ` (above this session's ${usd(question.thresholdUsd)} approval threshold)`;
  return [
    `spendgate: approve ${question.tool} for ${amount}${threshold}?`,
    `Arguments: ${JSON.stringify(question.arguments)}`,
    `Approve sends this exact call once. Declining sends nothing.`,
  ].join('\n');
}

function usd(amount: number): string {
  return formatUsd(Math.round(amount * 1_000_000));
}
