/**
 * The seeds' per-request pattern on `node:http`: every request to `POST /agent/run` gets its own run (one
 * vault key per vendor, capped at the request's budget), and the keys are revoked when the response
 * finishes, or when the client goes away mid-request.
 *
 *   npx tsx examples/web-server.ts
 *
 * The script starts the server, sends it two requests, and shows that no key outlives its request.
 * Offline by default (sandbox proxy); set `SPENDGATE_URL` and `SPENDGATE_ADMIN_TOKEN` to use your own proxy.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { chargeCustomerTool, createRun, type SpendgateClient, type ToolResult } from 'spendgate';
import { connectProxy } from './shared/connect.js';

const agentRequest = z.object({
  run_id: z.string().min(1).max(64),
  customer: z.string().min(1),
  charges_cents: z.array(z.number().int().positive()).max(20),
  budget_usd: z.number().positive().max(500),
});

/** The route. The run is the request's: created here, ended when the response closes. */
async function runAgentRoute(ctx: { client: SpendgateClient; req: IncomingMessage; res: ServerResponse }) {
  const { client, req, res } = ctx;
  let raw: unknown;
  try {
    raw = JSON.parse(await readBody(req));
  } catch {
    return sendJson(res, 400, { error: 'invalid_json', message: 'The body must be JSON' });
  }
  const parsed = agentRequest.safeParse(raw);
  if (!parsed.success) return sendJson(res, 400, { error: 'bad_request', message: parsed.error.message });
  const body = parsed.data;

  // A client that disconnects stops the work too: `close` also fires on an aborted request.
  const disconnected = new AbortController();
  const run = createRun({
    client,
    budget: { label: `agent-run-${body.run_id}`, ttl: '30m', caps: { stripe: { usdCap: body.budget_usd } } },
    tools: [chargeCustomerTool()],
    signal: disconnected.signal,
  });
  res.once('close', () => {
    disconnected.abort(new Error('response closed'));
    void run.end({ quiet: true });
  });
  await run.start();

  // Stand-in for an agent loop: one charge per requested amount, stopping at the first final refusal.
  const [charge] = run.tools;
  const results: ToolResult[] = [];
  for (const [i, amount] of body.charges_cents.entries()) {
    const input = {
      customer: body.customer,
      amount,
      currency: 'usd',
      description: `${body.run_id} item ${i + 1}`,
    };
    const result = (await charge?.execute(input, {
      toolCallId: `${body.run_id}-${i}`,
      signal: disconnected.signal,
    })) as ToolResult;
    results.push(result);
    if (!result.ok && !result.retryable) break;
  }
  sendJson(res, 200, { run_id: body.run_id, results });
}

const proxy = await connectProxy();
const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/agent/run') return sendJson(res, 404, { error: 'not_found' });
  runAgentRoute({ client: proxy.client, req, res }).catch((err: unknown) => {
    // Issuing failed (fail closed) or the handler broke: no key is left behind either way.
    if (!res.headersSent)
      sendJson(res, 503, { error: 'unavailable', message: err instanceof Error ? err.message : String(err) });
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
console.log(`Agent server on ${base}, proxy ${proxy.proxyUrl}`);

try {
  for (const request of [
    { run_id: 'r1', customer: 'cus_ada', charges_cents: [2000, 1500], budget_usd: 50 },
    { run_id: 'r2', customer: 'cus_grace', charges_cents: [2000, 2000, 2000], budget_usd: 50 },
  ]) {
    const res = await fetch(`${base}/agent/run`, { method: 'POST', body: JSON.stringify(request) });
    const json = (await res.json()) as { results: ToolResult[] };
    console.log(`POST /agent/run ${request.run_id} → ${res.status}`);
    for (const r of json.results)
      console.log(
        `  ${r.ok ? `charged ${String(r.amount)} (${String(r.payment_intent)})` : `refused: ${r.error}`}`,
      );
  }
  // The keys are revoked when each response closes, just after the client has its answer.
  for (let i = 0; i < 50; i += 1) {
    if ((await proxy.client.listKeys({ labelPrefix: 'agent-run-', status: 'active' })).data.length === 0)
      break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const keys = await proxy.client.listKeys({ labelPrefix: 'agent-run-' });
  for (const key of keys.data)
    console.log(`  ${key.label}: ${key.status}, spent $${key.spentUsd} of $${String(key.usdCap)}`);
} finally {
  server.close();
  await proxy.close();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
