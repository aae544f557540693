import { setTimeout as sleep } from 'node:timers/promises';
import { HookQueue, type FailureHook } from './hooks.js';
import { jsonResponse } from './json.js';
import type { FakeRequest, FakeResponse, FakeVendor } from './types.js';

/**
 * Called by a fake with its response once the operation took effect (money moved, message queued). It returns
 * what to answer instead, and what to save for idempotency: the response itself, or an injected failure.
 */
export type Executed = (response: FakeResponse) => FakeResponse;

/**
 * What {@link FakeSpec.admit} decides as a request arrives. `refused`: answer `response` without processing
 * (like a validation failure, so a pending `failNext` still replaces it). `admitted`: process it, and call
 * `release` once the response is ready to go (after any `delayNext` hold), whatever the outcome.
 */
export type Admission =
  | { readonly kind: 'refused'; readonly response: FakeResponse }
  | { readonly kind: 'admitted'; readonly release?: () => void };

const ADMITTED: Admission = { kind: 'admitted' };

/** The vendor-specific part of a fake; {@link createFake} adds the request log, test hooks and common headers. */
export interface FakeSpec {
  readonly name: FakeVendor['name'];
  /** Mark every response `Spendgate-Sandbox: true`. */
  readonly sandbox: boolean;
  /** The vendor's error envelope for an injected failure with this status. */
  errorBody(status: number): unknown;
  /** Headers on every response, injected failures included (request ids, …). */
  headers(req: FakeRequest): Record<string, string>;
  process(req: FakeRequest, executed: Executed): Promise<FakeResponse> | FakeResponse;
  /**
   * Optional: called first thing for every request (once the test hooks for it are drawn), to refuse it before
   * anything runs or to hold something for its whole handling. Stripe uses it to keep an idempotency key busy
   * until the response is ready to go, `delayNext` hold included.
   */
  admit?(req: FakeRequest): Admission;
  /** Forgets stored objects and idempotency records. */
  resetState(): void;
}

/** Builds a {@link FakeVendor} from the vendor-specific logic. */
export function createFake(spec: FakeSpec): FakeVendor {
  const requests: FakeRequest[] = [];
  const failures = new HookQueue<FailureHook>();
  const delays = new HookQueue<number>();

  const injected = (failure: FailureHook): FakeResponse =>
    jsonResponse(failure.status, failure.body === undefined ? spec.errorBody(failure.status) : failure.body);

  const respond = async (
    req: FakeRequest,
    failure: FailureHook | null,
    admission: Admission,
  ): Promise<FakeResponse> => {
    if (failure !== null && failure.afterExecute !== true) return injected(failure);
    // Refused before doing anything: still honour "the next call fails".
    if (admission.kind === 'refused') return failure === null ? admission.response : injected(failure);
    let applied = false;
    const executed: Executed = (res) => {
      if (failure === null) return res;
      applied = true;
      return injected(failure);
    };
    const response = await spec.process(req, executed);
    // The call failed before doing anything (bad credentials, validation): still honour "the next call fails".
    return failure !== null && !applied ? injected(failure) : response;
  };

  return {
    name: spec.name,
    requests,
    async handle(req) {
      requests.push(req);
      const failure = failures.take(req);
      const delay = delays.take(req);
      const admission = spec.admit?.(req) ?? ADMITTED;
      try {
        const response = await respond(req, failure, admission);
        if (delay !== null) await sleep(delay);
        return {
          ...response,
          headers: {
            ...spec.headers(req),
            ...response.headers,
            ...(spec.sandbox ? { 'spendgate-sandbox': 'true' } : {}),
          },
        };
      } finally {
        if (admission.kind === 'admitted') admission.release?.();
      }
    },
    failNext(opts) {
      failures.add(opts, opts.times ?? 1);
    },
    delayNext(ms, times = 1) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('ms must be a non-negative number');
      delays.add(ms, times);
    },
    reset() {
      requests.length = 0;
      failures.clear();
      delays.clear();
      spec.resetState();
    },
  };
}
