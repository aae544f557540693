/** A request as a fake vendor sees it: the same shape over HTTP (serveFake) and in-process (sandbox mode). */
export interface FakeRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** The path without the query string, as sent (not percent-decoded). */
  path: string;
  /** The query string without `?`, or `''`. */
  query: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** A fake vendor's answer. Header names are lower-case. */
export interface FakeResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Which requests a test hook applies to; omitted fields match anything. */
export interface FakeRequestMatch {
  /** Upper-case method, e.g. `POST`. */
  readonly method?: string;
  /** An exact path or a pattern tested against the path. */
  readonly path?: string | RegExp;
}

export interface FailNextOptions extends FakeRequestMatch {
  readonly status: number;
  /** How many matching calls fail. Default 1. */
  readonly times?: number;
  /** The response body (JSON-encoded); default: the vendor's own error envelope for that status. */
  readonly body?: unknown;
  /**
   * Carry out the operation first (and save it for idempotency), then answer with the failure: a vendor that
   * moved money and then failed to say so. Default false: fail before doing anything.
   */
  readonly afterExecute?: boolean;
}

export interface FakeVendor {
  readonly name: 'stripe' | 'twilio' | 'resend';
  handle(req: FakeRequest): Promise<FakeResponse>;
  /** Every request received, in order (including the ones that failed or were refused). */
  readonly requests: FakeRequest[];
  /** Test hook: make the next `times` matching calls fail with `status`. */
  failNext(opts: FailNextOptions): void;
  /**
   * Test hook: hold the next `times` responses (default 1) for `ms` after the operation ran, e.g. to provoke
   * timeouts. The request stays in flight meanwhile: the Stripe fake answers another request with its
   * idempotency key 409 `idempotency_key_in_use` until the held response is sent.
   */
  delayNext(ms: number, times?: number): void;
  /** Forgets every request, stored object, idempotency record, rate-limit window and pending hook. */
  reset(): void;
}
