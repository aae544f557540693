import { Pool } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';

export interface ForwardRequest {
  readonly vendor: string;
  readonly method: string;
  /** Path plus query string. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | null;
}

export interface ForwardResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Why a forward failed. `sent: false` means the vendor cannot have seen the request (the connection was never
 * made), so the reservation may be released; anything else may have moved money.
 */
export class ForwardError extends Error {
  readonly kind: 'unreachable' | 'timeout' | 'reset';
  readonly sent: boolean;
  constructor(options: { kind: 'unreachable' | 'timeout' | 'reset'; sent: boolean; cause: unknown }) {
    super(`upstream ${options.kind}`, { cause: options.cause });
    this.name = 'ForwardError';
    this.kind = options.kind;
    this.sent = options.sent;
  }
}

export interface Forwarder {
  send(request: ForwardRequest): Promise<ForwardResponse>;
  close(): Promise<void>;
}

export interface HttpForwarderOptions {
  /** Vendor name to origin, e.g. `stripe` → `https://api.stripe.com`. */
  readonly origins: ReadonlyMap<string, string>;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** The largest response body read into memory. */
  readonly maxResponseBytes?: number;
}

const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/**
 * undici raises these before it writes a byte: a request it refuses to build (a bad header, an unsupported
 * option) or a pool that is already closed. The vendor cannot have seen such a request.
 */
const NOT_SENT_ERRORS = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_CLOSED',
  'ERR_INVALID_URL',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
]);

/** Forwards over undici with one keep-alive pool per vendor; pools are created on first use. */
export function createHttpForwarder(options: HttpForwarderOptions): Forwarder {
  const pools = new Map<string, Pool>();
  const maxResponseBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;

  function poolFor(vendor: string): Pool {
    let pool = pools.get(vendor);
    if (!pool) {
      const origin = options.origins.get(vendor);
      if (!origin) {
        const cause = new Error(`no upstream configured for ${vendor}`);
        throw new ForwardError({ kind: 'unreachable', sent: false, cause });
      }
      // The pool takes the origin alone; a base URL's path is a prefix added to every request path.
      pool = new Pool(new URL(origin).origin, {
        connections: 256,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connectTimeout: options.connectTimeoutMs,
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
      });
      pools.set(vendor, pool);
    }
    return pool;
  }

  return {
    async send(request) {
      try {
        const base = new URL(options.origins.get(request.vendor) ?? 'http://invalid');
        const prefix = base.pathname.replace(/\/$/, '');
        const response = await poolFor(request.vendor).request({
          method: request.method as 'GET',
          path: `${prefix}${request.path}`,
          headers: request.headers,
          body: request.body,
        });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of response.body) {
          size += (chunk as Buffer).length;
          if (size > maxResponseBytes) {
            response.body.destroy();
            throw new ForwardError({ kind: 'reset', sent: true, cause: new Error('response too large') });
          }
          chunks.push(chunk as Buffer);
        }
        return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) };
      } catch (err) {
        if (err instanceof ForwardError) throw err;
        throw classify(err);
      }
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
      pools.clear();
    },
  };
}

export function classify(err: unknown): ForwardError {
  const code = (err as { code?: string }).code ?? '';
  const causeCode = (err as { cause?: { code?: string } }).cause?.code ?? '';
  if (NOT_SENT_ERRORS.has(code)) return new ForwardError({ kind: 'unreachable', sent: false, cause: err });
  if (CONNECT_ERRORS.has(code) || CONNECT_ERRORS.has(causeCode)) {
    return new ForwardError({ kind: 'unreachable', sent: false, cause: err });
  }
  if (TIMEOUT_ERRORS.has(code)) return new ForwardError({ kind: 'timeout', sent: true, cause: err });
  return new ForwardError({ kind: 'reset', sent: true, cause: err });
}
