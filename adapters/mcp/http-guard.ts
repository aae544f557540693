import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface HttpGuardOptions {
  /** The bearer token clients must present. */
  readonly token: string;
  /** Browser origins allowed to connect. A request with any other `Origin` is refused. */
  readonly allowedOrigins: readonly string[];
  /** Host names the `Host` header may name; `null` accepts any (a server deliberately bound beyond loopback). */
  readonly allowedHostnames: readonly string[] | null;
}

/** Why a request was refused, as the HTTP answer to give. */
export interface GuardRefusal {
  readonly status: 401 | 403;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** The `Host` names to accept for a bind address: loopback names for a loopback bind, otherwise any. */
export function hostnamesFor(bindHost: string): readonly string[] | null {
  const bracketed = bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost;
  return LOOPBACK_NAMES.includes(bracketed) ? LOOPBACK_NAMES : null;
}

/**
 * The checks every HTTP request passes before it reaches the MCP transport, in the MCP spec's order:
 * `Origin` (and `Host`) against DNS rebinding, then the bearer token. The token is compared in constant
 * time, and it is never used for anything else: it authorises a client to this server, and no vendor or
 * proxy ever sees it.
 */
export function checkRequest(headers: IncomingHttpHeaders, options: HttpGuardOptions): GuardRefusal | null {
  const origin = headers.origin;
  if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
    return { status: 403, message: 'Forbidden: this Origin is not allowed' };
  }
  if (options.allowedHostnames && !options.allowedHostnames.includes(hostnameOf(headers.host ?? ''))) {
    return { status: 403, message: 'Forbidden: this Host is not allowed' };
  }
  if (!bearerMatches(headers.authorization, options.token)) {
    return {
      status: 401,
      message: 'Unauthorized: send Authorization: Bearer <SPENDGATE_MCP_TOKEN>',
      headers: { 'www-authenticate': 'Bearer realm="spendgate-mcp"' },
    };
  }
  return null;
}

/** Constant-time comparison: both sides are hashed first, so neither the length nor a prefix leaks. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  const presented = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(presented, expected) && match !== null;
}

/** `127.0.0.1:8788` → `127.0.0.1`, `[::1]:8788` → `[::1]`, lower-cased. */
function hostnameOf(host: string): string {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
  return name.toLowerCase();
}
