import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_ADMIN_TOKEN, startAgentStack, type AgentStack } from '../helpers/agent-stack.js';
import { bodyOf, CHARGE_10, eventually, REPO_ROOT } from './helpers.js';

const TOKEN = 'cli-http-bearer-token-0123456789';

let stack: AgentStack;

beforeAll(async () => {
  stack = await startAgentStack();
});

afterAll(async () => {
  await stack.close();
});

describe('spendgate mcp --http (the CLI, as a child process)', () => {
  it('serves on loopback with the bearer token from the environment, and SIGTERM revokes the sessions', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/bin.ts', 'mcp', '--http', '--port', '0', '--stripe-usd-cap', '20'],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          SPENDGATE_URL: stack.proxyUrl,
          SPENDGATE_ADMIN_TOKEN: STACK_ADMIN_TOKEN,
          SPENDGATE_MCP_TOKEN: TOKEN,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-32_768)));
    try {
      const [line] = (await Promise.race([
        once(createInterface({ input: child.stdout }), 'line'),
        once(child, 'exit').then(() => ['']),
      ])) as [string];
      const url = /^spendgate mcp listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)$/.exec(line)?.[1];
      expect(url, stderr).toBeDefined();

      const transport = new StreamableHTTPClientTransport(new URL(url ?? ''), {
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
      });
      const client = new Client({ name: 'cli-http-test', version: '1.0.0' });
      await client.connect(transport);
      expect(bodyOf(await client.callTool({ name: 'charge_customer', arguments: CHARGE_10 }))).toMatchObject({
        ok: true,
        remaining_budget_usd: 10,
      });
      const [key] = (await stack.client.listKeys({ label: `mcp-${transport.sessionId ?? ''}` })).data;
      expect(key?.status).toBe('active');

      child.kill('SIGTERM');
      await once(child, 'exit');
      expect(child.exitCode, stderr).toBe(0);
      expect((await stack.client.getKey(key?.id ?? '')).status).toBe('revoked');
      await client.close();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(await eventually(async () => (await stack.activeKeys()).length === 0, 10)).toBe(true);
  });

  it('--issuer-auth needs no shared token: a client sends its own issuer token, and --session-usd-cap caps its session', async () => {
    const tenant = await stack.client.createBudget({ usdCap: 100, label: 'cli-tenant', expiresIn: '2h' });
    const issuer = await stack.client.createIssuer({
      budgetId: tenant.id,
      vendors: ['stripe'],
      maxTtl: '2h',
    });
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'src/cli/bin.ts', 'mcp', '--http', '--issuer-auth', '--port', '0'],
        ...['--session-usd-cap', '5', '--vendors', 'stripe'],
      ],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          SPENDGATE_URL: stack.proxyUrl,
          SPENDGATE_ADMIN_TOKEN: STACK_ADMIN_TOKEN,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-32_768)));
    try {
      const [line] = (await Promise.race([
        once(createInterface({ input: child.stdout }), 'line'),
        once(child, 'exit').then(() => ['']),
      ])) as [string];
      const url = /^spendgate mcp listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)$/.exec(line)?.[1];
      expect(url, stderr).toBeDefined();

      const transport = new StreamableHTTPClientTransport(new URL(url ?? ''), {
        requestInit: { headers: { authorization: `Bearer ${issuer.token}` } },
      });
      const client = new Client({ name: 'cli-http-issuer-test', version: '1.0.0' });
      await client.connect(transport);
      const charge = { customer: 'cus_ada', amount: 300, currency: 'usd', description: 'Three dollars' };
      expect(bodyOf(await client.callTool({ name: 'charge_customer', arguments: charge }))).toMatchObject({
        ok: true,
      });
      expect(bodyOf(await client.callTool({ name: 'charge_customer', arguments: charge }))).toMatchObject({
        ok: false,
        error: 'cap_exhausted',
        retryable: false,
      });
      const [key] = (await stack.client.listKeys({ label: `mcp-${transport.sessionId ?? ''}` })).data;
      const sessionBudget = await stack.client.getBudget(key?.budgetId ?? '');
      // The session's $5 budget hangs under the issuer's budget, not at the root.
      expect(sessionBudget).toMatchObject({ parentId: tenant.id, usdCap: 5, spentUsd: 3 });

      child.kill('SIGTERM');
      await once(child, 'exit');
      expect(child.exitCode, stderr).toBe(0);
      expect((await stack.client.getBudget(sessionBudget.id)).status).toBe('revoked');
      expect((await stack.client.getKey(key?.id ?? '')).status).toBe('revoked');
      expect(stderr).not.toContain(issuer.token);
      await client.close();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
