import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chargeCustomerTool,
  connectSession,
  createSpendgateMcpServer,
  McpSession,
  sessionTools,
  type IssuerCheck,
  type SessionBudget,
} from '../../adapters/mcp/index.js';
import type { SpendgateClient } from '../../src/client/index.js';
import { spendgateError } from '../../src/errors/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import { bodyOf, CHARGE_10, eventually } from './helpers.js';

/**
 * One session's server and the SDK's client over the SDK's in-memory transport (the protocol without the
 * pipes), against a real proxy and fake vendors: what a session answers, whatever carries it.
 */

let stack: AgentStack;

beforeAll(async () => {
  stack = await startAgentStack();
});

afterAll(async () => {
  await stack.close();
});

async function openSession(
  options: {
    client?: SpendgateClient;
    usdCap?: number;
    budget?: SessionBudget;
    checkAuthority?: () => Promise<IssuerCheck>;
  } = {},
) {
  const admin = options.client ?? stack.client;
  const session = new McpSession({
    id: `test-${Math.random().toString(36).slice(2)}`,
    client: admin,
    budget: options.budget ?? { ttl: '5m', caps: { stripe: { usdCap: options.usdCap ?? 50 } } },
    tools: [chargeCustomerTool()],
    proxyUrl: stack.proxyUrl,
    idleTimeoutMs: 60_000,
    checkAuthority: options.checkAuthority,
  });
  const server = createSpendgateMcpServer({
    tools: sessionTools({
      session,
      client: admin,
      tools: [chargeCustomerTool()],
    }),
  });
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await connectSession({ server, transport: serverSide, session });
  const client = new Client({ name: 'spendgate-session-test', version: '1.0.0' });
  await client.connect(clientSide);
  return {
    client,
    session,
    async close() {
      await client.close();
      await session.close('shutdown');
    },
  };
}

describe('an MCP session', () => {
  it("answers invalid arguments with the tool's bad_request, accepts strict-mode nulls, and rejects unknown tools", async () => {
    const open = await openSession();
    try {
      const before = stack.charges();
      const invalid = await open.client.callTool({
        name: 'charge_customer',
        arguments: { ...CHARGE_10, amount: -5 },
      });
      expect(invalid.isError).toBe(true);
      expect(bodyOf(invalid)).toMatchObject({ ok: false, error: 'bad_request', retryable: false });
      expect(stack.charges()).toBe(before);
      // Strict function calling sends an omitted optional field as null.
      const withNull = await open.client.callTool({
        name: 'charge_customer',
        arguments: { ...CHARGE_10, payment_method: null, retry_of: null },
      });
      expect(bodyOf(withNull)).toMatchObject({ ok: true });
      await expect(open.client.callTool({ name: 'send_sms', arguments: {} })).rejects.toThrow(/Unknown tool/);
    } finally {
      await open.close();
    }
  });

  it('reports what a call in flight holds, then what it spent', async () => {
    const open = await openSession();
    try {
      stack.fakes.stripe.delayNext(3000);
      const inFlight = open.client.callTool({ name: 'charge_customer', arguments: CHARGE_10 });
      const budget = () => open.client.callTool({ name: 'spendgate_budget', arguments: {} }).then(bodyOf);
      const sawHeld = await eventually(
        async () => {
          const { vendors } = (await budget()) as { vendors: { held_usd: number }[] };
          return vendors[0]?.held_usd === 10;
        },
        50,
        50,
      );
      expect(sawHeld).toBe(true);
      expect(bodyOf(await inFlight)).toMatchObject({ ok: true });
      expect(await budget()).toMatchObject({
        vendors: [{ vendor: 'stripe', held_usd: 0, spent_usd: 10, remaining_usd: 40 }],
      });
    } finally {
      await open.close();
    }
  });

  it('after a failed start, the next call issues the keys again instead of failing forever', async () => {
    const attempts: string[] = [];
    const flaky: SpendgateClient = {
      ...stack.client,
      baseUrl: stack.client.baseUrl,
      issueKey(input, options) {
        attempts.push(attempts.length === 0 ? 'failed' : 'issued');
        if (attempts.length === 1)
          return Promise.reject(spendgateError('upstream_unreachable', 'proxy is down'));
        return stack.client.issueKey(input, options);
      },
    };
    const open = await openSession({ client: flaky });
    try {
      // Initialisation tried to start the run, and the proxy was "down".
      expect(await eventually(async () => attempts.length === 1, 50, 20)).toBe(true);
      const result = await open.client.callTool({ name: 'charge_customer', arguments: CHARGE_10 });
      expect(bodyOf(result)).toMatchObject({ ok: true });
      expect(attempts).toEqual(['failed', 'issued']);
      expect(
        (await stack.client.listKeys({ label: open.session.label, status: 'active' })).data,
      ).toHaveLength(1);
    } finally {
      await open.close();
    }
    expect((await stack.client.listKeys({ label: open.session.label, status: 'active' })).data).toHaveLength(
      0,
    );
  });

  it('every session budget is created under the parent budget, so sessions together stop at what it has left', async () => {
    const tenant = await stack.client.createBudget({ usdCap: 15, label: 'mcp-tenant', expiresIn: '1h' });
    const budget: SessionBudget = { ttl: '5m', parentBudgetId: tenant.id, caps: {} };
    const [a, b] = [await openSession({ budget }), await openSession({ budget })];
    try {
      expect(
        bodyOf(await a.client.callTool({ name: 'charge_customer', arguments: CHARGE_10 })),
      ).toMatchObject({
        ok: true,
      });
      const refused = bodyOf(await b.client.callTool({ name: 'charge_customer', arguments: CHARGE_10 }));
      expect(refused).toMatchObject({ ok: false, error: 'cap_exhausted', retryable: false });
      const report = bodyOf(await b.client.callTool({ name: 'spendgate_budget', arguments: {} })) as {
        budget: { id: string; parent_id: string; usd_cap: null; remaining_usd: number };
      };
      expect(report.budget).toMatchObject({ parent_id: tenant.id, usd_cap: null, remaining_usd: 5 });
      await Promise.all([a.close(), b.close()]);
      expect((await stack.client.getBudget(report.budget.id)).status).toBe('revoked');
      expect((await stack.client.getBudget(tenant.id)).status).toBe('active');
      expect((await stack.client.listBudgets({ parentId: tenant.id, status: 'active' })).data).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('checks its authority before each call: unknown refuses that call, refused ends its spending for good', async () => {
    const answers: IssuerCheck[] = [
      { status: 'valid' },
      { status: 'unknown', code: 'upstream_unreachable', retryable: true },
      { status: 'refused', code: 'issuer_revoked' },
    ];
    let asked = 0;
    const open = await openSession({
      checkAuthority: () => Promise.resolve(answers[Math.min(asked++, answers.length - 1)] as IssuerCheck),
    });
    try {
      const before = stack.charges();
      expect(
        bodyOf(await open.client.callTool({ name: 'charge_customer', arguments: CHARGE_10 })),
      ).toMatchObject({
        ok: true,
      });
      const unknown = bodyOf(await open.client.callTool({ name: 'charge_customer', arguments: CHARGE_10 }));
      expect(unknown).toMatchObject({ ok: false, error: 'upstream_unreachable', retryable: true });
      expect(stack.charges() - before).toBe(1);
      const [key] = (await stack.client.listKeys({ label: open.session.label })).data;
      expect(key?.status).toBe('active');

      const refused = bodyOf(await open.client.callTool({ name: 'charge_customer', arguments: CHARGE_10 }));
      expect(refused).toMatchObject({ ok: false, error: 'key_revoked', retryable: false });
      expect((await stack.client.getKey(key?.id ?? '')).status).toBe('revoked');
      // No further check is needed to know: every later call is answered at once, and nothing restarts.
      const askedSoFar = asked;
      const later = bodyOf(await open.client.callTool({ name: 'spendgate_budget', arguments: {} }));
      expect(later).toMatchObject({ ok: false, error: 'key_revoked', retryable: false });
      expect(asked).toBe(askedSoFar);
      expect(await open.session.activeKeys()).toBeNull();
      expect(stack.charges() - before).toBe(1);
      expect((await stack.client.listKeys({ label: open.session.label, status: 'active' })).data).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
