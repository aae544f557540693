import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { createFakeStripe, serveFake, type ServedFake } from '../../src/testing/index.js';
import { describeWithPostgres, uniqueSchema } from '../helpers/postgres.js';
import {
  Fleet,
  HttpClient,
  pollUntil,
  STRIPE_SECRET,
  tally,
  TcpRelay,
  viaPort,
  type JsonResponse,
  type ProxyProcess,
} from './helpers.js';

/**
 * Faults without leaks: a proxy process reaching PostgreSQL through a TCP relay that can cut the
 * connection or silently stop moving bytes, and `kill -9`. Each test asserts on the ledger and on what the
 * fake vendor saw. Every wait is bounded.
 */
const PRICE_CENTS = 500;
const STATEMENT_TIMEOUT_MS = 1000;
/** How long the fake vendor holds its answer in the partition tests. */
const VENDOR_HOLD_MS = 500;

describeWithPostgres('faults: fail fast, settle durably, audit everything', (pgUrl) => {
  const schema = uniqueSchema();
  const fake = createFakeStripe({ secretKey: STRIPE_SECRET });
  let upstream: ServedFake;
  let fleet: Fleet;
  let http: HttpClient;
  let relay: TcpRelay;
  let journals: string;
  let proxy: ProxyProcess;
  let observer: ProxyProcess;
  let relayedDb: string;

  const env = () => ({
    SPENDGATE_DB_CONNECT_TIMEOUT_MS: '500',
    SPENDGATE_DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    SPENDGATE_JOURNAL_DIR: journals,
    SPENDGATE_JOURNAL_ORPHAN_MS: '1500',
    SPENDGATE_LEASE_MS: '2000',
  });
  const stripeKey = (label: string) => ({
    vendor: 'stripe',
    usd_cap: 1000,
    allowed_endpoints: ['POST /v1/payment_intents'],
    label,
  });
  const keyView = async (id: string) => (await http.admin(observer.url, 'GET', `/v1/keys/${id}`)).json;
  const auditRows = async (keyId: string) =>
    (await http.admin(observer.url, 'GET', `/v1/audit?key_id=${keyId}&limit=500`)).json.data as Array<
      Record<string, unknown>
    >;
  const seen = (prefix: string) =>
    fake.requests.filter((r) =>
      (new URLSearchParams(r.body.toString()).get('metadata[probe]') ?? '').startsWith(prefix),
    );

  beforeAll(async () => {
    http = new HttpClient(100, 20_000);
    upstream = await serveFake(fake);
    fleet = new Fleet(pgUrl, schema, upstream.url);
    journals = await mkdtemp(join(tmpdir(), 'spendgate-faults-'));
    const target = new URL(pgUrl);
    relay = new TcpRelay(target.hostname, Number(target.port || 5432));
    await relay.start();
    relayedDb = viaPort(pgUrl, relay.port);
    // The direct instance is the observer: it reads the ledger while the relayed one suffers.
    observer = await fleet.spawn('observer', { env: env() });
    proxy = await fleet.spawn('relayed', { db: relayedDb, env: env() });
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    await fleet?.close();
    await relay?.stop();
    await upstream?.close();
  }, 60_000);

  const heal = async () => {
    relay.heal();
    await relay.start();
  };
  const dump = () => onTestFailed(() => console.error(fleet.outputs()));

  it('answers a silent partition with a 503 within the statement timeout, and /readyz tells the truth', async () => {
    dump();
    const { token } = await http.issueKey(proxy.url, stripeKey('fault-partition'));
    expect((await http.paymentIntent(proxy.url, token, PRICE_CENTS, 'part-before')).status).toBe(200);
    expect((await http.send(proxy.url, 'GET', '/readyz', {})).status).toBe(200);
    relay.partition();
    const started = performance.now();
    const refused = await http.paymentIntent(proxy.url, token, PRICE_CENTS, 'part-during');
    const elapsed = performance.now() - started;
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ code: 'ledger_unavailable' });
    // One deadline: the statement timeout (plus the connect timeout if a fresh connection was needed).
    expect(elapsed).toBeLessThan(STATEMENT_TIMEOUT_MS * 1.1 + 500 + 500); // + scheduling slack on a busy CI box
    const notReady = await pollUntil(
      20,
      100,
      () => http.send(proxy.url, 'GET', '/readyz', {}),
      (r) => r.status === 503,
    );
    expect(notReady.value.json).toMatchObject({ code: 'ledger_unavailable' });
    expect((await http.send(proxy.url, 'GET', '/healthz', {})).status).toBe(200);
    expect(seen('part-during')).toHaveLength(0);
    await heal();
    const ready = await pollUntil(
      40,
      100,
      () => http.send(proxy.url, 'GET', '/readyz', {}),
      (r) => r.status === 200,
    );
    expect(ready.value.status).toBe(200);
  }, 60_000);

  it('gives back a reservation the ledger committed but whose answer was lost: it was never forwarded', async () => {
    dump();
    const { id, token } = await http.issueKey(proxy.url, stripeKey('fault-lost-reply'));
    expect((await http.paymentIntent(proxy.url, token, PRICE_CENTS, 'lost-before')).status).toBe(200);
    // Settled first, so that the next statement to carry the key id (a bound parameter) is the reservation:
    // its answer is the one dropped.
    await pollUntil(
      50,
      100,
      () => keyView(id),
      (k) => k.spent_usd === PRICE_CENTS / 100 && k.reserved_usd === 0,
    );
    relay.muteRepliesAfter(id);
    try {
      const refused = await http.paymentIntent(proxy.url, token, PRICE_CENTS, 'lost-during');
      expect(refused.status).toBe(503);
      expect(refused.json).toMatchObject({ code: 'ledger_unavailable' });
      expect(seen('lost-during')).toHaveLength(0);
      // PostgreSQL committed the reservation; only its answer was lost. It is held against the cap, though
      // nothing left.
      const held = await keyView(id);
      expect(held.reserved_usd + held.uncertain_usd).toBe(PRICE_CENTS / 100);
    } finally {
      await heal();
    }
    // The refusal's journal entry gives it back once the ledger has cancelled any statement still running
    // for it (2 x the statement timeout + 1 s): whichever state it was in, it returns to the budget.
    const back = await pollUntil(
      80,
      200,
      () => keyView(id),
      (k) => k.reserved_usd === 0 && k.uncertain_usd === 0,
    );
    expect(back.value).toMatchObject({ spent_usd: PRICE_CENTS / 100, reserved_usd: 0, uncertain_usd: 0 });
    const refusals = (await auditRows(id)).filter((r) => r.code === 'ledger_unavailable');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ decision: 'denied' });
  }, 60_000);

  it('gets a vendor-answered call to its client during a partition, and settles it once the ledger is back', async () => {
    dump();
    const { id, token } = await http.issueKey(proxy.url, stripeKey('fault-answered'));
    // The vendor holds its answer; meanwhile the ledger goes silent.
    fake.delayNext(VENDOR_HOLD_MS);
    const call = http.paymentIntent(proxy.url, token, PRICE_CENTS, 'answered-1');
    // The vendor has the call (so its reservation is committed); now the ledger goes silent.
    await pollUntil(
      200,
      10,
      async () => seen('answered-1').length,
      (n) => n === 1,
    );
    relay.partition();
    const started = performance.now();
    const res = await call;
    expect(res.status, res.text).toBe(200);
    // It did not wait for the silent ledger's deadline after the vendor answered.
    expect(performance.now() - started).toBeLessThan(VENDOR_HOLD_MS + STATEMENT_TIMEOUT_MS * 0.9);
    expect(seen('answered-1')).toHaveLength(1);
    await heal();
    const settled = await pollUntil(
      60,
      100,
      () => keyView(id),
      (view) => view.reserved_usd === 0,
    );
    expect(settled.value).toMatchObject({ spent_usd: 5, reserved_usd: 0, uncertain_usd: 0 });
    const rows = await auditRows(id);
    expect(rows.filter((r) => r.decision === 'allowed')).toHaveLength(1);
    expect(rows[0]).toMatchObject({ settlement: 'settled', upstream_status: 200 });
  }, 60_000);

  it('writes an audit row for every refusal made while the ledger was unreachable', async () => {
    dump();
    const { id, token } = await http.issueKey(proxy.url, stripeKey('fault-outage'));
    expect((await http.paymentIntent(proxy.url, token, PRICE_CENTS, 'outage-ok')).status).toBe(200);
    const since = new Date().toISOString();
    await relay.stop();
    const down: JsonResponse[] = [];
    for (let i = 0; i < 4; i += 1)
      down.push(await http.paymentIntent(proxy.url, token, PRICE_CENTS, `out-${i}`));
    down.push(
      ...(await Promise.all(
        Array.from({ length: 8 }, (_, i) => http.paymentIntent(proxy.url, token, PRICE_CENTS, `out-p${i}`)),
      )),
    );
    expect(tally(down)).toEqual({ '503 ledger_unavailable': 12 });
    expect(seen('out-')).toHaveLength(0);
    await relay.start();
    // The key is unknown to a proxy that cannot read the ledger, so these rows carry no key id: find them by
    // code, among the rows recorded since the outage began.
    const outageRows = async () => {
      const res = await http.admin(
        observer.url,
        'GET',
        `/v1/audit?decision=denied&since=${encodeURIComponent(since)}&limit=500`,
      );
      return (res.json.data as Array<Record<string, unknown>>).filter((r) => r.code === 'ledger_unavailable');
    };
    const landed = await pollUntil(60, 100, outageRows, (rows) => rows.length >= 12);
    expect(landed.value).toHaveLength(12);
    expect((await keyView(id)).calls).toBe(1);
    expect((await auditRows(id)).filter((r) => r.decision === 'allowed')).toHaveLength(1);
  }, 60_000);

  it('applies, exactly once, a journal entry written before a kill -9, when the next instance starts', async () => {
    dump();
    const { id, token } = await http.issueKey(proxy.url, stripeKey('fault-crash'));
    fake.delayNext(VENDOR_HOLD_MS);
    const call = http.paymentIntent(proxy.url, token, PRICE_CENTS, 'crash-1');
    await pollUntil(
      200,
      10,
      async () => seen('crash-1').length,
      (n) => n === 1,
    );
    relay.partition();
    expect((await call).status).toBe(200);
    // Answered and journaled, not yet in the ledger: the process dies now.
    await proxy.kill();
    await heal();
    expect(await keyView(id)).toMatchObject({ reserved_usd: 5 });
    await sleep(1600); // past SPENDGATE_JOURNAL_ORPHAN_MS: the dead instance's journal is now an orphan
    proxy = await fleet.spawn('relayed-restarted', { db: relayedDb, env: env() });
    const settled = await pollUntil(
      60,
      100,
      () => keyView(id),
      (view) => view.reserved_usd === 0,
    );
    expect(settled.value).toMatchObject({ spent_usd: 5, reserved_usd: 0, calls: 1 });
    // Restart once more: nothing is applied twice.
    await proxy.stop();
    await sleep(1600);
    proxy = await fleet.spawn('relayed-again', { db: relayedDb, env: env() });
    await sleep(1200);
    expect(await keyView(id)).toMatchObject({ spent_usd: 5, reserved_usd: 0, calls: 1 });
    const rows = await auditRows(id);
    expect(rows.filter((r) => r.decision === 'allowed')).toHaveLength(1);
    expect(seen('crash-1')).toHaveLength(1);
  }, 90_000);

  it('returns reserved_usd to 0 after a kill -9 mid-load, with one settled or uncertain row per call', async () => {
    dump();
    const victim = await fleet.spawn('victim', { env: env() });
    const { id, token } = await http.issueKey(victim.url, stripeKey('fault-kill'));
    fake.delayNext(1500, 20);
    const calls = Array.from({ length: 20 }, (_, i) =>
      http.paymentIntent(victim.url, token, PRICE_CENTS, `kill-${i}`).catch(() => null),
    );
    await pollUntil(
      50,
      20,
      async () => seen('kill-').length,
      (n) => n >= 10,
    );
    await victim.kill();
    await Promise.all(calls);
    expect((await keyView(id)).reserved_usd).toBeGreaterThan(0);
    // The observer's reaper resolves the dead instance's reservations once its lease has lapsed.
    const drained = await pollUntil(
      100,
      100,
      () => keyView(id),
      (view) => view.reserved_usd === 0,
    );
    expect(drained.value).toMatchObject({ reserved_usd: 0 });
    const view = drained.value;
    const rows = (await auditRows(id)).filter((r) => r.decision === 'allowed');
    // One row per reservation, each settled or kept uncertain (counted): none lost, none released.
    expect(rows).toHaveLength(view.calls);
    for (const row of rows) expect(['settled', 'uncertain']).toContain(row.settlement);
    expect(view.calls).toBeGreaterThanOrEqual(seen('kill-').length);
    expect(view.spent_usd).toBe(view.calls * 5);
    expect(view.uncertain_usd).toBe(rows.filter((r) => r.settlement === 'uncertain').length * 5);
  }, 60_000);
});
