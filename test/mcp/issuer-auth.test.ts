import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  chargeCustomerTool,
  serveHttp,
  type McpHttpServer,
  type ServeHttpOptions,
} from '../../adapters/mcp/index.js';
import { createSpendgateClient } from '../../src/client/index.js';
import { STACK_ADMIN_TOKEN, startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import { bodyOf, chargeUntilRefused, CHARGE_10, INITIALIZE, postMcp } from './helpers.js';

/**
 * `serveHttp` with issuer auth: each MCP client presents its own issuer token as the bearer, reached with the
 * SDK's own StreamableHTTPClientTransport (raw fetch for the refusals), against a real proxy and fake vendors.
 */

const SHARED_TOKEN = 'mcp-shared-bearer-for-issuer-tests-0123';

let stack: AgentStack;
let server: McpHttpServer | undefined;
let logLines: string[] = [];

beforeAll(async () => {
  stack = await startAgentStack();
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  logLines = [];
});

afterAll(async () => {
  await stack.close();
});

async function startServer(options: Partial<ServeHttpOptions> = {}) {
  server = await serveHttp({
    // The server's own token: used for sessions with the shared token, and to clean up after a revoked issuer.
    client: stack.client,
    budget: { ttl: '5m', caps: { stripe: { usdCap: 20 } } },
    tools: [chargeCustomerTool()],
    issuerAuth: true,
    port: 0,
    log: (line) => logLines.push(line),
    ...options,
  });
  return server;
}

/** A tenant budget and an issuer token scoped to it, as the admin creates them. */
async function tenant(options: { usdCap: number; maxKeyUsdCap?: number; label?: string }) {
  const budget = await stack.client.createBudget({
    usdCap: options.usdCap,
    label: options.label ?? 'tenant',
    expiresIn: '1h',
  });
  const issuer = await stack.client.createIssuer({
    budgetId: budget.id,
    vendors: ['stripe'],
    ...(options.maxKeyUsdCap === undefined ? {} : { maxKeyUsdCap: options.maxKeyUsdCap }),
    maxTtl: '1h',
  });
  return { budget, issuer };
}

async function connect(url: string, token: string) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'spendgate-issuer-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, label: `mcp-${transport.sessionId ?? ''}` };
}

async function keysLabelled(label: string) {
  return (await stack.client.listKeys({ label })).data;
}

/** Everything the fake vendors received: headers and bodies. */
function vendorTraffic(): string {
  const { stripe, twilio, resend } = stack.fakes;
  return JSON.stringify(
    [stripe, twilio, resend].flatMap((fake) =>
      fake.requests.map((r) => [r.headers, r.body.toString('utf8')]),
    ),
  );
}

describe('spendgate mcp over HTTP with issuer auth', () => {
  it("issues a session's keys with the client's own issuer token: inside its budget, stopped by its caps, revoked at close", async () => {
    const { budget, issuer } = await tenant({ usdCap: 25, maxKeyUsdCap: 20 });
    const { url } = await startServer();
    const before = stack.charges();
    const first = await connect(url, issuer.token);
    const results = await chargeUntilRefused(first.client, 5);
    // The session key's own $20 cap: two $10 charges, then a refusal.
    expect(results.map((r) => r.isError ?? false)).toEqual([false, false, true]);
    expect(bodyOf(results.at(-1))).toMatchObject({ error: 'cap_exhausted', retryable: false });
    const [key] = await keysLabelled(first.label);
    // No budget_id was sent: the proxy put the key under the issuer's budget.
    expect(key).toMatchObject({ budgetId: budget.id, usdCap: 20, status: 'active' });
    const report = bodyOf(await first.client.callTool({ name: 'spendgate_budget', arguments: {} }));
    expect(report).toMatchObject({ ok: true, vendors: [{ vendor: 'stripe', spent_usd: 20 }] });

    // A second session of the same issuer: the tenant has $5 left, so its first $10 charge is refused.
    const second = await connect(url, issuer.token);
    const more = await chargeUntilRefused(second.client, 3);
    expect(more).toHaveLength(1);
    expect(bodyOf(more[0])).toMatchObject({ ok: false, error: 'cap_exhausted', retryable: false });
    expect(stack.charges() - before).toBe(2);
    expect((await stack.client.getBudget(budget.id)).spentUsd).toBe(20);

    await first.transport.terminateSession();
    await second.transport.terminateSession();
    expect((await stack.client.getKey(key?.id ?? '')).status).toBe('revoked');
    expect((await keysLabelled(second.label)).map((k) => k.status)).toEqual(['revoked']);
    // The issuer's token went to the proxy's admin API only: not to a vendor, a log line or a tool result.
    expect(vendorTraffic()).not.toContain(issuer.token);
    expect(vendorTraffic()).not.toContain(STACK_ADMIN_TOKEN);
    expect(JSON.stringify({ logLines, results, more, report })).not.toContain(issuer.token);
    await Promise.all([first.client.close(), second.client.close()]);
  });

  it("beyond the issuer's ceilings a session issues nothing and spends nothing", async () => {
    // The server asks for $20 keys; this issuer may issue $5 at most.
    const { issuer } = await tenant({ usdCap: 50, maxKeyUsdCap: 5 });
    const { url } = await startServer();
    const before = stack.charges();
    const session = await connect(url, issuer.token);
    try {
      const result = await session.client.callTool({ name: 'charge_customer', arguments: CHARGE_10 });
      expect(bodyOf(result)).toMatchObject({ ok: false, error: 'run_not_started', retryable: false });
      expect(stack.charges()).toBe(before);
      expect((await keysLabelled(session.label)).filter((k) => k.status === 'active')).toEqual([]);
    } finally {
      await session.client.close();
    }
  });

  it('refuses an unknown or revoked issuer token at initialize with 401, and a bearer that is neither kind', async () => {
    const { issuer } = await tenant({ usdCap: 10 });
    await stack.client.revokeIssuer(issuer.id);
    const { url } = await startServer();
    const activeBefore = (await stack.activeKeys()).length;

    for (const token of [issuer.token, 'it_not-a-real-issuer-token-0123456789']) {
      const refused = await postMcp(url, { authorization: `Bearer ${token}` }, INITIALIZE);
      expect(refused.status).toBe(401);
      expect(refused.challenge).toBe('Bearer realm="spendgate-mcp", error="invalid_token"');
      expect(refused.text).not.toContain(token);
    }
    // Not an issuer token, and no shared token is configured: refused before the proxy is asked.
    const plain = await postMcp(url, { authorization: 'Bearer some-other-token-0123456789' }, INITIALIZE);
    expect(plain.status).toBe(401);
    expect(plain.challenge).toBe('Bearer realm="spendgate-mcp"');
    // The SDK's own client sees the 401 too.
    await expect(connect(url, issuer.token)).rejects.toMatchObject({ code: 401 });
    expect(server?.sessionCount()).toBe(0);
    expect((await stack.activeKeys()).length).toBe(activeBefore);
    expect(logLines.join('\n')).not.toContain(issuer.token);
  });

  it('answers 503 when the proxy cannot check the issuer token, and opens no session', async () => {
    const { issuer } = await tenant({ usdCap: 10 });
    const { url } = await startServer({
      // A proxy that is down: nothing listens on port 1.
      issuerClient: (token) =>
        createSpendgateClient({ baseUrl: 'http://127.0.0.1:1', adminToken: token, timeoutMs: 2000 }),
    });
    const result = await postMcp(url, { authorization: `Bearer ${issuer.token}` }, INITIALIZE);
    expect(result.status).toBe(503);
    expect(server?.sessionCount()).toBe(0);
  });

  it('a session opened before its issuer is revoked gets key_revoked afterwards, sends nothing, and its key is revoked', async () => {
    const { issuer } = await tenant({ usdCap: 50 });
    const { url } = await startServer();
    const session = await connect(url, issuer.token);
    try {
      expect(
        bodyOf(await session.client.callTool({ name: 'charge_customer', arguments: CHARGE_10 })),
      ).toMatchObject({ ok: true });
      const [key] = await keysLabelled(session.label);
      const before = stack.charges();

      await stack.client.revokeIssuer(issuer.id);
      const after = (await session.client.callTool({
        name: 'charge_customer',
        arguments: CHARGE_10,
      })) as CallToolResult;
      expect(after.isError).toBe(true);
      expect(bodyOf(after)).toMatchObject({ ok: false, error: 'key_revoked', retryable: false });
      const budget = await session.client.callTool({ name: 'spendgate_budget', arguments: {} });
      expect(bodyOf(budget)).toMatchObject({ ok: false, error: 'key_revoked', retryable: false });
      expect(stack.charges()).toBe(before);
      // The client's token can no longer revoke anything; the server's own token did.
      expect((await stack.client.getKey(key?.id ?? '')).status).toBe('revoked');
      expect(logLines.join('\n')).toMatch(/refused its token \(issuer_revoked\)/);
      expect(logLines.join('\n')).not.toContain(issuer.token);
      // And it cannot open a new session either.
      await expect(connect(url, issuer.token)).rejects.toMatchObject({ code: 401 });
    } finally {
      await session.client.close();
    }
  });

  it("a session answers only to the bearer that opened it: another issuer's token or the shared token gets 404", async () => {
    const a = await tenant({ usdCap: 50, label: 'tenant-a' });
    const b = await tenant({ usdCap: 50, label: 'tenant-b' });
    const { url } = await startServer({ token: SHARED_TOKEN });
    const first = await connect(url, a.issuer.token);
    const other = await connect(url, b.issuer.token);
    const shared = await connect(url, SHARED_TOKEN);
    try {
      const sessionId = first.transport.sessionId ?? '';
      const call = {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'charge_customer', arguments: CHARGE_10 },
      };
      const before = stack.charges();
      for (const token of [b.issuer.token, SHARED_TOKEN]) {
        const hijack = await postMcp(
          url,
          { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId },
          call,
        );
        expect(hijack.status).toBe(404);
        expect(hijack.text).toContain('Session not found');
        const close = await fetch(url, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId },
        });
        expect(close.status).toBe(404);
      }
      expect(stack.charges()).toBe(before);
      expect(server?.sessionCount()).toBe(3);

      // The session is intact for its own client, and each session's key sits in its own place.
      expect(
        bodyOf(await first.client.callTool({ name: 'charge_customer', arguments: CHARGE_10 })),
      ).toMatchObject({
        ok: true,
      });
      expect(bodyOf(await other.client.callTool({ name: 'spendgate_budget', arguments: {} }))).toMatchObject({
        ok: true,
      });
      expect(bodyOf(await shared.client.callTool({ name: 'spendgate_budget', arguments: {} }))).toMatchObject(
        {
          ok: true,
        },
      );
      const [keyA] = await keysLabelled(first.label);
      const [keyB] = await keysLabelled(other.label);
      const [keyShared] = await keysLabelled(shared.label);
      expect(keyA?.budgetId).toBe(a.budget.id);
      expect(keyB?.budgetId).toBe(b.budget.id);
      // The shared token's session uses the server's own (admin) client: a key with caps of its own only.
      expect(keyShared?.budgetId).toBeNull();
    } finally {
      await Promise.all([first.client.close(), other.client.close(), shared.client.close()]);
    }
  });

  it("a session budget is created under the client's issuer budget and revoked at close", async () => {
    const { budget, issuer } = await tenant({ usdCap: 50 });
    const { url } = await startServer({ budget: { ttl: '5m', usdCap: 15, caps: {} } });
    const session = await connect(url, issuer.token);
    const results = await chargeUntilRefused(session.client, 4);
    expect(results.map((r) => r.isError ?? false)).toEqual([false, true]);
    const report = bodyOf(await session.client.callTool({ name: 'spendgate_budget', arguments: {} })) as {
      budget: { id: string; parent_id: string; usd_cap: number; spent_usd: number; remaining_usd: number };
    };
    expect(report.budget).toMatchObject({
      parent_id: budget.id,
      usd_cap: 15,
      spent_usd: 10,
      remaining_usd: 5,
    });
    const [key] = await keysLabelled(session.label);
    expect(key?.budgetId).toBe(report.budget.id);
    await session.transport.terminateSession();
    expect((await stack.client.getBudget(report.budget.id)).status).toBe('revoked');
    expect((await stack.client.getKey(key?.id ?? '')).status).toBe('revoked');
    expect((await stack.client.getBudget(budget.id)).status).toBe('active');
    await session.client.close();
  });
});
