/**
 * The Node floor: the least a Node proxy can do, in its own process. A node:http server reads each request's
 * body and forwards the call to the upstream with an undici Pool (keep-alive), then sends the answer back. No
 * ledger, no parsing, no pricing: whatever spendgate costs above this is spendgate's own work.
 *
 * BENCH_UPSTREAM=http://127.0.0.1:PORT tsx bench/node-floor.ts   → prints "floor http://127.0.0.1:PORT"
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

const upstream = process.env.BENCH_UPSTREAM;
if (!upstream) throw new Error('BENCH_UPSTREAM is required');
const pool = new Pool(upstream, { connections: Number(process.env.BENCH_FLOOR_CONNECTIONS ?? 128) });

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    pool
      .request({
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        path: req.url ?? '/',
        headers: forwardable(req.headers),
        body: chunks.length ? Buffer.concat(chunks) : null,
      })
      .then(async (answer) => {
        const body = Buffer.from(await answer.body.arrayBuffer());
        const headers = forwardable(answer.headers as IncomingHttpHeaders);
        headers['content-length'] = String(body.length);
        res.writeHead(answer.statusCode, headers);
        res.end(body);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`floor http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.close().then(() => process.exit(0));
});
