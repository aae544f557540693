import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargeCustomerTool, serveHttp } from '../../adapters/mcp/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import { elicitingClient, plainClient } from './eliciting-client.js';
import { bodyOf, CHARGE_10, connectStdio } from './helpers.js';

/**
 * The approval round trip on the real transports: `spendgate mcp --stdio --approval-usd 25` as a child
 * process (the config name `SPENDGATE_MCP_APPROVAL_USD` as a flag), and Streamable HTTP, where the
 * elicitation request travels on the `tools/call`'s own response stream.
 */

let stack: AgentStack;
beforeAll(async () => {
  stack = await startAgentStack();
});
afterAll(async () => stack.close());

const CHARGE_30 = { ...CHARGE_10, amount: 3000, description: 'Annual plan' };

async function sessionKey(label: string) {
  const { data } = await stack.client.listKeys({ label });
  expect(data).toHaveLength(1);
  return stack.client.getKey(data[0]?.id ?? '');
}

describe('spendgate mcp --stdio with an approval threshold', () => {
  const flags = ['--stripe-usd-cap', '100', '--approval-usd', '25'];

  it('asks through elicitation, charges an approved $30 once, and revokes at the end', async () => {
    const person = elicitingClient('approve');
    const before = stack.charges();
    const session = await connectStdio({ proxyUrl: stack.proxyUrl, flags, client: person.client });
    let label = '';
    try {
      const result = await session.client.callTool({ name: 'charge_customer', arguments: CHARGE_30 });
      expect(bodyOf(result), session.stderr()).toMatchObject({ ok: true, amount: 3000 });
      expect(person.questions).toHaveLength(1);
      expect(stack.charges() - before).toBe(1);
      const { data } = await stack.client.listKeys({ labelPrefix: 'mcp-', status: 'active' });
      label = data[0]?.label ?? '';
      expect(await sessionKey(label)).toMatchObject({ approvalAboveUsd: 25, spentUsd: 30 });
      const used = await stack.client.listApprovals({ label, status: 'used' });
      expect(used.data).toHaveLength(1);
    } finally {
      await session.client.close();
    }
    await expect.poll(() => stack.keyStatuses(label), { timeout: 10_000 }).toEqual(['revoked']);
  });

  it('answers a client without elicitation with approval_required, charging nothing', async () => {
    const before = stack.fakes.stripe.requests.length;
    const session = await connectStdio({ proxyUrl: stack.proxyUrl, flags, client: plainClient() });
    try {
      const result = await session.client.callTool({ name: 'charge_customer', arguments: CHARGE_30 });
      expect(result.isError).toBe(true);
      expect(bodyOf(result)).toMatchObject({ error: 'approval_required', retryable: false, amount_usd: 30 });
      expect(stack.fakes.stripe.requests.length).toBe(before);
    } finally {
      await session.client.close();
    }
  });
});

describe('spendgate mcp over Streamable HTTP with an approval threshold', () => {
  const TOKEN = 'mcp-bearer-token-approvals-0123456789';

  async function withServer(body: (url: string) => Promise<void>) {
    const server = await serveHttp({
      client: stack.client,
      budget: { ttl: '5m', caps: { stripe: { usdCap: 100, approvalAboveUsd: 25 } } },
      tools: [chargeCustomerTool()],
      token: TOKEN,
      port: 0,
    });
    try {
      await body(server.url);
    } finally {
      await server.close();
    }
  }

  async function connect(url: string, person: ReturnType<typeof elicitingClient>) {
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
    });
    await person.client.connect(transport);
    return { transport, label: `mcp-${transport.sessionId ?? ''}` };
  }

  it('approves over the call stream and charges once; a decline charges nothing; both revoke', async () => {
    await withServer(async (url) => {
      const approver = elicitingClient('approve');
      const decliner = elicitingClient('decline');
      const a = await connect(url, approver);
      const b = await connect(url, decliner);
      const before = stack.charges();
      const approved = await approver.client.callTool({ name: 'charge_customer', arguments: CHARGE_30 });
      const declined = await decliner.client.callTool({ name: 'charge_customer', arguments: CHARGE_30 });
      expect(bodyOf(approved)).toMatchObject({ ok: true, amount: 3000 });
      expect(declined.isError).toBe(true);
      expect(bodyOf(declined)).toMatchObject({ error: 'approval_denied', retryable: false });
      expect([approver.questions.length, decliner.questions.length]).toEqual([1, 1]);
      expect(stack.charges() - before).toBe(1);
      expect((await sessionKey(a.label)).spentUsd).toBe(30);
      expect((await sessionKey(b.label)).spentUsd).toBe(0);

      await Promise.all([a.transport.terminateSession(), b.transport.terminateSession()]);
      expect(await stack.keyStatuses(a.label)).toEqual(['revoked']);
      expect(await stack.keyStatuses(b.label)).toEqual(['revoked']);
      await Promise.all([approver.client.close(), decliner.client.close()]);
    });
  });
});
