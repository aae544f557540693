import type { Dispatcher } from 'undici';
import { spendgateError } from '../errors/index.js';
import { errorFromResponse } from './response-error.js';

/** One HTTP exchange with the proxy, as the client and the tools need it. */
export interface HttpRequest {
  readonly url: string;
  readonly method: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The caller's cancellation. Its reason is rethrown unchanged, so framework aborts stay aborts. */
  readonly signal?: AbortSignal | undefined;
  /** Total time for the exchange, headers and body included. */
  readonly timeoutMs: number;
  readonly dispatcher?: Dispatcher | undefined;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed body, or `undefined` when it is empty or not JSON. */
  readonly json: unknown;
}

/**
 * Sends one request and reads the whole body. It throws only when no HTTP response arrived: the caller's
 * abort reason as is, `upstream_timeout` when the time ran out, and `upstream_unreachable` otherwise. Any
 * status, 4xx and 5xx included, is a normal return: what a status means is for the caller to decide.
 */
export async function sendHttp(input: HttpRequest): Promise<HttpResponse> {
  const timeout = AbortSignal.timeout(input.timeoutMs);
  const signal = input.signal ? AbortSignal.any([input.signal, timeout]) : timeout;
  try {
    return input.dispatcher
      ? await viaUndici(input, signal, input.dispatcher)
      : await viaFetch(input, signal);
  } catch (err) {
    if (input.signal?.aborted) throw input.signal.reason;
    const origin = new URL(input.url).origin;
    if (timeout.aborted || isTimeoutError(err)) {
      throw spendgateError('upstream_timeout', `No answer from ${origin} within ${input.timeoutMs} ms`, {
        cause_code: errorCode(err),
      });
    }
    throw spendgateError('upstream_unreachable', `Cannot reach ${origin}: ${describe(err)}`, {
      cause_code: errorCode(err),
    });
  }
}

/**
 * The platform's `fetch`: the tools and the client need no HTTP library of their own, so they run wherever
 * `fetch` does (Node, Bun, Deno, edge runtimes).
 */
async function viaFetch(input: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
  const response = await fetch(input.url, {
    method: input.method,
    headers: { accept: 'application/json', ...input.headers },
    ...(input.body === undefined ? {} : { body: input.body }),
    signal,
  });
  const text = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { status: response.status, headers, json: parseJson(text) };
}

/** A caller's own undici dispatcher (pool settings, interceptors): undici is loaded only then. */
async function viaUndici(
  input: HttpRequest,
  signal: AbortSignal,
  dispatcher: Dispatcher,
): Promise<HttpResponse> {
  const { request } = await import('undici');
  const response = await request(input.url, {
    method: input.method as Dispatcher.HttpMethod,
    headers: { accept: 'application/json', ...input.headers },
    body: input.body ?? null,
    signal,
    dispatcher,
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, json: parseJson(text) };
}

/** Sends a request and throws a typed `SpendgateError` for any non-2xx answer. */
export async function sendHttpOrThrow(input: HttpRequest): Promise<HttpResponse> {
  const response = await sendHttp(input);
  if (response.status < 200 || response.status > 299) throw errorFromResponse(response.status, response.json);
  return response;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The system or undici error code, also from under `fetch`'s generic "fetch failed" `TypeError`. */
function errorCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== err ? errorCode(cause) : null;
}

function isTimeoutError(err: unknown): boolean {
  const code = errorCode(err);
  return (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}

function describe(err: unknown): string {
  const code = errorCode(err);
  const cause = (err as { cause?: unknown } | null)?.cause;
  // fetch says only "fetch failed"; what failed is in its cause. A TypeError of its own is about building the
  // request, and its text quotes what it refused (a header value, which may be a token, or a URL with a
  // password): it is never repeated.
  if (err instanceof TypeError && !(cause instanceof Error)) {
    return `the request could not be built (an invalid header value or URL)${code ? ` ${code}` : ''}`;
  }
  const source = err instanceof TypeError && cause instanceof Error ? cause : err;
  const message = source instanceof Error ? source.message : String(source);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}
