import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createFakeStripe, serveFake, type ServedFake } from '../../src/testing/index.js';
import { describeWithPostgres, uniqueSchema } from '../helpers/postgres.js';
import {
  backendsFor,
  Fleet,
  HttpClient,
  pollUntil,
  STRIPE_SECRET,
  tally,
  TcpRelay,
  terminateBackends,
  viaPort,
  type JsonResponse,
  type ProxyProcess,
} from './helpers.js';

/**
 * Several `spendgate serve` processes on one PostgreSQL database: the cap holds across them, a revoke through
 * one is seen by the others, and an instance that loses the database fails closed and recovers by itself.
 * Real processes, real sockets, one fake Stripe upstream; all traffic stays on 127.0.0.1.
 */

const PRICE_CENTS = 500; // $5 per payment intent
const PRICE_USD = PRICE_CENTS / 100;

const stripeKey = (fields: Record<string, unknown>) => ({
  vendor: 'stripe',
  allowed_endpoints: ['POST /v1/payment_intents'],
  expires_in: '30m',
  ...fields,
});

describeWithPostgres('multi-instance: proxy processes sharing one PostgreSQL ledger', (pgUrl) => {
  const schema = uniqueSchema();
  const fake = createFakeStripe({ secretKey: STRIPE_SECRET });
  let upstream: ServedFake;
  let fleet: Fleet;
  let http: HttpClient;
  let p1: ProxyProcess;
  let p2: ProxyProcess;
  let p3: ProxyProcess;

  /** The `metadata[probe]` of every payment intent the upstream received whose probe starts with `prefix`. */
  const upstreamProbes = (prefix: string): string[] =>
    fake.requests
      .filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents')
      .map((r) => new URLSearchParams(r.body.toString('utf8')).get('metadata[probe]') ?? '')
      .filter((probe) => probe.startsWith(prefix));

  const keyView = async (proxy: ProxyProcess, id: string) => {
    const res = await http.admin(proxy.url, 'GET', `/v1/keys/${id}`);
    expect(res.status, res.text).toBe(200);
    return res.json as Record<string, unknown>;
  };

  /** On failure, print what the processes wrote: the reason is usually there. */
  const dumpOutputOnFailure = () =>
    onTestFailed(() => {
      console.error(fleet.outputs());
    });

  beforeAll(async () => {
    http = new HttpClient(400, 45_000);
    upstream = await serveFake(fake);
    fleet = new Fleet(pgUrl, schema, upstream.url);
    [p1, p2, p3] = (await fleet.spawnMany(['proxy-1', 'proxy-2', 'proxy-3'], {
      env: {
        // The burst below queues hundreds of calls per instance on its pool; the connect timeout also bounds
        // the wait for a free pooled connection, so it must outlast the queue (a 503 there would be fail-closed,
        // but this test is about the cap, not about saturation).
        SPENDGATE_DB_POOL_MAX: '10',
        SPENDGATE_DB_CONNECT_TIMEOUT_MS: '20000',
        SPENDGATE_DB_STATEMENT_TIMEOUT_MS: '20000',
      },
    })) as [ProxyProcess, ProxyProcess, ProxyProcess];
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    await fleet?.close();
    await upstream?.close();
  }, 60_000);

  it('admits exactly cap / price of 1,000 concurrent calls spread round-robin over three processes', async () => {
    dumpOutputOnFailure();
    const cap = 250;
    const admitted = cap / PRICE_USD; // 50
    const total = 1000;
    const proxies = [p1, p2, p3];
    const { id, token } = await http.issueKey(p1.url, stripeKey({ usd_cap: cap, label: 'mi-burst' }));

    const responses = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        http.paymentIntent(proxies[i % 3]!.url, token, PRICE_CENTS, `burst-${i}`),
      ),
    );

    expect(tally(responses)).toEqual({ '200': admitted, '429 cap_exhausted': total - admitted });
    const refused = responses.find((r) => r.status === 429);
    expect(refused?.json).toMatchObject({
      code: 'cap_exhausted',
      error: { type: 'spendgate_error', code: 'cap_exhausted', key_id: id },
    });
    // The upstream saw exactly the admitted calls, each once, and nothing else.
    const admittedProbes = responses.flatMap((r, i) => (r.status === 200 ? [`burst-${i}`] : []));
    const seen = upstreamProbes('burst-');
    expect(seen).toHaveLength(admitted);
    expect([...seen].sort()).toEqual([...admittedProbes].sort());
    // Refusals are answered first and recorded right after: wait (bounded) until the last row has landed.
    const recorded = await pollUntil(
      50,
      100,
      () => keyView(p1, id),
      (view) => view.denied_calls === total - admitted,
    );
    expect(recorded.value).toMatchObject({ denied_calls: total - admitted });
    // Every instance reads the same settled ledger.
    for (const proxy of proxies) {
      expect(await keyView(proxy, id)).toMatchObject({
        status: 'active',
        usd_cap: cap,
        spent_usd: cap,
        reserved_usd: 0,
        remaining_usd: 0,
        calls: admitted,
        denied_calls: total - admitted,
      });
    }
  }, 120_000);

  it('refuses on every instance each call that starts after a DELETE through another instance returned', async () => {
    dumpOutputOnFailure();
    const others = [p2, p3];
    const { id, token } = await http.issueKey(p1.url, stripeKey({ usd_cap: 100_000, label: 'mi-revoke' }));
    for (const proxy of others) {
      const res = await http.paymentIntent(proxy.url, token, PRICE_CENTS, `revoke-warm-${proxy.name}`);
      expect(res.status, res.text).toBe(200);
    }

    // In flight while the DELETE runs: these race it, and may go either way.
    const racing = Array.from({ length: 60 }, (_, i) =>
      http.paymentIntent(others[i % 2]!.url, token, PRICE_CENTS, `revoke-pre-${i}`),
    );
    const revoked = await http.admin(p1.url, 'DELETE', `/v1/keys/${id}`);
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.json).toMatchObject({ id, status: 'revoked' });
    const upstreamAtDelete = fake.requests.length;

    // Started after the DELETE returned: every one is refused, on both other instances.
    const after = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        http.paymentIntent(others[i % 2]!.url, token, PRICE_CENTS, `revoke-post-${i}`),
      ),
    );
    const before = await Promise.all(racing);
    // A second wave a little later, in case a cache somewhere only caught up slowly.
    await sleep(200);
    const later = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        http.paymentIntent([p1, p2, p3][i % 3]!.url, token, PRICE_CENTS, `revoke-post-late-${i}`),
      ),
    );

    expect(tally(after)).toEqual({ '401 key_revoked': 300 });
    expect(tally(later)).toEqual({ '401 key_revoked': 40 });
    expect(after[0]?.json).toMatchObject({ code: 'key_revoked', error: { code: 'key_revoked', key_id: id } });
    expect(upstreamProbes('revoke-post-')).toEqual([]);

    // The racing calls were either forwarded (reserved before the revoke) or refused; nothing else.
    const beforeTally = tally(before);
    for (const outcome of Object.keys(beforeTally)) expect(['200', '401 key_revoked']).toContain(outcome);
    const racedThrough = before.filter((r) => r.status === 200).length;
    expect(upstreamProbes('revoke-pre-')).toHaveLength(racedThrough);
    const forwardedAfterDelete = fake.requests
      .slice(upstreamAtDelete)
      .filter((r) =>
        new URLSearchParams(r.body.toString('utf8')).get('metadata[probe]')?.startsWith('revoke-'),
      );
    console.info(
      `revoke race: ${racedThrough}/60 in-flight calls were admitted before the revoke; ` +
        `${forwardedAfterDelete.length} of them reached the upstream after the DELETE had returned`,
    );

    const spent = PRICE_USD * (others.length + racedThrough);
    for (const proxy of [p1, p2, p3]) {
      expect(await keyView(proxy, id)).toMatchObject({
        status: 'revoked',
        spent_usd: spent,
        reserved_usd: 0,
      });
    }
  }, 90_000);

  /** Creates a budget through `proxy`; each level must expire no later than its parent. */
  const budget = async (proxy: ProxyProcess, fields: Record<string, unknown>): Promise<string> => {
    const res = await http.admin(proxy.url, 'POST', '/v1/budgets', fields);
    expect(res.status, res.text).toBe(201);
    return res.json.id as string;
  };
  const budgetView = async (proxy: ProxyProcess, id: string) => {
    const res = await http.admin(proxy.url, 'GET', `/v1/budgets/${id}`);
    expect(res.status, res.text).toBe(200);
    return res.json as Record<string, unknown>;
  };

  it('never passes any level of a three-level budget tree under 1,000 concurrent leaf calls over three processes', async () => {
    dumpOutputOnFailure();
    // Leaves allow 4 x 16 calls, runs 2 x 30, the tenant 50: the tenant binds, and must bind exactly.
    const tenant = await budget(p1, { usd_cap: 250, expires_in: '1h', label: 'mi-tree-tenant' });
    const runs = [
      await budget(p2, { usd_cap: 150, parent_id: tenant, expires_in: '50m' }),
      await budget(p3, { usd_cap: 150, parent_id: tenant, expires_in: '50m' }),
    ];
    const leaves: string[] = [];
    for (const run of runs) {
      for (let i = 0; i < 2; i += 1)
        leaves.push(await budget(p1, { usd_cap: 80, parent_id: run, expires_in: '40m' }));
    }
    const tokens: string[] = [];
    for (const leaf of leaves) {
      tokens.push((await http.issueKey(p1.url, stripeKey({ budget_id: leaf, label: 'mi-tree' }))).token);
    }
    const proxies = [p1, p2, p3];
    const total = 1000;
    const responses = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        http.paymentIntent(proxies[i % 3]!.url, tokens[i % tokens.length]!, PRICE_CENTS, `tree-${i}`),
      ),
    );
    expect(tally(responses)).toEqual({ '200': 50, '429 cap_exhausted': total - 50 });
    expect(responses.find((r) => r.status === 429)?.json).toMatchObject({
      error: { code: 'cap_exhausted', budget_id: expect.stringMatching(/^bud_/) },
    });
    expect(upstreamProbes('tree-')).toHaveLength(50);
    for (const proxy of proxies) {
      expect(await budgetView(proxy, tenant)).toMatchObject({
        spent_usd: 250,
        reserved_usd: 0,
        remaining_usd: 0,
      });
    }
    const runSpend = await Promise.all(
      runs.map(async (id) => (await budgetView(p2, id)).spent_usd as number),
    );
    expect(runSpend.reduce((a, b) => a + b, 0)).toBe(250);
    for (const spent of runSpend) expect(spent).toBeLessThanOrEqual(150);
    for (const leaf of leaves) expect((await budgetView(p3, leaf)).spent_usd).toBeLessThanOrEqual(80);
  }, 120_000);

  it('forwards no call that starts after a middle budget was revoked through another instance', async () => {
    dumpOutputOnFailure();
    const tenant = await budget(p1, { usd_cap: 100_000, expires_in: '1h', label: 'mi-tree-revoke' });
    const middle = await budget(p1, { parent_id: tenant, expires_in: '50m' });
    const sibling = await budget(p1, { parent_id: tenant, expires_in: '50m' });
    const leaf = await budget(p1, { parent_id: middle, expires_in: '40m' });
    const below = [
      (await http.issueKey(p1.url, stripeKey({ budget_id: middle }))).token,
      (await http.issueKey(p1.url, stripeKey({ budget_id: leaf }))).token,
    ];
    const beside = (await http.issueKey(p1.url, stripeKey({ budget_id: sibling }))).token;
    const racing = Array.from({ length: 60 }, (_, i) =>
      http.paymentIntent([p2, p3][i % 2]!.url, below[i % 2]!, PRICE_CENTS, `tree-rv-pre-${i}`),
    );
    const revoked = await http.admin(p1.url, 'DELETE', `/v1/budgets/${middle}`);
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.json).toMatchObject({ status: 'revoked', revoked_keys: 2, revoked_budgets: 2 });
    const after = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        http.paymentIntent([p2, p3][i % 2]!.url, below[i % 2]!, PRICE_CENTS, `tree-rv-post-${i}`),
      ),
    );
    await Promise.all(racing);
    expect(tally(after)).toEqual({ '401 key_revoked': 300 });
    expect(upstreamProbes('tree-rv-post-')).toEqual([]);
    const sideways = await http.paymentIntent(p3.url, beside, PRICE_CENTS, 'tree-rv-sibling');
    expect(sideways.status, sideways.text).toBe(200);
  }, 90_000);

  describe('an instance whose PostgreSQL goes away', () => {
    let relay: TcpRelay;
    let relayed: ProxyProcess;

    beforeAll(async () => {
      const target = new URL(pgUrl);
      relay = new TcpRelay(target.hostname, Number(target.port || 5432));
      await relay.start();
      relayed = await fleet.spawn('proxy-relayed', {
        db: viaPort(pgUrl, relay.port),
        env: { SPENDGATE_DB_CONNECT_TIMEOUT_MS: '500', SPENDGATE_DB_STATEMENT_TIMEOUT_MS: '1000' },
      });
    }, 60_000);

    afterEach(async () => {
      // Whatever a test did to the database path, the next one starts with it working.
      if (!relay) return;
      relay.heal();
      await relay.start();
    });

    afterAll(async () => {
      await relay?.stop();
    });

    /** The vault token the current test pays with, through the relayed instance. */
    let currentToken = '';
    const pay = (probe: string) => http.paymentIntent(relayed.url, currentToken, PRICE_CENTS, probe);

    it('answers 503 ledger_unavailable and forwards nothing while PostgreSQL is unreachable, then recovers without a restart', async () => {
      dumpOutputOnFailure();
      const key = await http.issueKey(relayed.url, stripeKey({ usd_cap: 1000, label: 'mi-outage' }));
      currentToken = key.token;
      expect((await pay('outage-before')).status).toBe(200);
      const port = relay.port;

      await relay.stop();
      const down: JsonResponse[] = [];
      for (let i = 0; i < 5; i += 1) down.push(await pay(`outage-down-seq-${i}`));
      down.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => pay(`outage-down-par-${i}`)))));
      expect(tally(down)).toEqual({ '503 ledger_unavailable': 25 });
      expect(down[0]?.json).toMatchObject({
        code: 'ledger_unavailable',
        error: { type: 'spendgate_error', code: 'ledger_unavailable', retryable: true },
      });
      expect(upstreamProbes('outage-down-')).toEqual([]);
      // The admin API fails closed the same way, rather than with a 500.
      const adminDown = await http.admin(relayed.url, 'GET', `/v1/keys/${key.id}`);
      expect(adminDown.status).toBe(503);
      expect(adminDown.json).toMatchObject({ code: 'ledger_unavailable' });

      // The outage is this instance's alone: the others still serve the same key.
      const elsewhere = await http.paymentIntent(p2.url, key.token, PRICE_CENTS, 'outage-elsewhere');
      expect(elsewhere.status, elsewhere.text).toBe(200);

      await relay.start();
      expect(relay.port).toBe(port);
      let attempt = 0;
      const recovery = await pollUntil(
        40,
        250,
        () => pay(`outage-recover-${attempt++}`),
        (r) => r.status === 200,
      );
      expect(recovery.value.status, recovery.value.text).toBe(200);
      for (const outcome of Object.keys(tally(recovery.history)))
        expect(['200', '503 ledger_unavailable']).toContain(outcome);
      const steady: JsonResponse[] = [];
      for (let i = 0; i < 5; i += 1) steady.push(await pay(`outage-after-${i}`));
      expect(tally(steady)).toEqual({ '200': 5 });

      expect(upstreamProbes('outage-recover-')).toHaveLength(1);
      expect(upstreamProbes('outage-after-')).toHaveLength(5);
      // Answers go out once journaled; the ledger catches up right after (bounded wait).
      await pollUntil(
        40,
        50,
        () => keyView(p3, key.id),
        (view) => view.reserved_usd === 0,
      );
      expect(await keyView(p3, key.id)).toMatchObject({
        spent_usd: PRICE_USD * (1 + 1 + 1 + 5),
        reserved_usd: 0,
        calls: 1 + 1 + 1 + 5,
      });
    }, 60_000);

    it('recovers when its backends are killed with pg_terminate_backend', async () => {
      dumpOutputOnFailure();
      // Issued through another instance, on the direct URL: the same ledger.
      const key = await http.issueKey(p1.url, stripeKey({ usd_cap: 1000, label: 'mi-terminate' }));
      currentToken = key.token;
      // Concurrent calls, so the relayed instance's pool holds several connections.
      const warm = await Promise.all(Array.from({ length: 8 }, (_, i) => pay(`term-warm-${i}`)));
      expect(tally(warm)).toEqual({ '200': 8 });

      const backends = await backendsFor(pgUrl, relay.upstreamPorts);
      expect(backends.length).toBeGreaterThan(0);
      for (const b of backends) expect(b.applicationName).toBe('spendgate');
      await terminateBackends(
        pgUrl,
        backends.map((b) => b.pid),
      );
      // The relay closes its side as each backend goes; give the pool a moment to notice.
      await sleep(300);

      const next: JsonResponse[] = [];
      for (let i = 0; i < 5; i += 1) next.push(await pay(`term-after-seq-${i}`));
      next.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => pay(`term-after-par-${i}`)))));
      expect(tally(next)).toEqual({ '200': 15 });
      const fresh = await backendsFor(pgUrl, relay.upstreamPorts);
      expect(fresh.length).toBeGreaterThan(0);
      expect(fresh.map((b) => b.pid)).not.toEqual(expect.arrayContaining(backends.map((b) => b.pid)));

      expect(upstreamProbes('term-after-')).toHaveLength(15);
      // Settlements go through the instance's journal after the reply; one whose first apply met a killed
      // connection is retried a second later. Wait (bounded) for the last one, then the ledger is exact.
      const settled = await pollUntil(
        50,
        100,
        () => keyView(p2, key.id),
        (view) => view.reserved_usd === 0,
      );
      expect(settled.value).toMatchObject({ spent_usd: PRICE_USD * 23, reserved_usd: 0 });
    }, 60_000);

    // Skipped: killing backends while calls are in flight crashes the proxy process today. PostgresStore's
    // #transaction attaches its 'error' listener one microtask after `await pool.connect()` hands the client
    // over; when the reply that freed that client and the backend's FATAL 57P01 arrive in one socket read, pg
    // emits 'error' on a client with no listener ("Unhandled 'error' event"). Enable once that is fixed.
    it('never under-counts when backends are killed mid-load, and serves again afterwards', async () => {
      dumpOutputOnFailure();
      const key = await http.issueKey(p1.url, stripeKey({ usd_cap: 1000, label: 'mi-terminate-load' }));
      currentToken = key.token;
      // allSettled: a rejection must not go unhandled while the test is busy terminating backends.
      const load = Promise.allSettled(Array.from({ length: 40 }, (_, i) => pay(`load-${i}`)));
      // Wait (bounded) until the load is under way, then kill every backend of this instance.
      await pollUntil(
        100,
        20,
        async () => upstreamProbes('load-').length,
        (n) => n >= 3,
      );
      const backends = await backendsFor(pgUrl, relay.upstreamPorts);
      await terminateBackends(
        pgUrl,
        backends.map((b) => b.pid),
      );
      const settled = await load;
      const failures = settled.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      expect(failures).toEqual([]);
      const responses = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));

      // A call either went through (200) or was refused before forwarding (503); never an internal error.
      for (const outcome of Object.keys(tally(responses)))
        expect(['200', '503 ledger_unavailable']).toContain(outcome);
      const forwarded = responses.filter((r) => r.status === 200).length;
      expect(upstreamProbes('load-')).toHaveLength(forwarded);

      let attempt = 0;
      const recovery = await pollUntil(
        20,
        250,
        () => pay(`load-recover-${attempt++}`),
        (r) => r.status === 200,
      );
      expect(recovery.value.status, recovery.value.text).toBe(200);
      // A settlement lost with its connection stays reserved: the ledger may over-count, never under-count.
      const view = await keyView(p3, key.id);
      const counted = Number(view.spent_usd) + Number(view.reserved_usd);
      expect(counted).toBeGreaterThanOrEqual(PRICE_USD * (forwarded + 1));
    }, 60_000);

    it('answers 503 within its timeouts while PostgreSQL stops answering (partition), then recovers', async () => {
      dumpOutputOnFailure();
      const key = await http.issueKey(p1.url, stripeKey({ usd_cap: 1000, label: 'mi-partition' }));
      currentToken = key.token;
      expect((await pay('part-before')).status).toBe(200);

      relay.partition();
      const started = performance.now();
      const down: JsonResponse[] = [];
      for (let i = 0; i < 2; i += 1) down.push(await pay(`part-down-seq-${i}`));
      down.push(...(await Promise.all(Array.from({ length: 5 }, (_, i) => pay(`part-down-par-${i}`)))));
      const elapsed = performance.now() - started;
      expect(tally(down)).toEqual({ '503 ledger_unavailable': 7 });
      expect(upstreamProbes('part-down-')).toEqual([]);
      // Three rounds, each bounded by the statement and connect timeouts (1 s + 1 s backstop, 0.5 s).
      expect(elapsed).toBeLessThan(20_000);

      relay.heal();
      let attempt = 0;
      const recovery = await pollUntil(
        40,
        250,
        () => pay(`part-recover-${attempt++}`),
        (r) => r.status === 200,
      );
      expect(recovery.value.status, recovery.value.text).toBe(200);
      expect(upstreamProbes('part-recover-')).toHaveLength(1);
    }, 60_000);
  });
});
