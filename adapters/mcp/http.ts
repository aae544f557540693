import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { BodyError, readJsonBody } from './http-body.js';
import { checkRequest, hostnamesFor, type HttpGuardOptions } from './http-guard.js';
import { resolveServeOptions, type McpServeOptions, type ResolvedServeOptions } from './serve-options.js';
import { connectSession, createSpendgateMcpServer } from './server.js';
import { McpSession } from './session.js';
import { sessionTools } from './session-tools.js';

export interface ServeHttpOptions extends McpServeOptions {
  /** The bearer token every client must send (`Authorization: Bearer …`). Never forwarded anywhere. */
  readonly token: string;
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
}

/**
 * Serves the spendgate tools over MCP's Streamable HTTP transport, one session (and one run) per client
 * session. Loopback by default; every request needs the bearer token and an allowed `Origin` (or none).
 * A session ends, revoking its keys, on the client's `DELETE`, when its transport closes, on idle timeout
 * (how a client that vanished is noticed: HTTP has no connection that outlives a request), and on `close()`.
 */
export async function serveHttp(options: ServeHttpOptions): Promise<McpHttpServer> {
  const resolved = resolveServeOptions(options);
  const host = options.host ?? '127.0.0.1';
  const guard: HttpGuardOptions = {
    token: options.token,
    allowedOrigins: options.allowedOrigins ?? [],
    allowedHostnames: hostnamesFor(host),
  };
  const sessions = new Map<string, OpenSession>();
  const context: RouteContext = { resolved, guard, sessions, options, opening: { count: 0 } };
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
}

/** Guard, then hand the request to its session's transport, or open a session for an `initialize`. */
async function route(req: IncomingMessage, res: ServerResponse, context: RouteContext): Promise<void> {
  const refusal = checkRequest(req.headers, context.guard);
  if (refusal) return sendJsonRpcError(res, refusal.status, -32001, refusal.message, refusal.headers);
  if (new URL(req.url ?? '/', 'http://localhost').pathname !== MCP_PATH) {
    return sendJsonRpcError(res, 404, -32601, `Not found: the MCP endpoint is ${MCP_PATH}`);
  }
  const sessionId = req.headers['mcp-session-id'];
  if (typeof sessionId === 'string') {
    const open = context.sessions.get(sessionId);
    // 404 tells the client its session is gone and it must initialise a new one.
    if (!open) return sendJsonRpcError(res, 404, -32001, 'Session not found');
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
    const open = await openSession(context);
    await open.transport.handleRequest(req, res, body);
  } finally {
    context.opening.count -= 1;
  }
}

/** A new session: its own transport, server, run and keys, registered once the SDK has initialised it. */
async function openSession(context: RouteContext): Promise<OpenSession> {
  const { resolved, sessions } = context;
  const id = randomUUID();
  const session = new McpSession({
    ...resolved,
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
  const open: OpenSession = { session, transport };
  const server = createSpendgateMcpServer({ tools: sessionTools({ ...resolved, session }) });
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
