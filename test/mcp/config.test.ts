import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMcpConfig, mcpOptionsFromConfig } from '../../adapters/mcp/index.js';
import { mcpFlagFor } from '../../src/cli/mcp.js';
import { REPO_ROOT } from './helpers.js';

const BASE = {
  SPENDGATE_URL: 'http://127.0.0.1:8787',
  SPENDGATE_ADMIN_TOKEN: 'admin-token-0123456789abcdef',
  SPENDGATE_MCP_STRIPE_USD_CAP: '50',
};

describe('spendgate mcp configuration', () => {
  it('reads the environment, with defaults that keep a session small and local', async () => {
    const config = await loadMcpConfig({ env: BASE });
    expect(config).toMatchObject({
      SPENDGATE_MCP_TRANSPORT: 'stdio',
      SPENDGATE_MCP_HOST: '127.0.0.1',
      SPENDGATE_MCP_PORT: 8788,
      SPENDGATE_MCP_STRIPE_USD_CAP: 50,
      SPENDGATE_MCP_TTL: 3_600_000,
      SPENDGATE_MCP_IDLE_TIMEOUT: 900_000,
      SPENDGATE_MCP_ALLOWED_ORIGINS: [],
    });
    const runtime = mcpOptionsFromConfig(config);
    expect(runtime.transport).toBe('stdio');
    expect(runtime.serve.tools.map((t) => t.name)).toEqual(['charge_customer']);
    expect(runtime.serve.budget).toEqual({ ttl: 3600, caps: { stripe: { usdCap: 50 } } });
  });

  it('lets flags win over the file, and the file over the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spendgate-mcp-config-'));
    const file = join(dir, 'mcp.json');
    writeFileSync(
      file,
      JSON.stringify({
        SPENDGATE_MCP_STRIPE_USD_CAP: 20,
        SPENDGATE_MCP_TTL: '10m',
        SPENDGATE_MCP_APPROVAL_USD: 5,
      }),
    );
    const config = await loadMcpConfig({ env: BASE, file, overrides: { SPENDGATE_MCP_TTL: '2m' } });
    expect(config).toMatchObject({
      SPENDGATE_MCP_STRIPE_USD_CAP: 20,
      SPENDGATE_MCP_TTL: 120_000,
      SPENDGATE_MCP_APPROVAL_USD: 5,
    });
    // The threshold goes on the session's keys, where the proxy enforces it.
    expect(mcpOptionsFromConfig(config).serve.budget.caps).toEqual({
      stripe: { usdCap: 20, approvalAboveUsd: 5 },
    });
  });

  it.each([
    [{ SPENDGATE_MCP_STRIPE_USD_CAP: undefined }, 'SPENDGATE_MCP_VENDORS'],
    [{ SPENDGATE_MCP_VENDORS: 'stripe,twilio' }, 'SPENDGATE_MCP_TWILIO_USD_CAP'],
    [{ SPENDGATE_MCP_TWILIO_USD_CAP: '1' }, 'SPENDGATE_MCP_SMS_FROM'],
    [{ SPENDGATE_MCP_RESEND_DAILY_USD_CAP: '1' }, 'SPENDGATE_MCP_EMAIL_FROM'],
    [{ SPENDGATE_MCP_VENDORS: 'paypal' }, 'SPENDGATE_MCP_VENDORS'],
    [{ SPENDGATE_MCP_STRIPE_USD_CAP: '0.0000001' }, 'SPENDGATE_MCP_STRIPE_USD_CAP'],
    [{ SPENDGATE_MCP_TRANSPORT: 'http' }, 'SPENDGATE_MCP_TOKEN'],
    [
      { SPENDGATE_MCP_TRANSPORT: 'http', SPENDGATE_MCP_TOKEN: BASE.SPENDGATE_ADMIN_TOKEN },
      'SPENDGATE_MCP_TOKEN',
    ],
    [{ SPENDGATE_URL: undefined }, 'SPENDGATE_URL'],
    // A session budget lets vendors go without caps, but then they must be named.
    [
      { SPENDGATE_MCP_STRIPE_USD_CAP: undefined, SPENDGATE_MCP_SESSION_USD_CAP: '5' },
      'SPENDGATE_MCP_VENDORS',
    ],
    [
      { SPENDGATE_MCP_STRIPE_USD_CAP: undefined, SPENDGATE_MCP_PARENT_BUDGET: 'bud_tenant' },
      'SPENDGATE_MCP_VENDORS',
    ],
    // Without one, every named vendor still needs its own cap.
    [
      { SPENDGATE_MCP_STRIPE_USD_CAP: undefined, SPENDGATE_MCP_VENDORS: 'stripe' },
      'SPENDGATE_MCP_STRIPE_USD_CAP',
    ],
    [{ SPENDGATE_MCP_SESSION_USD_CAP: '0' }, 'SPENDGATE_MCP_SESSION_USD_CAP'],
    [{ SPENDGATE_MCP_SESSION_USD_CAP: 'ten' }, 'SPENDGATE_MCP_SESSION_USD_CAP'],
    [{ SPENDGATE_MCP_PARENT_BUDGET: 'tenant-acme' }, 'SPENDGATE_MCP_PARENT_BUDGET'],
    [{ SPENDGATE_MCP_ISSUER_AUTH: 'maybe' }, 'SPENDGATE_MCP_ISSUER_AUTH'],
    // Issuer auth is the HTTP bearer: on stdio there is none.
    [{ SPENDGATE_MCP_ISSUER_AUTH: 'true' }, 'SPENDGATE_MCP_ISSUER_AUTH'],
    [{ SPENDGATE_MCP_TRANSPORT: 'http', SPENDGATE_MCP_ISSUER_AUTH: 'false' }, 'SPENDGATE_MCP_TOKEN'],
    [
      {
        SPENDGATE_MCP_TRANSPORT: 'http',
        SPENDGATE_MCP_ISSUER_AUTH: 'true',
        SPENDGATE_MCP_TOKEN: BASE.SPENDGATE_ADMIN_TOKEN,
      },
      'SPENDGATE_MCP_TOKEN',
    ],
  ])('refuses %j, naming %s', async (change, name) => {
    await expect(loadMcpConfig({ env: { ...BASE, ...change } })).rejects.toMatchObject({
      code: 'bad_request',
      details: { param: name },
    });
  });

  it('names a bad secret without repeating its value', async () => {
    const error = await loadMcpConfig({ env: { ...BASE, SPENDGATE_ADMIN_TOKEN: 'short-secret' } }).then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toContain('SPENDGATE_ADMIN_TOKEN');
    expect(error?.message).not.toContain('short-secret');
  });

  it('builds the HTTP options, loopback unless told otherwise', async () => {
    const config = await loadMcpConfig({
      env: {
        ...BASE,
        SPENDGATE_MCP_TRANSPORT: 'http',
        SPENDGATE_MCP_TOKEN: 'mcp-token-0123456789abcdef',
        SPENDGATE_MCP_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      },
    });
    expect(mcpOptionsFromConfig(config).http).toEqual({
      token: 'mcp-token-0123456789abcdef',
      issuerAuth: false,
      host: '127.0.0.1',
      port: 8788,
      allowedOrigins: ['https://a.example', 'https://b.example'],
      maxSessions: 100,
    });
  });

  it('gives each session one budget across vendors, with no vendor cap needed', async () => {
    const config = await loadMcpConfig({
      env: {
        ...BASE,
        SPENDGATE_MCP_STRIPE_USD_CAP: undefined,
        SPENDGATE_MCP_SESSION_USD_CAP: '7.5',
        SPENDGATE_MCP_VENDORS: 'stripe,twilio',
        SPENDGATE_MCP_TWILIO_MAX_USD_PER_CALL: '0.5',
        SPENDGATE_MCP_SMS_FROM: '+15005550006',
      },
    });
    const runtime = mcpOptionsFromConfig(config);
    expect(runtime.serve.budget).toEqual({
      ttl: 3600,
      usdCap: 7.5,
      caps: { stripe: {}, twilio: { maxUsdPerCall: 0.5 } },
    });
    // Both vendors are served: the session budget caps them together.
    expect(runtime.serve.tools.map((t) => t.name)).toEqual(['charge_customer', 'send_sms']);
  });

  it('creates every session budget under SPENDGATE_MCP_PARENT_BUDGET, with or without a session cap', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'spendgate-mcp-config-')), 'mcp.json');
    writeFileSync(
      file,
      JSON.stringify({ SPENDGATE_MCP_PARENT_BUDGET: 'bud_0123abcd', SPENDGATE_MCP_VENDORS: ['stripe'] }),
    );
    const parentOnly = await loadMcpConfig({
      env: { ...BASE, SPENDGATE_MCP_STRIPE_USD_CAP: undefined },
      file,
    });
    expect(mcpOptionsFromConfig(parentOnly).serve.budget).toEqual({
      ttl: 3600,
      parentBudgetId: 'bud_0123abcd',
      caps: { stripe: {} },
    });
    const both = await loadMcpConfig({
      env: BASE,
      file,
      overrides: { SPENDGATE_MCP_SESSION_USD_CAP: '2' },
    });
    expect(mcpOptionsFromConfig(both).serve.budget).toEqual({
      ttl: 3600,
      usdCap: 2,
      parentBudgetId: 'bud_0123abcd',
      caps: { stripe: { usdCap: 50 } },
    });
  });

  it('with issuer auth, the shared token is optional and each issuer token gets a client of its own', async () => {
    const config = await loadMcpConfig({
      env: { ...BASE, SPENDGATE_MCP_TRANSPORT: 'http' },
      // A bare `--issuer-auth` flag gives `true`.
      overrides: { SPENDGATE_MCP_ISSUER_AUTH: true },
    });
    expect(config.SPENDGATE_MCP_ISSUER_AUTH).toBe(true);
    const runtime = mcpOptionsFromConfig(config);
    expect(runtime.http).toMatchObject({ issuerAuth: true });
    expect(runtime.http?.token).toBeUndefined();
    const client = runtime.http?.issuerClient?.('it_client-issuer-token');
    expect(client?.baseUrl).toBe(runtime.serve.client.baseUrl);
    // The client object does not carry the token where a log or a serialiser could reach it.
    expect(JSON.stringify(client)).not.toContain('it_client-issuer-token');
    // The environment's `true` and `1` work too.
    for (const value of ['true', '1']) {
      const fromEnv = await loadMcpConfig({
        env: { ...BASE, SPENDGATE_MCP_TRANSPORT: 'http', SPENDGATE_MCP_ISSUER_AUTH: value },
      });
      expect(fromEnv.SPENDGATE_MCP_ISSUER_AUTH).toBe(true);
    }
  });

  it('loads the example config file as it ships', async () => {
    const config = await loadMcpConfig({ file: join(REPO_ROOT, 'examples/mcp/spendgate-mcp.config.json') });
    expect(mcpOptionsFromConfig(config).serve.budget.caps).toEqual({
      stripe: { usdCap: 25, maxUsdPerCall: 10, approvalAboveUsd: 5 },
    });
  });

  it('loads the issuer-auth example config file as it ships', async () => {
    const config = await loadMcpConfig({
      file: join(REPO_ROOT, 'examples/mcp/spendgate-mcp.issuer-auth.config.json'),
    });
    const runtime = mcpOptionsFromConfig(config);
    expect(runtime.serve.budget).toEqual({ ttl: 3600, usdCap: 10, caps: { stripe: { maxUsdPerCall: 5 } } });
    expect(runtime.http).toMatchObject({ issuerAuth: true });
    expect(runtime.http?.token).toBeUndefined();
  });

  it('maps each setting to its flag', () => {
    expect(mcpFlagFor('SPENDGATE_MCP_STRIPE_USD_CAP')).toBe('--stripe-usd-cap');
    expect(mcpFlagFor('SPENDGATE_MCP_IDLE_TIMEOUT')).toBe('--idle-timeout');
    expect(mcpFlagFor('SPENDGATE_URL')).toBe('--url');
    expect(mcpFlagFor('SPENDGATE_ADMIN_TOKEN')).toBe('--admin-token');
    expect(mcpFlagFor('SPENDGATE_MCP_SESSION_USD_CAP')).toBe('--session-usd-cap');
    expect(mcpFlagFor('SPENDGATE_MCP_PARENT_BUDGET')).toBe('--parent-budget');
    expect(mcpFlagFor('SPENDGATE_MCP_ISSUER_AUTH')).toBe('--issuer-auth');
  });
});
