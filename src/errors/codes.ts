/**
 * Every refusal and failure the proxy or the client can report, with its HTTP status and whether a caller may
 * retry it. This table is the single source of truth: the server maps codes to statuses from here, and the
 * agent tools map codes to what the model sees from here.
 *
 * Budget refusals never use 409 or 5xx: the Stripe SDK retries those automatically. The one 409,
 * `idempotency_key_in_use`, is not a budget refusal: it asks for exactly that retry.
 */
export const ERROR_CODES = {
  // 400
  bad_request: { status: 400, retryable: false },
  invalid_json: { status: 400, retryable: false },
  cap_required: { status: 400, retryable: false },
  ttl_too_long: { status: 400, retryable: false },
  unknown_vendor: { status: 400, retryable: false },
  path_invalid: { status: 400, retryable: false },
  cost_unknown: { status: 400, retryable: false },
  idempotency_mismatch: { status: 400, retryable: false },
  /** A parameter outside the endpoint's closed schema, a query string on a POST, parameters on a DELETE. */
  param_not_allowed: { status: 400, retryable: false },
  /** A parameter of the wrong shape, or a body whose keys do not decode unambiguously. */
  param_invalid: { status: 400, retryable: false },
  /** Too deeply nested, or too many parameters: refused before any work proportional to them. */
  param_limit_exceeded: { status: 400, retryable: false },
  /** A header that would change what the vendor does (method overrides) and that the proxy cannot honour. */
  header_not_allowed: { status: 400, retryable: false },
  /** A budget's parent (or a key's budget) that is revoked or expired: nothing new can draw from it. */
  parent_inactive: { status: 400, retryable: false },
  /** A budget or key whose expiry is after its parent budget's: it would outlive the money it draws on. */
  outlives_parent: { status: 400, retryable: false },
  // 401
  unauthorized: { status: 401, retryable: false },
  key_invalid: { status: 401, retryable: false },
  key_revoked: { status: 401, retryable: false },
  key_expired: { status: 401, retryable: false },
  /** An issuer token (`it_…`) that was revoked, or whose expiry has passed. */
  issuer_revoked: { status: 401, retryable: false },
  issuer_expired: { status: 401, retryable: false },
  // 403
  admin_token_required: { status: 403, retryable: false },
  /** An issuer token asking for more than its ceilings allow, or for a route only the admin token reaches. */
  issuer_scope: { status: 403, retryable: false },
  endpoint_not_allowed: { status: 403, retryable: false },
  vendor_mismatch: { status: 403, retryable: false },
  per_call_limit_exceeded: { status: 403, retryable: false },
  /** `Stripe-Account` or `Stripe-Context` naming an account outside the key's `connected_accounts`. */
  account_not_allowed: { status: 403, retryable: false },
  /** A sandbox key on a live proxy, or a live key on a sandbox proxy (the key's `spendgate_mode`). */
  key_mode_mismatch: { status: 403, retryable: false },
  /** Above the key's `approval_above_usd`: `error.approval` names the pending approval a person must decide. */
  approval_required: { status: 403, retryable: false },
  /** A `Spendgate-Approval` value that is not an approved, unused, unexpired grant for this exact request. */
  approval_invalid: { status: 403, retryable: false },
  // 404
  not_found: { status: 404, retryable: false },
  // 409: the only 409, and deliberately retryable: it is what Stripe answers for a request whose
  // idempotency key is still in flight, and the SDK's retry then becomes an ordinary replay.
  idempotency_key_in_use: { status: 409, retryable: true },
  // 413, 415
  body_too_large: { status: 413, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  // 429
  cap_exhausted: { status: 429, retryable: false },
  /** The key already has as many pending approvals as the proxy keeps (20): decide or let some lapse first. */
  too_many_pending_approvals: { status: 429, retryable: false },
  // 5xx: the proxy could not do its job; nothing was charged by the proxy's own decision
  internal_error: { status: 500, retryable: true },
  upstream_unreachable: { status: 502, retryable: true },
  vendor_not_configured: { status: 503, retryable: false },
  ledger_unavailable: { status: 503, retryable: true },
  upstream_timeout: { status: 504, retryable: true },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export function statusForCode(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
