import { describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { Resend } from 'resend';
import { loadConfig } from '../../src/config/load-config.js';
import { startSandboxProxy } from '../../src/server/sandbox.js';
import { startProxy } from '../../src/server/start.js';

async function issue(url: string, adminToken: string, body: Record<string, unknown>) {
  const res = await fetch(`${url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as { id: string; token: string };
}

describe('sandbox mode', () => {
  it('answers every vendor in-process, marked so it cannot be mistaken for real, with caps enforced', async () => {
    const sandbox = await startSandboxProxy();
    try {
      const { token } = await issue(sandbox.url, sandbox.adminToken, {
        vendor: 'stripe',
        usd_cap: 10,
        allowed_endpoints: ['POST /v1/payment_intents'],
      });
      const port = Number(new URL(sandbox.url).port);
      const stripe = new Stripe(token, {
        host: '127.0.0.1',
        port,
        protocol: 'http',
        telemetry: false,
        maxNetworkRetries: 0,
      });
      const intent = await stripe.paymentIntents.create({ amount: 800, currency: 'usd' });
      expect(intent.livemode).toBe(false);
      expect(intent.lastResponse.headers['spendgate-sandbox']).toBe('true');
      const err = await stripe.paymentIntents
        .create({ amount: 800, currency: 'usd' })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ statusCode: 429, code: 'cap_exhausted' });
      expect(sandbox.fakes.stripe.requests).toHaveLength(1);

      const mail = await issue(sandbox.url, sandbox.adminToken, {
        vendor: 'resend',
        usd_cap: 1,
        allowed_endpoints: ['POST /emails'],
      });
      const resend = new Resend(mail.token, { baseUrl: `${sandbox.url}/resend` });
      const sent = await resend.emails.send({
        from: 'a@example.com',
        to: 'b@example.com',
        subject: 's',
        text: 't',
      });
      expect(sent.error).toBeNull();
      expect(sent.headers?.['spendgate-sandbox']).toBe('true');
    } finally {
      await sandbox.close();
    }
  });

  it('refuses to start while real vendor secrets are configured, unless told otherwise', async () => {
    const base = {
      SPENDGATE_ADMIN_TOKEN: 'sandbox-admin-token-000000',
      SPENDGATE_DB: ':memory:',
      SPENDGATE_PORT: 0,
      SPENDGATE_LOG_LEVEL: 'silent',
    };
    const risky = await loadConfig({
      overrides: { ...base, SPENDGATE_SANDBOX: true, STRIPE_SECRET_KEY: 'sk_live_real' },
    });
    await expect(startProxy({ config: risky })).rejects.toThrow(/STRIPE_SECRET_KEY/);
    const allowed = await loadConfig({
      overrides: {
        ...base,
        SPENDGATE_SANDBOX: true,
        STRIPE_SECRET_KEY: 'sk_live_real',
        SPENDGATE_SANDBOX_ALLOW_SECRETS: 'true',
      },
    });
    const proxy = await startProxy({ config: allowed });
    expect(proxy.fakes?.stripe.name).toBe('stripe');
    await proxy.close();
  });
});
