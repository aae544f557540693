import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeStack, type StripeStack } from '../helpers/stripe-stack.js';
import { startTestProxy } from '../helpers/proxy.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { valueOf } from './prometheus-text.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('GET /metrics', () => {
  let s: StripeStack;
  beforeAll(async () => {
    s = await startStripeStack({ overrides: { SPENDGATE_LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => s.close());

  const scrape = async () => {
    const res = await s.t.admin('GET', '/metrics');
    expect(res.status).toBe(200);
    return res.text;
  };
  const charge = (token: string, amount: number) =>
    s.t.call('POST', '/v1/payment_intents', { token, body: `amount=${amount}&currency=usd`, headers: FORM });

  it('counts allowed and denied calls by vendor and code, and the spend they settled', async () => {
    const { token } = await s.t.issue({
      vendor: 'stripe',
      usd_cap: 10,
      allowed_endpoints: ['POST /v1/payment_intents'],
    });
    const before = await scrape();
    const allowed = { vendor: 'stripe', decision: 'allowed', code: '' };
    const capped = { vendor: 'stripe', decision: 'denied', code: 'cap_exhausted' };
    expect(valueOf(before, 'spendgate_calls_total', allowed)).toBe(0);

    expect((await charge(token, 600)).status).toBe(200);
    const afterAllowed = await scrape();
    expect(valueOf(afterAllowed, 'spendgate_calls_total', allowed)).toBe(1);
    expect(valueOf(afterAllowed, 'spendgate_calls_total', capped)).toBe(0);
    expect(
      valueOf(afterAllowed, 'spendgate_spend_usd_total', { vendor: 'stripe', settlement: 'settled' }),
    ).toBe(6);
    expect(valueOf(afterAllowed, 'spendgate_upstream_seconds_count', { vendor: 'stripe' })).toBe(1);

    expect((await charge(token, 600)).json.code).toBe('cap_exhausted');
    expect((await charge('vk_not_a_key', 100)).json.code).toBe('key_invalid');
    const afterDenied = await scrape();
    expect(valueOf(afterDenied, 'spendgate_calls_total', allowed)).toBe(1);
    expect(valueOf(afterDenied, 'spendgate_calls_total', capped)).toBe(1);
    // A key nobody knows names no vendor.
    expect(valueOf(afterDenied, 'spendgate_calls_total', { vendor: '', code: 'key_invalid' })).toBe(1);
    // A refusal moves no money and reaches no vendor.
    expect(
      valueOf(afterDenied, 'spendgate_spend_usd_total', { vendor: 'stripe', settlement: 'settled' }),
    ).toBe(6);
    expect(valueOf(afterDenied, 'spendgate_upstream_seconds_count', { vendor: 'stripe' })).toBe(1);
    // Every call authenticated and the allowed one reserved, each a timed ledger operation.
    expect(
      valueOf(afterDenied, 'spendgate_ledger_seconds_count', { op: 'findKeyByTokenHash' }),
    ).toBeGreaterThanOrEqual(3);
    expect(valueOf(afterDenied, 'spendgate_ledger_seconds_count', { op: 'reserve' })).toBeGreaterThanOrEqual(
      2,
    );
  });

  it('reads the gauges from the ledger: active keys, and what calls in flight hold', async () => {
    const start = await scrape();
    const active = valueOf(start, 'spendgate_keys_active');
    const { token } = await s.t.issue({
      vendor: 'stripe',
      usd_cap: 50,
      allowed_endpoints: ['POST /v1/payment_intents'],
    });
    const revoked = await s.t.issue({ vendor: 'stripe', usd_cap: 1, allowed_endpoints: ['/v1/**'] });
    await s.t.admin('DELETE', `/v1/keys/${revoked.id}`);
    const issued = await scrape();
    expect(valueOf(issued, 'spendgate_keys_active')).toBe(active + 1);
    expect(valueOf(issued, 'spendgate_reserved_usd')).toBe(0);
    expect(valueOf(issued, 'spendgate_gauge_scan_truncated', { gauge: 'spendgate_keys_active' })).toBe(0);

    s.fake.delayNext(1500);
    const seen = s.fake.requests.length;
    const inFlight = charge(token, 1234);
    for (let i = 0; i < 100 && s.fake.requests.length === seen; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(s.fake.requests.length).toBe(seen + 1);
    expect(valueOf(await scrape(), 'spendgate_reserved_usd')).toBe(12.34);
    expect((await inFlight).status).toBe(200);
    expect(valueOf(await scrape(), 'spendgate_reserved_usd')).toBe(0);
  });

  it('carries the default process metrics, on a registry of its own per proxy', async () => {
    const text = await scrape();
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE spendgate_ledger_seconds histogram');
    const other = await startTestProxy({ overrides: { SPENDGATE_LOG_LEVEL: 'silent' } });
    try {
      const fresh = await other.admin('GET', '/metrics');
      expect(fresh.status).toBe(200);
      expect(valueOf(fresh.text, 'spendgate_calls_total', { vendor: 'stripe', decision: 'allowed' })).toBe(0);
      expect(
        valueOf(text, 'spendgate_calls_total', { vendor: 'stripe', decision: 'allowed' }),
      ).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  it('backs every metric the sample Grafana dashboard queries', async () => {
    const dashboard = await readFile(join(import.meta.dirname, '../../docs/grafana-dashboard.json'), 'utf8');
    const queried = new Set(dashboard.match(/\b(?:spendgate|process|nodejs)_[a-z0-9_]+/g) ?? []);
    expect(queried.size).toBeGreaterThan(5);
    const exported = new Set(
      [...(await scrape()).matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name = '', type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name],
      ),
    );
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('needs the admin token: 401 without it, 403 for a vault key', async () => {
    const none = await s.t.call('GET', '/metrics');
    expect(none.status).toBe(401);
    expect(none.json.code).toBe('unauthorized');
    const wrong = await s.t.call('GET', '/metrics', {
      headers: { authorization: 'Bearer not-the-admin-token' },
    });
    expect(wrong.status).toBe(401);
    const { token } = await s.t.issue({ vendor: 'stripe', usd_cap: 1, allowed_endpoints: ['/v1/**'] });
    const vault = await s.t.call('GET', '/metrics', { token });
    expect(vault.status).toBe(403);
    expect(vault.json.code).toBe('admin_token_required');
    const ok = await s.t.admin('GET', '/metrics');
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});

describe('GET /metrics with SPENDGATE_METRICS_PUBLIC', () => {
  it('answers without a token when public, and still with one', async () => {
    const t = await startTestProxy({
      overrides: { SPENDGATE_METRICS_PUBLIC: 'true', SPENDGATE_LOG_LEVEL: 'silent' },
    });
    try {
      const open = await t.call('GET', '/metrics');
      expect(open.status).toBe(200);
      expect(open.text).toContain('# TYPE spendgate_calls_total counter');
      expect((await t.admin('GET', '/metrics')).status).toBe(200);
      // Public metrics open nothing else.
      expect((await t.call('GET', '/v1/keys')).status).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('answers NaN gauges, not a failed scrape, while the ledger cannot be read', async () => {
    const store = new MemoryStore();
    await store.init();
    store.listReservations = () => Promise.reject(new Error('ledger down'));
    const t = await startTestProxy({ store, overrides: { SPENDGATE_LOG_LEVEL: 'silent' } });
    try {
      const res = await t.admin('GET', '/metrics');
      expect(res.status).toBe(200);
      expect(valueOf(res.text, 'spendgate_reserved_usd')).toBeNaN();
      expect(valueOf(res.text, 'spendgate_keys_active')).toBeNaN();
      expect(res.text).toContain('process_cpu_user_seconds_total');
      expect(t.logs.some((line) => line.includes('ledger gauges unavailable'))).toBe(true);
    } finally {
      await t.close();
    }
  });
});
