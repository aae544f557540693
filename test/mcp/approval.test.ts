import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chargeCustomerTool,
  connectSession,
  createSpendgateMcpServer,
  McpSession,
  sendSmsTool,
  sessionTools,
} from '../../adapters/mcp/index.js';
import type { SpendgateClient } from '../../src/client/index.js';
import type { VendorCaps } from '../../src/run/index.js';
import type { SpendTool } from '../../src/tools/index.js';
import { startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import { elicitingClient, plainClient } from './eliciting-client.js';
import { bodyOf, CHARGE_10 } from './helpers.js';

/**
 * Approval above an amount over MCP: the session's key carries `approval_above_usd`, the proxy enforces it,
 * and the session asks the person through MCP elicitation (the SDK's own `Client` with an elicitation
 * handler), over the SDK's in-memory transport, against a real proxy and fake vendors.
 */

let stack: AgentStack;
beforeAll(async () => {
  stack = await startAgentStack();
});
afterAll(async () => stack.close());

const CHARGE_30 = { ...CHARGE_10, amount: 3000, description: 'Annual plan' };
const STRIPE_CAPS: VendorCaps = { usdCap: 100, approvalAboveUsd: 25 };

async function openSession(options: {
  client: Client;
  caps?: Readonly<Record<string, VendorCaps>>;
  tools?: readonly SpendTool[];
  admin?: SpendgateClient;
}) {
  const admin = options.admin ?? stack.client;
  const tools = options.tools ?? [chargeCustomerTool()];
  const session = new McpSession({
    id: `apr-${Math.random().toString(36).slice(2)}`,
    client: admin,
    budget: { ttl: '5m', caps: options.caps ?? { stripe: STRIPE_CAPS } },
    tools,
    proxyUrl: stack.proxyUrl,
    idleTimeoutMs: 60_000,
  });
  const server = createSpendgateMcpServer({ tools: sessionTools({ session, client: admin, tools }) });
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await connectSession({ server, transport: serverSide, session });
  await options.client.connect(clientSide);
  const keyOf = async (vendor = 'stripe') => {
    const { data } = await stack.client.listKeys({ label: session.label });
    const key = data.find((k) => k.vendor === vendor);
    if (!key) throw new Error(`no ${vendor} key for ${session.label}`);
    return stack.client.getKey(key.id);
  };
  return {
    session,
    keyOf,
    call: (name: string, args: Record<string, unknown>) => options.client.callTool({ name, arguments: args }),
    /** Ends the session and checks that it left no key active. */
    async close() {
      await options.client.close();
      await session.close('shutdown');
      const statuses = await stack.keyStatuses(session.label);
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((status) => status === 'revoked')).toBe(true);
    },
  };
}

/** A spy on the admin client: the vault tokens it was issued and the grants it obtained. */
function recordingAdmin() {
  const tokens: string[] = [];
  const grants: string[] = [];
  const admin: SpendgateClient = {
    ...stack.client,
    baseUrl: stack.client.baseUrl,
    async issueKey(input, options) {
      const issued = await stack.client.issueKey(input, options);
      tokens.push(issued.token);
      return issued;
    },
    async approveCall(id, options) {
      const granted = await stack.client.approveCall(id, options);
      grants.push(granted.grant);
      return granted;
    },
  };
  return { admin, tokens, grants };
}

/** A charge sent straight to the proxy with a vault token and a grant, as a replay would be. */
async function replay(
  token: string,
  grant: string,
  amount: number,
): Promise<{ status: number; code: unknown }> {
  const res = await fetch(`${stack.proxyUrl}/v1/payment_intents`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/x-www-form-urlencoded',
      'spendgate-approval': grant,
    },
    body: `amount=${amount}&currency=usd&customer=cus_ada&confirm=true&off_session=true`,
  });
  const body = (await res.json()) as { code?: unknown };
  return { status: res.status, code: body.code };
}

describe('approval above an amount over MCP elicitation', () => {
  it('asks before a $30 charge, and an approved one is charged exactly once', async () => {
    const person = elicitingClient('approve');
    const open = await openSession({ client: person.client });
    try {
      const before = stack.charges();
      const result = await open.call('charge_customer', CHARGE_30);
      expect(result.isError).toBe(false);
      expect(bodyOf(result)).toMatchObject({ ok: true, amount: 3000, status: 'succeeded' });
      expect(stack.charges() - before).toBe(1);

      expect(person.questions).toHaveLength(1);
      const [question] = person.questions;
      expect(question?.message).toContain('charge_customer for $30.00');
      expect(question?.message).toContain("session's $25.00 approval threshold");
      expect(question?.message).toContain('"customer":"cus_ada"');
      expect(question).toMatchObject({
        requestedSchema: { properties: { approve: { type: 'boolean' } }, required: ['approve'] },
      });

      const key = await open.keyOf();
      expect(key).toMatchObject({ approvalAboveUsd: 25, spentUsd: 30 });
      const used = await stack.client.listApprovals({ label: open.session.label, status: 'used' });
      expect(used.data.map((a) => a.amountUsd)).toEqual([30]);
    } finally {
      await open.close();
    }
  });

  it.each(['decline', 'cancel', 'reject'] as const)(
    'a person who answers %s gets nothing charged, and the model a non-retryable approval_denied',
    async (answer) => {
      const person = elicitingClient(answer);
      const open = await openSession({ client: person.client });
      try {
        const before = stack.fakes.stripe.requests.length;
        const result = await open.call('charge_customer', CHARGE_30);
        expect(result.isError).toBe(true);
        expect(bodyOf(result)).toMatchObject({ ok: false, error: 'approval_denied', retryable: false });
        expect(person.questions).toHaveLength(1);
        // Asked before sending: the vendor saw nothing, and the proxy holds no approval for it.
        expect(stack.fakes.stripe.requests.length).toBe(before);
        expect((await open.keyOf()).spentUsd).toBe(0);
        expect((await stack.client.listApprovals({ label: open.session.label })).data).toHaveLength(0);
      } finally {
        await open.close();
      }
    },
  );

  it('never lets an approved grant pay for a second charge or a different amount', async () => {
    const spy = recordingAdmin();
    // The person approves the first call only.
    const person = elicitingClient('approve', 'decline');
    const open = await openSession({ client: person.client, admin: spy.admin });
    try {
      const before = stack.charges();
      const results = [
        await open.call('charge_customer', CHARGE_30),
        // The model asks again with the very same arguments: a new call, asked about anew.
        await open.call('charge_customer', CHARGE_30),
      ];
      expect(results.map((r) => r.isError)).toEqual([false, true]);
      expect(bodyOf(results[1])).toMatchObject({ error: 'approval_denied', retryable: false });
      expect(person.questions).toHaveLength(2);
      expect(spy.grants).toHaveLength(1);
      // The grant never reaches the client, so a model cannot even see one to replay.
      expect(JSON.stringify(results)).not.toContain(spy.grants[0]);

      const [token = '', grant = ''] = [spy.tokens[0], spy.grants[0]];
      expect(await replay(token, grant, 3000)).toEqual({ status: 403, code: 'approval_invalid' });
      expect(await replay(token, grant, 4000)).toEqual({ status: 403, code: 'approval_invalid' });
      expect(stack.charges() - before).toBe(1);
      expect((await open.keyOf()).spentUsd).toBe(30);
    } finally {
      await open.close();
    }
  });

  it('does not ask about a call at or under the threshold', async () => {
    const person = elicitingClient('decline');
    const open = await openSession({ client: person.client });
    try {
      const before = stack.charges();
      for (const amount of [2500, 1000]) {
        const result = await open.call('charge_customer', { ...CHARGE_10, amount });
        expect(bodyOf(result)).toMatchObject({ ok: true, amount });
      }
      expect(person.questions).toHaveLength(0);
      expect(stack.charges() - before).toBe(2);
      expect((await open.keyOf()).spentUsd).toBe(35);
    } finally {
      await open.close();
    }
  });

  it('without elicitation, answers a non-retryable approval_required and sends nothing', async () => {
    const open = await openSession({ client: plainClient() });
    try {
      const before = stack.fakes.stripe.requests.length;
      const result = await open.call('charge_customer', CHARGE_30);
      expect(result.isError).toBe(true);
      const body = bodyOf(result);
      expect(body).toMatchObject({ ok: false, error: 'approval_required', retryable: false, amount_usd: 30 });
      expect(body.approval_id).toMatch(/^apr_/);
      expect(stack.fakes.stripe.requests.length).toBe(before);
      // The proxy holds it pending: an operator can still approve it out of band.
      const pending = await stack.client.listApprovals({ label: open.session.label, status: 'pending' });
      expect(pending.data.map((a) => a.id)).toEqual([body.approval_id]);
    } finally {
      await open.close();
    }
  });

  it('treats a client that fails to ask as no decision: approval_required, nothing sent', async () => {
    const person = elicitingClient('fail');
    const open = await openSession({ client: person.client });
    try {
      const before = stack.fakes.stripe.requests.length;
      const result = await open.call('charge_customer', CHARGE_30);
      expect(bodyOf(result)).toMatchObject({ error: 'approval_required', retryable: false });
      expect(person.questions).toHaveLength(1);
      expect(stack.fakes.stripe.requests.length).toBe(before);
    } finally {
      await open.close();
    }
  });
});

describe('approval of a call only the proxy can price (SMS by segments)', () => {
  // One US segment is $0.0083; a 200-character text is two, $0.0166, above the $0.01 threshold.
  const caps = { twilio: { usdCap: 1, approvalAboveUsd: 0.01 } };
  const tools = [sendSmsTool({ from: '+15017122661' })];
  const LONG = { to: '+15558675310', body: 'x'.repeat(200) };
  const SHORT = { to: '+15558675310', body: 'Your order shipped.' };

  it('asks once the proxy refuses, at its price, and sends an approved text once', async () => {
    const person = elicitingClient('approve');
    const open = await openSession({ client: person.client, caps, tools });
    try {
      const before = stack.smsSent();
      expect(bodyOf(await open.call('send_sms', SHORT))).toMatchObject({ ok: true });
      expect(person.questions).toHaveLength(0);
      const result = await open.call('send_sms', LONG);
      expect(bodyOf(result)).toMatchObject({ ok: true });
      expect(person.questions).toHaveLength(1);
      expect(person.questions[0]?.message).toContain('send_sms for $0.0166');
      expect(stack.smsSent() - before).toBe(2);
      expect((await open.keyOf('twilio')).spentUsd).toBeCloseTo(0.0249, 6);
    } finally {
      await open.close();
    }
  });

  it('sends nothing when the person declines, and records the denial on the proxy', async () => {
    const person = elicitingClient('decline');
    const open = await openSession({ client: person.client, caps, tools });
    try {
      const before = stack.smsSent();
      const result = await open.call('send_sms', LONG);
      expect(result.isError).toBe(true);
      expect(bodyOf(result)).toMatchObject({ error: 'approval_denied', retryable: false });
      expect(stack.smsSent()).toBe(before);
      const listed = await stack.client.listApprovals({ label: open.session.label });
      expect(listed.data.map((a) => a.status)).toEqual(['denied']);
    } finally {
      await open.close();
    }
  });
});
