import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createSpendgateClient, type SpendgateClient } from '../../src/client/index.js';
import { spendgateError } from '../../src/errors/index.js';
import { BodyError, readJsonBody } from './http-body.js';
import {
  bearerKind,
  bearerOf,
  checkRequest,
  hostnamesFor,
  unauthorized,
  type HttpGuardOptions,
} from './http-guard.js';
import { bearerDigest, checkIssuerToken, digestsEqual } from './issuer-auth.js';
import { resolveServeOptions, type McpServeOptions, type ResolvedServeOptions } from './serve-options.js';
import { connectSession, createSpendgateMcpServer } from './server.js';
import { McpSession, type McpSessionOptions } from './session.js';
import { sessionTools } from './session-tools.js';

export interface ServeHttpOptions extends McpServeOptions {
  /**
   * A bearer token clients may send (`Authorization: Bearer …`); its sessions issue their keys with
   * `client`. Never forwarded anywhere. Required unless `issuerAuth` is on.
   */
  readonly token?: string | undefined;
  /**
   * Lets each client send its own issuer token (`Authorization: Bearer it_…`). The server checks it with the
   * proxy at `initialize` (401 if the proxy refuses it) and before every tool call, and the session issues
   * its keys with a client built on that token, so they land inside that issuer's budget subtree and within
   * its ceilings. Every later request of the session must send the same token, or it gets 404. The token
   * goes only to the proxy's admin API: never to a vendor, a log line or a tool result.
   * @default false
   */
  readonly issuerAuth?: boolean;
  /**
   * The admin client for a client's issuer token.
   * @default createSpendgateClient({ baseUrl: client.baseUrl, adminToken: issuerToken })
   */
  readonly issuerClient?: (issuerToken: string) => SpendgateClient;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** `0` picks a free port. @default 8788 */
  readonly port?: number;
  /** Browser origins allowed to connect; a request with any other `Origin` header gets 403. @default [] */
  readonly allowedOrigins?: readonly string[];
  /** Sessions open at once; past it, a new session gets 503. @default 100 */
  readonly maxSessions?: number;
  /** @default 1048576 */
  readonly maxBodyBytes?: number;
}

/** A running Streamable HTTP server. */
export interface McpHttpServer {
  /** `http://127.0.0.1:8788/mcp`: the endpoint to give clients. */
  readonly url: string;
  readonly port: number;
  /** The sessions open now. */
  sessionCount(): number;
  /** Stops accepting, closes every session (revoking its keys), then closes the listener. */
  close(): Promise<void>;
}

const MCP_PATH = '/mcp';

interface OpenSession {
  readonly session: McpSession;
  readonly transport: StreamableHTTPServerTransport;
  /** SHA-256 of the bearer that opened it: every later request must present the same one. */
  readonly bearer: Buffer;
}

/** Who a new session answers to, and the client that issues its keys. */
interface SessionPrincipal {
  readonly bearer: Buffer;
  readonly client: SpendgateClient;
  /** Set for a client's own issuer token: checked again before every tool call. */
  readonly issuer?: SpendgateClient;
}

/**
 * Serves the spendgate tools over MCP's Streamable HTTP transport, one session (and one run) per client
 * session. Loopback by default; every request needs a bearer (the shared token, or with `issuerAuth` the
 * client's own issuer token) and an allowed `Origin` (or none), and a session answers only to its bearer.
 * A session ends, revoking its keys, on the client's `DELETE`, when its transport closes, on idle timeout
 * (how a client that vanished is noticed: HTTP has no connection that outlives a request), and on `close()`.
 */
export async function serveHttp(options: ServeHttpOptions): Promise<McpHttpServer> {
  const resolved = resolveServeOptions(options);
  if (!options.token && !options.issuerAuth) {
    throw spendgateError('bad_request', 'serveHttp needs a token, or issuerAuth: true', { param: 'token' });
  }
  const host = options.host ?? '127.0.0.1';
  const guard: HttpGuardOptions = {
    token: options.token || undefined,
    issuerAuth: options.issuerAuth ?? false,
    allowedOrigins: options.allowedOrigins ?? [],
    allowedHostnames: hostnamesFor(host),
  };
  const sessions = new Map<string, OpenSession>();
  const context: RouteContext = {
    resolved,
    guard,
    sessions,
    options,
    opening: { count: 0 },
    stopping: { now: false },
  };
  const listener = createServer((req, res) => {
    route(req, res, context).catch((err: unknown) => {
      options.log?.(`http: request failed (${err instanceof Error ? err.message : String(err)})`);
      if (!res.headersSent) sendJsonRpcError(res, 500, -32603, 'Internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port ?? 8788, host, () => resolve());
  });
  const { port } = listener.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}${MCP_PATH}`,
    port,
    sessionCount: () => sessions.size,
    close() {
      context.stopping.now = true;
      closing ??= shutdown(listener, sessions);
      return closing;
    },
  };
}

interface RouteContext {
  readonly resolved: ResolvedServeOptions;
  readonly guard: HttpGuardOptions;
  readonly sessions: Map<string, OpenSession>;
  readonly options: ServeHttpOptions;
  /** Sessions being initialised: counted against the limit before they are registered. */
  readonly opening: { count: number };
  /** Set by `close()`: a session whose token check was still in flight then is not opened. */
  readonly stopping: { now: boolean };
}

/** Guard, then hand the request to its session's transport, or open a session for an `initialize`. */
async function route(req: IncomingMessage, res: ServerResponse, context: RouteContext): Promise<void> {
  const refusal = checkRequest(req.headers, context.guard);
  if (refusal) return sendJsonRpcError(res, refusal.status, -32001, refusal.message, refusal.headers);
  if (new URL(req.url ?? '/', 'http://localhost').pathname !== MCP_PATH) {
    return sendJsonRpcError(res, 404, -32601, `Not found: the MCP endpoint is ${MCP_PATH}`);
  }
  // The guard let it through, so it holds a bearer.
  const token = bearerOf(req.headers.authorization) ?? '';
  const bearer = bearerDigest(token);
  const sessionId = req.headers['mcp-session-id'];
  if (typeof sessionId === 'string') {
    const open = context.sessions.get(sessionId);
    // 404 tells the client its session is gone and it must initialise a new one. A session opened with
    // another bearer answers the same, valid token or not: an id alone never reaches someone else's session.
    if (!open || !digestsEqual(open.bearer, bearer)) {
      return sendJsonRpcError(res, 404, -32001, 'Session not found');
    }
    return open.transport.handleRequest(req, res);
  }
  if (req.method !== 'POST') return sendJsonRpcError(res, 400, -32000, 'Bad Request: no session id');
  let body: unknown;
  try {
    body = await readJsonBody(req, context.options.maxBodyBytes ?? 1_048_576);
  } catch (err) {
    if (err instanceof BodyError) return sendJsonRpcError(res, err.status, -32700, err.message);
    throw err;
  }
  if (!(Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body))) {
    return sendJsonRpcError(res, 400, -32000, 'Bad Request: no session id, and not an initialize request');
  }
  if (context.sessions.size + context.opening.count >= (context.options.maxSessions ?? 100)) {
    return sendJsonRpcError(res, 503, -32000, 'Too many open sessions; try again later');
  }
  context.opening.count += 1;
  try {
    const principal = await principalFor(req, token, bearer, context);
    if ('status' in principal) {
      return sendJsonRpcError(res, principal.status, -32001, principal.message, principal.headers);
    }
    if (context.stopping.now) return sendJsonRpcError(res, 503, -32000, 'The server is shutting down');
    const open = await openSession(context, principal);
    await open.transport.handleRequest(req, res, body);
  } finally {
    context.opening.count -= 1;
  }
}

/**
 * Who the new session answers to. The shared token's sessions use the configured client. A client's issuer
 * token is checked with the proxy first: refused (revoked, expired, unknown) is a 401, no answer a 503.
 */
async function principalFor(
  req: IncomingMessage,
  token: string,
  bearer: Buffer,
  context: RouteContext,
): Promise<SessionPrincipal | { status: number; message: string; headers?: Record<string, string> }> {
  const { options, resolved } = context;
  if (bearerKind(req.headers.authorization, context.guard) === 'shared') {
    return { bearer, client: resolved.client };
  }
  const issuer =
    options.issuerClient?.(token) ??
    createSpendgateClient({ baseUrl: resolved.client.baseUrl, adminToken: token });
  const check = await checkIssuerToken(issuer);
  if (check.status === 'refused') {
    options.log?.(
      `http: an initialize was refused: the proxy did not accept its issuer token (${check.code})`,
    );
    return unauthorized('Unauthorized: spendgate did not accept this issuer token', 'invalid_token');
  }
  if (check.status === 'unknown') {
    options.log?.(`http: an issuer token could not be checked (${check.code})`);
    return { status: 503, message: 'The issuer token could not be checked with spendgate; try again later' };
  }
  return { bearer, client: issuer, issuer };
}

/** A new session: its own transport, server, run and keys, registered once the SDK has initialised it. */
async function openSession(context: RouteContext, principal: SessionPrincipal): Promise<OpenSession> {
  const { resolved, sessions } = context;
  const id = randomUUID();
  const { issuer } = principal;
  const scoped: Partial<McpSessionOptions> = issuer
    ? {
        client: issuer,
        checkAuthority: (signal) => checkIssuerToken(issuer, signal),
        // Once the proxy refuses the client's token, only the server's own can still revoke its keys.
        fallbackClient: resolved.client,
      }
    : {};
  const session = new McpSession({
    ...resolved,
    ...scoped,
    id,
    onClosed: (reason) => {
      sessions.delete(id);
      // After a DELETE the SDK closes the transport itself; after `transport_closed` it is closed already.
      if (reason === 'idle_timeout' || reason === 'shutdown') void transport.close();
    },
  });
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => id,
    onsessioninitialized: () => {
      sessions.set(id, open);
    },
    // The client's DELETE: the session is over.
    onsessionclosed: () => session.close('client_closed'),
  });
  const open: OpenSession = { session, transport, bearer: principal.bearer };
  const server = createSpendgateMcpServer({
    tools: sessionTools({ ...resolved, client: principal.client, session }),
  });
  if (issuer) resolved.log?.(`session ${id}: opened with a client's issuer token`);
  await connectSession({ server, transport, session });
  return open;
}

async function shutdown(listener: ReturnType<typeof createServer>, sessions: Map<string, OpenSession>) {
  const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
  await Promise.all([...sessions.values()].map(({ session }) => session.close('shutdown')));
  // Streams a client holds open (SSE) would otherwise keep the listener from closing.
  listener.closeAllConnections();
  await stopped;
}

function sendJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
