import { ERROR_CODES, type ErrorCode } from './codes.js';

const BRAND = Symbol.for('spendgate.error');

export interface SpendgateErrorOptions {
  readonly code: ErrorCode;
  readonly message: string;
  /** Extra, non-secret fields that end up in the refusal body (`param`, `key_id`, `remaining_usd`, ...). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/**
 * The one error type spendgate throws. `code` is stable and documented; `status` and `retryable` come from
 * the code table so they can never disagree between the server and the client.
 */
export class SpendgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;
  readonly [BRAND] = true;

  constructor(options: SpendgateErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.status = ERROR_CODES[options.code].status;
    this.retryable = ERROR_CODES[options.code].retryable;
    this.details = options.details ?? {};
  }

  /** Works across duplicate installs of the package, unlike `instanceof`. */
  static isInstance(value: unknown): value is SpendgateError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

export function spendgateError(
  code: ErrorCode,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): SpendgateError {
  return new SpendgateError({ code, message, ...(details ? { details } : {}) });
}
