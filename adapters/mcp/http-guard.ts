import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ISSUER_TOKEN_PREFIX } from './issuer-auth.js';

export interface HttpGuardOptions {
  /** The shared bearer token clients may present (`SPENDGATE_MCP_TOKEN`). */
  readonly token?: string | undefined;
  /**
   * Whether a bearer that is an issuer token (`it_…`) passes here. It is only the token's shape: the server
   * checks it with the proxy when a session opens, and ties the session to it.
   */
  readonly issuerAuth?: boolean | undefined;
  /** Browser origins allowed to connect. A request with any other `Origin` is refused. */
  readonly allowedOrigins: readonly string[];
  /** Host names the `Host` header may name; `null` accepts any (a server deliberately bound beyond loopback). */
  readonly allowedHostnames: readonly string[] | null;
}

/** Which kind of bearer a request presented: the shared token, or a client's own issuer token. */
export type BearerKind = 'shared' | 'issuer';

/** Why a request was refused, as the HTTP answer to give. */
export interface GuardRefusal {
  readonly status: 401 | 403;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const BEARER = /^Bearer[ ]+(\S+)\s*$/i;

/** The `Host` names to accept for a bind address: loopback names for a loopback bind, otherwise any. */
export function hostnamesFor(bindHost: string): readonly string[] | null {
  const bracketed = bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost;
  return LOOPBACK_NAMES.includes(bracketed) ? LOOPBACK_NAMES : null;
}

/**
 * The checks every HTTP request passes before it reaches the MCP transport, in the MCP spec's order:
 * `Origin` (and `Host`) against DNS rebinding, then the bearer token. The shared token is compared in
 * constant time, and it is never used for anything else: it authorises a client to this server, and no
 * vendor or proxy ever sees it. An issuer token (with `issuerAuth`) passes on its shape here; it goes to the
 * proxy's admin API only, never to a vendor.
 */
export function checkRequest(headers: IncomingHttpHeaders, options: HttpGuardOptions): GuardRefusal | null {
  const origin = headers.origin;
  if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
    return { status: 403, message: 'Forbidden: this Origin is not allowed' };
  }
  if (options.allowedHostnames && !options.allowedHostnames.includes(hostnameOf(headers.host ?? ''))) {
    return { status: 403, message: 'Forbidden: this Host is not allowed' };
  }
  if (bearerKind(headers.authorization, options) === null) {
    return unauthorized(
      options.issuerAuth
        ? 'Unauthorized: send Authorization: Bearer <your issuer token (it_…)>'
        : 'Unauthorized: send Authorization: Bearer <SPENDGATE_MCP_TOKEN>',
    );
  }
  return null;
}

/** A 401 with the challenge the MCP spec's authorization section asks for. */
export function unauthorized(message: string, error?: 'invalid_token'): GuardRefusal {
  const challenge = `Bearer realm="spendgate-mcp"${error ? `, error="${error}"` : ''}`;
  return { status: 401, message, headers: { 'www-authenticate': challenge } };
}

/** The shared token if it matches; else an issuer token's shape, when allowed; else `null`. */
export function bearerKind(authorization: string | undefined, options: HttpGuardOptions): BearerKind | null {
  if (options.token !== undefined && bearerMatches(authorization, options.token)) return 'shared';
  if (options.issuerAuth && bearerOf(authorization)?.startsWith(ISSUER_TOKEN_PREFIX)) return 'issuer';
  return null;
}

/** The token of an `Authorization: Bearer …` header, or `null`. */
export function bearerOf(authorization: string | undefined): string | null {
  return BEARER.exec(authorization ?? '')?.[1] ?? null;
}

/** Constant-time comparison: both sides are hashed first, so neither the length nor a prefix leaks. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const match = BEARER.exec(authorization ?? '');
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
