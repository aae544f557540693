import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeRequest, FakeVendor } from './types.js';

export interface ServeFakeOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
}

export interface ResetSocketOptions {
  /** How many requests get their connection destroyed. Default 1. */
  readonly times?: number;
  /**
   * Let the fake handle the request first (money moved, message queued), then destroy the connection instead of
   * answering. Default false: destroy it before the fake sees the request.
   */
  readonly afterExecute?: boolean;
}

export interface ServedFake {
  /** `http://127.0.0.1:{port}`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Test hook: destroy the next connection(s) without any response, so the client sees a reset. */
  resetSocketNext(options?: ResetSocketOptions): void;
  close(): Promise<void>;
}

/**
 * Serves a fake vendor over real HTTP, for tests and for pointing an SDK or the proxy at it.
 *
 * @example
 * ```ts
 * const stripe = createFakeStripe({ secretKey: 'sk_test_123' });
 * const served = await serveFake(stripe);
 * // … SPENDGATE_STRIPE_BASE_URL = served.url …
 * await served.close();
 * ```
 */
export async function serveFake(fake: FakeVendor, options: ServeFakeOptions = {}): Promise<ServedFake> {
  const resets: { afterExecute: boolean }[] = [];

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const reset = resets.shift();
    if (reset && !reset.afterExecute) {
      req.socket.destroy();
      return;
    }
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const request: FakeRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: queryAt === -1 ? url : url.slice(0, queryAt),
      query: queryAt === -1 ? '' : url.slice(queryAt + 1),
      headers: flattenHeaders(req),
      body,
    };
    const response = await fake.handle(request);
    if (reset) {
      req.socket.destroy();
      return;
    }
    res.writeHead(response.status, response.headers);
    res.end(response.body);
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake ${fake.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  // Node's default idle keep-alive; close() ends every connection itself, so clients never hold it open.
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    resetSocketNext(opts = {}) {
      const times = opts.times ?? 1;
      for (let i = 0; i < times; i += 1) resets.push({ afterExecute: opts.afterExecute ?? false });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function flattenHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
