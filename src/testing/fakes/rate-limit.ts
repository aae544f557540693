/**
 * A fixed one-second window, as Resend describes its per-team limit, with the IETF `ratelimit-*` headers it
 * sends. https://resend.com/docs/api-reference/rate-limit
 */
export class PerSecondLimit {
  private window = Number.NaN;
  private used = 0;

  constructor(
    private readonly limit: number,
    private readonly now: () => number,
  ) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError('rateLimitPerSecond must be a positive integer');
  }

  /** Counts one request if the window has room. The headers describe the window either way. */
  take(): { readonly allowed: boolean; readonly headers: Record<string, string> } {
    const now = this.now();
    const window = Math.floor(now / 1000);
    if (window !== this.window) {
      this.window = window;
      this.used = 0;
    }
    const allowed = this.used < this.limit;
    if (allowed) this.used += 1;
    const reset = String(Math.max(1, Math.ceil(((window + 1) * 1000 - now) / 1000)));
    return {
      allowed,
      headers: {
        'ratelimit-limit': String(this.limit),
        'ratelimit-remaining': String(this.limit - this.used),
        'ratelimit-reset': reset,
        ...(allowed ? {} : { 'retry-after': reset }),
      },
    };
  }

  clear(): void {
    this.window = Number.NaN;
    this.used = 0;
  }
}
