import { request, type IncomingHttpHeaders } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chargeCustomerTool, sendSmsTool, serveHttp, type McpHttpServer } from '../../adapters/mcp/index.js';
import { STACK_ADMIN_TOKEN, startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import { bodyOf, chargeUntilRefused, eventually } from './helpers.js';

/**
 * `serveHttp` in this process, reached with the SDK's own StreamableHTTPClientTransport (and raw fetch for
 * the refusals), against a real proxy in front of fake vendors.
 */

const TOKEN = 'mcp-bearer-token-for-tests-0123456789';
const ALLOWED_ORIGIN = 'https://console.example';

let stack: AgentStack;
let server: McpHttpServer | undefined;

beforeAll(async () => {
  stack = await startAgentStack();
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

afterAll(async () => {
  await stack.close();
});

async function startServer(options: { usdCap?: number; idleTimeoutMs?: number; maxSessions?: number } = {}) {
  server = await serveHttp({
    client: stack.client,
    budget: { ttl: '5m', caps: { stripe: { usdCap: options.usdCap ?? 20 } } },
    // The SMS tool has no cap in this budget, so it must not be listed.
    tools: [chargeCustomerTool(), sendSmsTool({ from: '+15005550006' })],
    token: TOKEN,
    port: 0,
    allowedOrigins: [ALLOWED_ORIGIN],
    ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ...(options.maxSessions ? { maxSessions: options.maxSessions } : {}),
  });
  return server;
}

async function connect(url: string, token = TOKEN) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'spendgate-http-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, label: `mcp-${transport.sessionId ?? ''}` };
}

async function keysLabelled(label: string) {
  return (await stack.client.listKeys({ label })).data;
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/**
 * Posts an `initialize` with exactly these headers, through node:http: fetch would drop a `Host` override.
 * Resolves with the status and headers; the body (a JSON-RPC error, or the start of a stream) is discarded.
 */
function postInitialize(url: string, headers: Record<string, string>) {
  const body = JSON.stringify(INITIALIZE);
  return new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'content-length': Buffer.byteLength(body),
        ...headers,
      },
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.once('response', (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.destroy();
    });
    req.end(body);
  });
}

describe('spendgate mcp over Streamable HTTP', () => {
  it('gives two concurrent sessions separate keys and separate caps', async () => {
    const { url } = await startServer({ usdCap: 20 });
    const before = stack.charges();
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    try {
      expect((await a.client.listTools()).tools.map((t) => t.name).sort()).toEqual([
        'charge_customer',
        'spendgate_budget',
      ]);
      const [fromA, fromB] = await Promise.all([
        chargeUntilRefused(a.client, 5),
        chargeUntilRefused(b.client, 5),
      ]);
      for (const results of [fromA, fromB]) {
        // $20 each: two $10 charges, then this session's own cap refuses the third.
        expect(results.map((r) => r.isError ?? false)).toEqual([false, false, true]);
        expect(bodyOf(results.at(-1))).toMatchObject({ error: 'cap_exhausted', retryable: false });
      }
      expect(stack.charges() - before).toBe(4);
      const [keysA, keysB] = await Promise.all([keysLabelled(a.label), keysLabelled(b.label)]);
      expect(keysA).toHaveLength(1);
      expect(keysB).toHaveLength(1);
      expect(keysA[0]?.id).not.toBe(keysB[0]?.id);
      expect(keysA[0]).toMatchObject({ usdCap: 20, metadata: { mcp_session_id: a.transport.sessionId } });
    } finally {
      await Promise.all([a.client.close(), b.client.close()]);
    }
  });

  it("closing the session (the client's DELETE) revokes its key, and the session is gone", async () => {
    const { url } = await startServer();
    const session = await connect(url);
    const result = await session.client.callTool({
      name: 'charge_customer',
      arguments: { customer: 'cus_ada', amount: 500, currency: 'usd', description: 'Once' },
    });
    expect(bodyOf(result)).toMatchObject({ ok: true, remaining_budget_usd: 15 });
    const [key] = await keysLabelled(session.label);
    const sessionId = session.transport.sessionId ?? '';

    await session.transport.terminateSession();
    // The DELETE is answered only after the revoke: no polling needed.
    expect((await stack.client.getKey(key?.id ?? '')).status).toBe('revoked');
    expect(server?.sessionCount()).toBe(0);
    const stale = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(stale.status).toBe(404);
    await session.client.close();
  });

  it('a client that vanishes without closing is revoked at the idle timeout', async () => {
    const { url } = await startServer({ idleTimeoutMs: 300 });
    const session = await connect(url);
    await session.client.callTool({ name: 'spendgate_budget', arguments: {} });
    const [key] = await keysLabelled(session.label);
    expect(key?.status).toBe('active');
    // Dropping the transport sends no DELETE: to the server this is a client that was killed.
    await session.transport.close();

    const revoked = await eventually(
      async () => (await stack.client.getKey(key?.id ?? '')).status === 'revoked',
    );
    expect(revoked).toBe(true);
    expect(server?.sessionCount()).toBe(0);
  });

  it('server shutdown revokes every open session', async () => {
    const { url } = await startServer();
    const sessions = await Promise.all([connect(url), connect(url)]);
    await Promise.all(sessions.map((s) => s.client.callTool({ name: 'spendgate_budget', arguments: {} })));
    const keys = (await Promise.all(sessions.map((s) => keysLabelled(s.label)))).flat();
    expect(keys).toHaveLength(2);

    await server?.close();
    for (const key of keys) expect((await stack.client.getKey(key.id)).status).toBe('revoked');
    await Promise.all(sessions.map((s) => s.client.close()));
  });

  it('refuses a missing or wrong bearer token, a bad Origin and a foreign Host, before any session exists', async () => {
    const { url } = await startServer();
    const activeBefore = (await stack.activeKeys()).length;

    const missing = await postInitialize(url, {});
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer /);
    expect((await postInitialize(url, { authorization: 'Bearer not-the-token-0123456789' })).status).toBe(
      401,
    );
    expect((await postInitialize(url, { authorization: TOKEN })).status).toBe(401);
    const badOrigin = await postInitialize(url, {
      authorization: `Bearer ${TOKEN}`,
      origin: 'https://attacker.example',
    });
    expect(badOrigin.status).toBe(403);
    const foreignHost = await postInitialize(url, {
      authorization: `Bearer ${TOKEN}`,
      host: 'attacker.example',
    });
    expect(foreignHost.status).toBe(403);
    // The SDK's own client is refused too, with the HTTP status.
    await expect(connect(url, 'wrong-token-0123456789abcdef')).rejects.toMatchObject({ code: 401 });
    expect(server?.sessionCount()).toBe(0);
    expect((await stack.activeKeys()).length).toBe(activeBefore);

    // The same request with the token and an allowed Origin opens a session: the refusals were the checks.
    const allowed = await postInitialize(url, { authorization: `Bearer ${TOKEN}`, origin: ALLOWED_ORIGIN });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['mcp-session-id']).toBeTruthy();
  });

  it('refuses a session past the limit, without issuing it a key', async () => {
    const { url } = await startServer({ maxSessions: 1 });
    const first = await connect(url);
    try {
      // The first session's key is issued just after its initialisation; count from there.
      expect(await eventually(async () => (await keysLabelled(first.label)).length === 1)).toBe(true);
      const activeBefore = (await stack.activeKeys()).length;
      await expect(connect(url)).rejects.toMatchObject({ code: 503 });
      expect(server?.sessionCount()).toBe(1);
      expect((await stack.activeKeys()).length).toBe(activeBefore);
    } finally {
      await first.client.close();
    }
  });

  it('never sends the client token or the admin token to a vendor', async () => {
    const { url } = await startServer();
    const session = await connect(url);
    await session.client.callTool({
      name: 'charge_customer',
      arguments: { customer: 'cus_ada', amount: 100, currency: 'usd', description: 'Audit me' },
    });
    await session.client.close();
    const seen = JSON.stringify(stack.fakes.stripe.requests.map((r) => [r.headers, r.body.toString('utf8')]));
    expect(seen).not.toContain(TOKEN);
    expect(seen).not.toContain(STACK_ADMIN_TOKEN);
  });
});
