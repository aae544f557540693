import type { Dispatcher } from 'undici';
import { sendHttp } from './http.js';
import { isRecord } from './response-error.js';

/** Where the admin API is and how to authenticate to it. */
export interface AdminTarget {
  /** The proxy's origin, e.g. `http://127.0.0.1:8787`. */
  readonly baseUrl: string;
  /** The admin token (or an issuer token, where the proxy accepts one). */
  readonly token: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
  readonly dispatcher?: Dispatcher;
}

export interface AdminRequest {
  readonly method: string;
  /** `/v1/keys`, without a query string. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly signal?: AbortSignal | undefined;
}

/**
 * A non-2xx answer from the proxy, with the refusal code exactly as sent, even one this version of the
 * client does not know yet (a newer proxy's `approval_required`), so a caller can always name it.
 */
export class ProxyRefusal extends Error {
  override readonly name = 'ProxyRefusal';
  readonly code: string;
  readonly status: number;
  /** The refusal's `error` object (`param`, `key_id`, `approval`, ...), or `{}`. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(options: { code: string; status: number; message: string; details: Record<string, unknown> }) {
    super(options.message);
    this.code = options.code;
    this.status = options.status;
    this.details = options.details;
  }
}

/**
 * One admin API call returning the proxy's JSON as sent (snake_case, every field, including ones newer than
 * this client). Throws `ProxyRefusal` for a non-2xx answer, and the transport's `upstream_unreachable` /
 * `upstream_timeout` `SpendgateError` when no answer arrived.
 */
export async function adminRequest(target: AdminTarget, request: AdminRequest): Promise<unknown> {
  const response = await sendHttp({
    url: `${target.baseUrl.replace(/\/+$/, '')}${request.path}${queryString(request.query ?? {})}`,
    method: request.method,
    headers: {
      authorization: `Bearer ${target.token}`,
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    signal: request.signal,
    timeoutMs: target.timeoutMs ?? 10_000,
    dispatcher: target.dispatcher,
  });
  if (response.status >= 200 && response.status <= 299) return response.json;
  throw refusalFrom(response.status, response.json);
}

/** Reads the contract's `{ code, error: { code, message, ... } }`; anything else is named by its status. */
export function refusalFrom(status: number, body: unknown): ProxyRefusal {
  const outer = isRecord(body) ? body : {};
  const inner = isRecord(outer.error) ? outer.error : {};
  const code =
    typeof inner.code === 'string' ? inner.code : typeof outer.code === 'string' ? outer.code : null;
  const message =
    typeof inner.message === 'string'
      ? inner.message
      : typeof outer.message === 'string'
        ? outer.message
        : `The proxy answered HTTP ${status}`;
  const details: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inner)) {
    if (!['type', 'code', 'message', 'retryable'].includes(name)) details[name] = value;
  }
  return new ProxyRefusal({ code: code ?? `http_${status}`, status, message, details });
}

function queryString(params: Readonly<Record<string, string | number | undefined>>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) search.set(name, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
