import { jsonResponse } from './json.js';
import type { FakeResponse } from './types.js';

/** Twilio's error envelope: `{code, message, more_info, status}` (https://www.twilio.com/docs/api/errors). */
export function twilioError(status: number, code: number | null, message: string): FakeResponse {
  return jsonResponse(status, twilioErrorBody(status, code, message));
}

export function twilioErrorBody(status: number, code: number | null, message: string): unknown {
  return {
    code,
    message,
    more_info: code === null ? null : `https://www.twilio.com/docs/errors/${code}`,
    status,
  };
}

/** Thrown inside the Twilio fake's handlers to answer with an error. */
export class TwilioFailure extends Error {
  constructor(readonly response: FakeResponse) {
    super(`Twilio fake error ${response.status}`);
  }
}

export function twilioFail(status: number, code: number, message: string): never {
  throw new TwilioFailure(twilioError(status, code, message));
}

const INJECTED: Readonly<Record<number, readonly [number, string]>> = {
  400: [21000, 'Bad Request'],
  401: [20003, 'Authenticate'],
  404: [20404, 'Not Found'],
  429: [20429, 'Too Many Requests'],
  500: [20500, 'Internal Server Error'],
  503: [20503, 'Service Unavailable'],
};

/** The envelope for a failure injected with `failNext` when the test gives no body. */
export function injectedTwilioError(status: number): unknown {
  const [code, message] = INJECTED[status] ?? [null, `The fake Twilio was told to answer ${status}.`];
  return twilioErrorBody(status, code, message);
}
