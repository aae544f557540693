import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { resolveServeOptions, type McpServeOptions } from './serve-options.js';
import { connectSession, createSpendgateMcpServer } from './server.js';
import { McpSession, type SessionCloseReason } from './session.js';
import { sessionTools } from './session-tools.js';

export interface ServeStdioOptions extends McpServeOptions {
  /** @default process.stdin */
  readonly stdin?: Readable;
  /** @default process.stdout */
  readonly stdout?: Writable;
}

/** A running stdio server: exactly one session, for as long as the client keeps the pipe open. */
export interface McpStdioServer {
  readonly session: McpSession;
  /** Resolves with the reason once the session has closed, its keys revoked and the transport closed. */
  readonly closed: Promise<SessionCloseReason>;
  /** Server shutdown: revokes the session's keys and closes the transport. */
  close(): Promise<void>;
}

/**
 * Serves the spendgate tools on stdin/stdout, the way MCP clients (Claude Desktop, Cursor, the Agents SDK's
 * `MCPServerStdio`) launch local servers. One process is one session. It ends, revoking its keys, when the
 * client closes stdin (a clean close, or the client dying), when the transport fails, on idle timeout, or on
 * `close()`. Nothing but protocol messages may go to stdout: log to stderr.
 */
export async function serveStdio(options: ServeStdioOptions): Promise<McpStdioServer> {
  const resolved = resolveServeOptions(options);
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  let settle: (reason: SessionCloseReason) => void = () => undefined;
  const closed = new Promise<SessionCloseReason>((resolve) => (settle = resolve));
  const session = new McpSession({
    ...resolved,
    id: randomUUID(),
    // Runs only after `server` below exists: sessions close asynchronously.
    onClosed: (reason) => {
      server.close().then(
        () => settle(reason),
        () => settle(reason),
      );
    },
  });
  const server = createSpendgateMcpServer({ tools: sessionTools({ ...resolved, session }) });
  await connectSession({ server, transport: new StdioServerTransport(stdin, stdout), session });
  // The SDK's transport does not watch for the end of stdin: without this, a client that exits (or is
  // killed) would leave the session, and its keys, alive until the idle timeout.
  stdin.once('end', () => void session.close('client_disconnected'));
  stdin.once('close', () => void session.close('client_disconnected'));
  // Writing to a pipe whose reader has gone raises EPIPE on stdout; unhandled, it would end the process
  // before the keys are revoked.
  stdout.on('error', () => void session.close('client_disconnected'));
  return { session, closed, close: () => session.close('shutdown') };
}
