import type { FastifyReply } from 'fastify';
import type { SpendgateError } from '../errors/index.js';
import { ERROR_CODES, type ErrorCode } from '../errors/index.js';

/**
 * The refusal body of the HTTP contract: `code` at the top level (the seeds read `resp.json()["code"]`) and
 * inside `error`, where the vendor SDKs look for a message. `message` is repeated at the top level because
 * the Twilio SDK reads it from there, and `name`/`statusCode` mirror Resend's error envelope.
 */
export function refusalBody(error: SpendgateError): Record<string, unknown> {
  return {
    code: error.code,
    message: error.message,
    // Resend's SDK hands the parsed body to the caller as `error`; these two make it read like Resend's own.
    name: error.code,
    statusCode: error.status,
    error: {
      type: 'spendgate_error',
      code: error.code,
      retryable: error.retryable,
      message: error.message,
      ...error.details,
    },
  };
}

function refusalHeaders(code: ErrorCode): Record<string, string> {
  // The Stripe SDK obeys this header; it stops automatic retries of a refusal that cannot succeed.
  return { 'stripe-should-retry': ERROR_CODES[code].retryable ? 'true' : 'false' };
}

/** Sends a refusal: the code's status, its retry header and the contract's body. */
export function sendRefusal(reply: FastifyReply, error: SpendgateError): FastifyReply {
  return reply.code(error.status).headers(refusalHeaders(error.code)).send(refusalBody(error));
}
