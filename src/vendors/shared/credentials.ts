import type { IncomingHttpHeaders } from 'node:http';

/** `Authorization: Bearer <token>`; `null` when absent or malformed. */
export function bearerToken(headers: IncomingHttpHeaders): string | null {
  const value = headers.authorization;
  if (typeof value !== 'string') return null;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(value);
  return match?.[1] ?? null;
}

/** `Authorization: Basic base64(user:password)`; `null` when absent or malformed. */
export function basicCredentials(headers: IncomingHttpHeaders): { user: string; password: string } | null {
  const value = headers.authorization;
  if (typeof value !== 'string') return null;
  const match = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function basicHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
