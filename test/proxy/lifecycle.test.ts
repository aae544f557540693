import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { createFakeStripe, serveFake } from '../../src/testing/index.js';
import { startStripeStack } from '../helpers/stripe-stack.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spendgate-life-'));
  dirs.push(dir);
  return join(dir, 'ledger.db');
}

describe('graceful stop', () => {
  it('finishes and settles an in-flight call, then closes the store', async () => {
    const db = tempDb();
    const s = await startStripeStack({ overrides: { SPENDGATE_DB: db } });
    const { id, token } = await s.t.issue({
      vendor: 'stripe',
      usd_cap: 50,
      allowed_endpoints: ['POST /v1/payment_intents'],
    });
    s.fake.delayNext(400);
    const inflight = s.sdk(token).paymentIntents.create({ amount: 1700, currency: 'usd' });
    await new Promise((r) => setTimeout(r, 100));
    const closing = s.t.proxy.close();
    const intent = await inflight;
    expect(intent.amount).toBe(1700);
    await closing;
    await s.close();

    const store = new SqliteStore({ filename: db });
    await store.init();
    expect(await store.getKey(id)).toMatchObject({ spent: 17_000_000, reserved: 0, calls: 1 });
    const audit = await store.queryAudit({ keyId: id, limit: 10 });
    expect(audit.data.map((r) => r.settlement)).toEqual(['settled']);
    await store.close();
  });
});

const bin = join(import.meta.dirname, '../../bin/spendgate.js');
const built = existsSync(join(import.meta.dirname, '../../dist/src/cli/main.js'));

describe.runIf(built || process.env.CI)('the spendgate CLI', () => {
  it('serves on a free port, prints where and which vendors, and stops cleanly on SIGTERM', async () => {
    const fake = createFakeStripe({ secretKey: 'sk_test_cli' });
    const upstream = await serveFake(fake);
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--db', tempDb()], {
      env: {
        PATH: process.env.PATH ?? '',
        SPENDGATE_ADMIN_TOKEN: 'cli-admin-token-0123456789',
        STRIPE_SECRET_KEY: 'sk_test_cli',
        SPENDGATE_STRIPE_BASE_URL: upstream.url,
        SPENDGATE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 15_000);
      child.stdout.on('data', () => {
        const match = /spendgate listening on (http:\/\/\S+)/.exec(out);
        if (match?.[1] && out.includes('spendgate vendors:')) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    expect(out).toContain('stripe=configured');
    expect(out).toContain('twilio=not configured');
    expect(out).not.toContain('sk_test_cli');
    const res = await fetch(`${url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: 'Bearer cli-admin-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ vendor: 'stripe', usd_cap: 5, allowed_endpoints: ['POST /v1/payment_intents'] }),
    });
    expect(res.status).toBe(201);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('spendgate stopped');
    await upstream.close();
  });

  it('refuses to start without an admin token, naming the setting', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    // A configuration error: exit code 2, as docs/cli.md documents.
    expect(code).toBe(2);
    expect(err).toContain('SPENDGATE_ADMIN_TOKEN');
  });
});
