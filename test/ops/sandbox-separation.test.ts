import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeStripe, serveFake } from '../../src/testing/index.js';
import { startSandboxProxy } from '../../src/server/sandbox.js';
import { startTestProxy } from '../helpers/proxy.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SECRET = 'sk_test_live_side_0000000000';
const KEY = { vendor: 'stripe', usd_cap: 20, allowed_endpoints: ['POST /v1/payment_intents'] };

describe('sandbox and live keep apart', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spendgate-modes-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('refuses a sandbox key on a live proxy sharing its SQLite file, and a live key on a sandbox', async () => {
    const db = join(dir, 'shared.db');
    const sandbox = await startTestProxy({ overrides: { SPENDGATE_SANDBOX: true, SPENDGATE_DB: db } });
    let sandboxKey: { id: string; token: string };
    try {
      sandboxKey = await sandbox.issue(KEY);
      expect((await sandbox.admin('GET', `/v1/keys/${sandboxKey.id}`)).json.metadata).toEqual({
        spendgate_mode: 'sandbox',
      });
      const faked = await sandbox.call('POST', '/v1/payment_intents', {
        token: sandboxKey.token,
        body: 'amount=500&currency=usd',
        headers: FORM,
      });
      expect(faked.status).toBe(200);
      expect(faked.headers.get('spendgate-sandbox')).toBe('true');
    } finally {
      await sandbox.close();
    }

    const fake = createFakeStripe({ secretKey: SECRET });
    const upstream = await serveFake(fake);
    const live = await startTestProxy({
      overrides: { SPENDGATE_DB: db, STRIPE_SECRET_KEY: SECRET, SPENDGATE_STRIPE_BASE_URL: upstream.url },
    });
    let liveKey: { id: string; token: string };
    try {
      // Still active in the shared ledger, and still refused: it was never a live key.
      expect((await live.admin('GET', `/v1/keys/${sandboxKey.id}`)).json.status).toBe('active');
      const refused = await live.call('POST', '/v1/payment_intents', {
        token: sandboxKey.token,
        body: 'amount=500&currency=usd',
        headers: FORM,
      });
      expect(refused.status).toBe(403);
      expect(refused.json).toMatchObject({
        code: 'key_mode_mismatch',
        error: { code: 'key_mode_mismatch', retryable: false, key_id: sandboxKey.id },
      });
      expect(refused.headers.get('stripe-should-retry')).toBe('false');
      expect(fake.requests).toHaveLength(0);
      const spend = (await live.admin('GET', `/v1/keys/${sandboxKey.id}`)).json;
      expect(spend).toMatchObject({ spent_usd: 5, reserved_usd: 0, calls: 1 });

      liveKey = await live.issue(KEY);
      const ok = await live.call('POST', '/v1/payment_intents', {
        token: liveKey.token,
        body: 'amount=500&currency=usd',
        headers: FORM,
      });
      expect(ok.status).toBe(200);
      expect(fake.requests).toHaveLength(1);
    } finally {
      await live.close();
      await upstream.close();
    }

    const again = await startTestProxy({ overrides: { SPENDGATE_SANDBOX: true, SPENDGATE_DB: db } });
    try {
      const refused = await again.call('POST', '/v1/payment_intents', {
        token: liveKey.token,
        body: 'amount=500&currency=usd',
        headers: FORM,
      });
      expect(refused.json.code).toBe('key_mode_mismatch');
      expect(again.proxy.fakes?.stripe.requests).toHaveLength(0);
    } finally {
      await again.close();
    }
  });

  it('keeps the mode entry for itself: a caller cannot set it', async () => {
    const t = await startTestProxy({ overrides: { SPENDGATE_SANDBOX: true } });
    try {
      const res = await t.admin('POST', '/v1/keys', { ...KEY, metadata: { spendgate_mode: 'live' } });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 'bad_request', error: { param: 'metadata.spendgate_mode' } });
      // As a filter it is the operator's way to revoke every sandbox key at once.
      await t.issue({ ...KEY, metadata: { run: 'r1' } });
      const bulk = await t.admin('POST', '/v1/keys/revoke', { metadata: { spendgate_mode: 'sandbox' } });
      expect(bulk.json).toEqual({ revoked: 1 });
    } finally {
      await t.close();
    }
  });

  it('never opens the live default ledger in sandbox mode', async () => {
    const cwd = process.cwd();
    const work = await mkdtemp(join(dir, 'cwd-'));
    process.chdir(work);
    try {
      // No SPENDGATE_DB: the live default, ./spendgate.db, is what the sandbox must not use.
      const t = await startTestProxy({
        overrides: { SPENDGATE_SANDBOX: true, SPENDGATE_DB: undefined },
      });
      try {
        await t.issue(KEY);
        expect(t.proxy.banner.at(-1)).toMatch(/; ledger: :memory:$/);
      } finally {
        await t.close();
      }
      expect(existsSync(join(work, 'spendgate.db'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it('says SANDBOX in its banner and lists the faked vendors; a live banner does not', async () => {
    const sandbox = await startSandboxProxy();
    try {
      expect(sandbox.banner[0]).toBe(`spendgate listening on ${sandbox.url}`);
      expect(sandbox.banner.join('\n')).toContain('SANDBOX');
      expect(sandbox.banner.join('\n')).toContain(
        'spendgate vendors: stripe=faked, twilio=faked, resend=faked',
      );
      expect(sandbox.banner.join('\n')).not.toContain('not configured');
    } finally {
      await sandbox.close();
    }
    const live = await startTestProxy({ overrides: { STRIPE_SECRET_KEY: SECRET } });
    try {
      const text = live.proxy.banner.join('\n');
      expect(text).not.toContain('SANDBOX');
      expect(text).toContain('stripe=configured, twilio=not configured, resend=not configured');
      expect(text).not.toContain(SECRET);
    } finally {
      await live.close();
    }
  });
});
