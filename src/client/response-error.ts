import { isErrorCode, SpendgateError, type ErrorCode } from '../errors/index.js';

/** Fields of the refusal's `error` object that are its envelope, not details. */
const ENVELOPE = new Set(['type', 'code', 'retryable', 'message']);

/**
 * Turns a non-2xx answer from the proxy into a `SpendgateError` with the contract's code. The body is the
 * contract's refusal (`{ code, message, error: { type: 'spendgate_error', code, retryable, message, ... } }`);
 * its extra fields (`key_id`, `remaining_usd`, `param`) become `details`. A body without a known code (a
 * proxy in front of the proxy, an HTML error page) still gets a code, chosen from the status.
 */
export function errorFromResponse(status: number, body: unknown): SpendgateError {
  const refusal = readRefusal(body);
  if (refusal) {
    return new SpendgateError({
      code: refusal.code,
      message: refusal.message,
      details: { ...refusal.details, status },
    });
  }
  const code = codeForStatus(status);
  return new SpendgateError({ code, message: `The proxy answered HTTP ${status}`, details: { status } });
}

/** Reads the contract's refusal shape; `null` when the body is something else. */
export function readRefusal(
  body: unknown,
): { code: ErrorCode; message: string; details: Record<string, unknown> } | null {
  if (!isRecord(body)) return null;
  const inner = isRecord(body.error) ? body.error : {};
  const code = inner.code ?? body.code;
  if (!isErrorCode(code)) return null;
  const message =
    typeof inner.message === 'string'
      ? inner.message
      : typeof body.message === 'string'
        ? body.message
        : code;
  const details: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inner)) if (!ENVELOPE.has(name)) details[name] = value;
  return { code, message, details };
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'admin_token_required';
  if (status === 404) return 'not_found';
  if (status === 413) return 'body_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 502) return 'upstream_unreachable';
  if (status === 504) return 'upstream_timeout';
  if (status >= 500) return 'internal_error';
  return 'bad_request';
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
