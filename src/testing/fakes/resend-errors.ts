import { jsonResponse } from './json.js';
import type { FakeResponse } from './types.js';

/** Resend's error envelope: `{statusCode, name, message}` (https://resend.com/docs/api-reference/errors). */
export function resendError(statusCode: number, name: string, message: string): FakeResponse {
  return jsonResponse(statusCode, { statusCode, name, message });
}

/** A validation problem with one email, before it is turned into a response (batch reports them per index). */
export interface EmailProblem {
  readonly statusCode: number;
  readonly name: string;
  readonly message: string;
}

const INJECTED: Readonly<Record<number, string>> = {
  400: 'validation_error',
  401: 'missing_api_key',
  403: 'invalid_api_key',
  404: 'not_found',
  409: 'concurrent_idempotent_requests',
  422: 'validation_error',
  429: 'rate_limit_exceeded',
  500: 'internal_server_error',
};

/** The envelope for a failure injected with `failNext` when the test gives no body. */
export function injectedResendError(status: number): unknown {
  return {
    statusCode: status,
    name: INJECTED[status] ?? (status >= 500 ? 'application_error' : 'validation_error'),
    message: `The fake Resend was told to answer ${status}.`,
  };
}
