import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpendgateClient, SpendgateError } from '../../src/client/index.js';
import { STACK_ADMIN_TOKEN, startAgentStack, type AgentStack } from '../helpers/agent-stack.js';

let stack: AgentStack;

beforeAll(async () => {
  stack = await startAgentStack();
});

afterAll(async () => {
  await stack.close();
});

const stripeKey = (label: string) => ({
  vendor: 'stripe',
  usdCap: 50,
  maxUsdPerCall: 25,
  allowedEndpoints: ['POST /v1/payment_intents'],
  expiresIn: '5m',
  label,
  metadata: { tenant: 't1' },
});

/** Runs `fn`, expecting a SpendgateError, and returns it. */
async function refusal(fn: () => Promise<unknown>): Promise<SpendgateError> {
  try {
    await fn();
  } catch (err) {
    expect(SpendgateError.isInstance(err)).toBe(true);
    return err as SpendgateError;
  }
  throw new Error('expected a SpendgateError');
}

describe('admin client against a running proxy', () => {
  it('issues a key and reads it back, in camelCase with dates', async () => {
    const issued = await stack.client.issueKey(stripeKey('client-issue'));
    expect(issued.token).toMatch(/^vk_/);
    expect(issued).toMatchObject({
      vendor: 'stripe',
      usdCap: 50,
      maxUsdPerCall: 25,
      dailyUsdCap: null,
      allowedEndpoints: ['POST /v1/payment_intents'],
      status: 'active',
      label: 'client-issue',
      metadata: { tenant: 't1' },
    });
    expect(issued.expiresAt.getTime() - issued.createdAt.getTime()).toBe(5 * 60_000);

    const read = await stack.client.getKey(issued.id);
    expect(read).toMatchObject({ id: issued.id, spentUsd: 0, remainingUsd: 50, calls: 0, deniedCalls: 0 });
    expect(read).not.toHaveProperty('token');
  });

  it('lists keys with filters and pagination', async () => {
    for (const n of [1, 2, 3]) await stack.client.issueKey(stripeKey(`client-list-${n}`));
    const first = await stack.client.listKeys({ labelPrefix: 'client-list-', limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await stack.client.listKeys({
      labelPrefix: 'client-list-',
      limit: 2,
      cursor: first.nextCursor ?? '',
    });
    expect(second.data).toHaveLength(1);
    const labels = [...first.data, ...second.data].map((k) => k.label).sort();
    expect(labels).toEqual(['client-list-1', 'client-list-2', 'client-list-3']);
  });

  it('revokes one key, idempotently', async () => {
    const issued = await stack.client.issueKey(stripeKey('client-revoke'));
    const revoked = await stack.client.revokeKey(issued.id);
    expect(revoked).toMatchObject({ id: issued.id, status: 'revoked' });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    await expect(stack.client.revokeKey(issued.id)).resolves.toMatchObject({ status: 'revoked' });
    expect((await stack.client.getKey(issued.id)).status).toBe('revoked');
  });

  it('revokes in bulk by label prefix and by metadata', async () => {
    await stack.client.issueKey(stripeKey('client-bulk-a'));
    await stack.client.issueKey(stripeKey('client-bulk-b'));
    await expect(stack.client.revokeKeys({ labelPrefix: 'client-bulk-' })).resolves.toEqual({ revoked: 2 });
    const tagged = await stack.client.issueKey({
      ...stripeKey('client-bulk-meta'),
      metadata: { job: 'bulk-meta' },
    });
    await expect(stack.client.revokeKeys({ metadata: { job: 'bulk-meta' } })).resolves.toEqual({
      revoked: 1,
    });
    expect((await stack.client.getKey(tagged.id)).status).toBe('revoked');
  });

  it('reads the audit log for a label', async () => {
    const issued = await stack.client.issueKey(stripeKey('client-audit'));
    const res = await fetch(`${stack.proxyUrl}/stripe/v1/payment_intents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${issued.token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'amount=3000&currency=usd&customer=cus_1',
    });
    expect(res.status).toBe(403);
    const page = await stack.client.audit({ label: 'client-audit' });
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toMatchObject({
      keyId: issued.id,
      label: 'client-audit',
      vendor: 'stripe',
      method: 'POST',
      path: '/v1/payment_intents',
      decision: 'denied',
      code: 'per_call_limit_exceeded',
    });
    expect(page.data[0]?.ts).toBeInstanceOf(Date);
  });
});

describe('typed errors', () => {
  it('401 unauthorized for a wrong admin token', async () => {
    const client = createSpendgateClient({ baseUrl: stack.proxyUrl, adminToken: 'not-the-admin-token-000' });
    const error = await refusal(() => client.listKeys());
    expect(error).toMatchObject({ code: 'unauthorized', status: 401, retryable: false });
  });

  it('403 admin_token_required when a vault key is used as the admin token', async () => {
    const issued = await stack.client.issueKey(stripeKey('client-403'));
    const client = createSpendgateClient({ baseUrl: stack.proxyUrl, adminToken: issued.token });
    const error = await refusal(() => client.getKey(issued.id));
    expect(error).toMatchObject({ code: 'admin_token_required', status: 403 });
  });

  it('400 cap_required for a key without a cap', async () => {
    const error = await refusal(() =>
      stack.client.issueKey({ vendor: 'stripe', allowedEndpoints: ['POST /v1/payment_intents'] }),
    );
    expect(error).toMatchObject({ code: 'cap_required', status: 400, retryable: false });
  });

  it('400 bad_request naming the parameter', async () => {
    const error = await refusal(() =>
      stack.client.issueKey({ ...stripeKey('client-400'), allowedEndpoints: [] }),
    );
    expect(error.code).toBe('bad_request');
    expect(error.details.param).toBe('allowed_endpoints');
  });

  it('400 ttl_too_long and unknown_vendor', async () => {
    await expect(
      refusal(() => stack.client.issueKey({ ...stripeKey('client-ttl'), expiresIn: '30d' })),
    ).resolves.toMatchObject({
      code: 'ttl_too_long',
    });
    await expect(
      refusal(() => stack.client.issueKey({ ...stripeKey('client-vendor'), vendor: 'paypal' })),
    ).resolves.toMatchObject({
      code: 'unknown_vendor',
    });
  });

  it('404 not_found for an unknown key', async () => {
    const error = await refusal(() => stack.client.getKey('key_does_not_exist'));
    expect(error).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('upstream_unreachable when nothing listens', async () => {
    const server = await listen(() => undefined);
    const url = address(server);
    await new Promise((resolve) => server.close(resolve));
    const client = createSpendgateClient({ baseUrl: url, adminToken: STACK_ADMIN_TOKEN });
    const error = await refusal(() => client.listKeys());
    expect(error).toMatchObject({ code: 'upstream_unreachable', retryable: true });
  });

  it('upstream_timeout when the proxy does not answer in time', async () => {
    const server = await listen(() => undefined); // accepts, never answers
    try {
      const client = createSpendgateClient({
        baseUrl: address(server),
        adminToken: STACK_ADMIN_TOKEN,
        timeoutMs: 100,
      });
      const error = await refusal(() => client.listKeys());
      expect(error).toMatchObject({ code: 'upstream_timeout', retryable: true });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("rethrows the caller's abort reason unchanged", async () => {
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(stack.client.listKeys({}, { signal: controller.signal })).rejects.toBe(reason);
  });
});

function listen(handler: () => void): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function address(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
