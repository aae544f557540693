import { bearerToken } from '../../vendors/shared/credentials.js';
import { createFake, type Executed } from './create-fake.js';
import { randomUuid } from './ids.js';
import { IdempotencyRecords } from './idempotency.js';
import { canonicalJson, jsonResponse, tryParseJson } from './json.js';
import { PerSecondLimit } from './rate-limit.js';
import { storedEmail, validateEmail, type StoredEmail } from './resend-emails.js';
import { injectedResendError, resendError } from './resend-errors.js';
import { matchPath } from './route.js';
import type { FakeRequest, FakeResponse, FakeVendor } from './types.js';

export interface FakeResendOptions {
  /** The only API key the fake accepts (Bearer). */
  readonly apiKey: string;
  /**
   * Requests per second before 429 `rate_limit_exceeded` (Resend's default is 2). Default `null`: no limit, so
   * tests that send quickly are not flaky.
   */
  readonly rateLimitPerSecond?: number | null;
  /** Milliseconds since the epoch, for the rate-limit window. Default `Date.now`. */
  readonly now?: () => number;
  /** Mark every response `Spendgate-Sandbox: true` (the proxy's `--sandbox` mode). */
  readonly sandbox?: boolean;
}

const MAX_BATCH = 100;

/**
 * A Resend stand-in: `POST /emails`, `POST /emails/batch` (strict or permissive `x-batch-validation`),
 * `GET /emails[/{id}]`, Bearer auth (401 without a key, 403 with a wrong one), `{statusCode,name,message}`
 * errors, `Idempotency-Key` (the same key and payload replay the first response; another payload is a 409
 * `invalid_idempotent_request`) and an optional per-second rate limit with `ratelimit-*` headers.
 */
export function createFakeResend(options: FakeResendOptions): FakeVendor {
  const emails = new Map<string, StoredEmail>();
  const records = new IdempotencyRecords();
  const now = options.now ?? Date.now;
  const limit =
    options.rateLimitPerSecond == null ? null : new PerSecondLimit(options.rateLimitPerSecond, now);

  const send = (email: unknown): string => {
    const id = randomUuid();
    emails.set(id, storedEmail(id, email, new Date(now())));
    return id;
  };

  const sendOne = (payload: unknown, executed: Executed): FakeResponse => {
    const problem = validateEmail(payload, { batch: false });
    if (problem) return resendError(problem.statusCode, problem.name, problem.message);
    return executed(jsonResponse(200, { id: send(payload) }));
  };

  const sendBatch = (req: FakeRequest, payload: unknown, executed: Executed): FakeResponse => {
    if (!Array.isArray(payload))
      return resendError(422, 'validation_error', 'The batch must be a JSON array of emails.');
    if (payload.length === 0)
      return resendError(422, 'validation_error', 'The batch must contain at least 1 email.');
    if (payload.length > MAX_BATCH) {
      return resendError(422, 'validation_error', `The batch can contain at most ${MAX_BATCH} emails.`);
    }
    const problems = payload.map((email) => validateEmail(email, { batch: true }));
    const permissive = req.headers['x-batch-validation'] === 'permissive';
    if (!permissive) {
      const index = problems.findIndex((p) => p !== null);
      const problem = problems[index];
      if (problem)
        return resendError(problem.statusCode, problem.name, `emails[${index}]: ${problem.message}`);
      return executed(jsonResponse(200, { data: payload.map((email) => ({ id: send(email) })) }));
    }
    const data = payload.flatMap((email, index) => (problems[index] ? [] : [{ id: send(email) }]));
    const errors = problems.flatMap((p, index) => (p ? [{ index, message: p.message }] : []));
    return executed(jsonResponse(200, { data, errors }));
  };

  const routes = (req: FakeRequest, executed: Executed): FakeResponse => {
    if (req.path === '/emails' || req.path === '/emails/batch') {
      if (req.method === 'GET' && req.path === '/emails') {
        return jsonResponse(200, { object: 'list', has_more: false, data: [...emails.values()].reverse() });
      }
      if (req.method !== 'POST') return methodNotAllowed();
      return post(req, executed);
    }
    const id = matchPath('/emails/:id', req.path)?.id;
    if (id === undefined) return resendError(404, 'not_found', 'The requested endpoint does not exist.');
    if (req.method !== 'GET') return methodNotAllowed();
    const email = emails.get(id);
    return email ? jsonResponse(200, email) : resendError(404, 'not_found', 'Email not found');
  };

  const post = (req: FakeRequest, executed: Executed): FakeResponse => {
    const text = req.body.toString('utf8');
    const payload = tryParseJson(text);
    if (payload === undefined)
      return resendError(400, 'validation_error', 'The request body is not valid JSON.');
    const run = (): FakeResponse =>
      req.path === '/emails' ? sendOne(payload, executed) : sendBatch(req, payload, executed);
    const key = req.headers['idempotency-key'];
    if (key === undefined) return run();
    if (key.length < 1 || key.length > 256) {
      return resendError(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
    }
    const fingerprint = canonicalJson([req.path, payload]);
    const previous = records.lookup(key, fingerprint);
    if (previous.kind === 'replay') return previous.response;
    if (previous.kind === 'mismatch') {
      return resendError(
        409,
        'invalid_idempotent_request',
        'Same idempotency key used with a different request payload. Change your idempotency key or try to send the same payload again.',
      );
    }
    const response = run();
    // Only a send is remembered: a rejected payload may be corrected and retried under the same key.
    if (response.status === 200 || response.status >= 500) records.save(key, fingerprint, response);
    return response;
  };

  const process = (req: FakeRequest, executed: Executed): FakeResponse => {
    const authorization = req.headers.authorization;
    if (authorization === undefined || authorization === '') {
      return resendError(
        401,
        'missing_api_key',
        'Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY',
      );
    }
    if (bearerToken({ authorization }) !== options.apiKey)
      return resendError(403, 'invalid_api_key', 'API key is invalid');
    if (!limit) return routes(req, executed);
    const window = limit.take();
    const response = window.allowed
      ? routes(req, executed)
      : resendError(
          429,
          'rate_limit_exceeded',
          `Too many requests. You can only make ${options.rateLimitPerSecond} requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.`,
        );
    return { ...response, headers: { ...response.headers, ...window.headers } };
  };

  return createFake({
    name: 'resend',
    sandbox: options.sandbox ?? false,
    errorBody: injectedResendError,
    headers: () => ({}),
    process,
    resetState() {
      emails.clear();
      records.clear();
      limit?.clear();
    },
  });
}

function methodNotAllowed(): FakeResponse {
  return resendError(405, 'method_not_allowed', 'Method not allowed');
}
