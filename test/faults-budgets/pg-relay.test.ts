import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
} from '../multi-instance/helpers.js';
import { checkPostgres } from './checker.js';
import {
  budgetViews,
  buildTree,
  levelFindings,
  PRICE_CENTS,
  PRICE_USD,
  upstreamByKey,
  upstreamByLevel,
  type Tree,
} from './fleet-helpers.js';

/**
 * The PostgreSQL connection of one proxy instance cut, stalled, or answering nothing (muteRepliesAfter)
 * while it serves budgeted keys; a second instance on a direct connection keeps paying from the same
 * levels. Afterwards every level's totals equal the sums of its subtree's reservations, every level's cap
 * holds by the ledger and by what the vendor saw, and every call answered 200 is settled.
 */
const STATEMENT_TIMEOUT_MS = 1000;
const LEASE_MS = 2000;
/** An abandon waits 2 x the statement timeout + 1 s before it gives a lost reservation back. */
const ABANDON_AFTER_MS = 2 * STATEMENT_TIMEOUT_MS + 1000;

describeWithPostgres('budgets survive a cut, stalled or muted PostgreSQL connection', (pgUrl) => {
  const schema = uniqueSchema();
  const fake = createFakeStripe({ secretKey: STRIPE_SECRET });
  let upstream: ServedFake;
  let fleet: Fleet;
  let http: HttpClient;
  let relay: TcpRelay;
  let observer: ProxyProcess;
  let relayed: ProxyProcess;
  let journals: string;
  const env = () => ({
    SPENDGATE_DB_CONNECT_TIMEOUT_MS: '500',
    SPENDGATE_DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    SPENDGATE_JOURNAL_DIR: journals,
    SPENDGATE_JOURNAL_ORPHAN_MS: '1500',
    SPENDGATE_LEASE_MS: String(LEASE_MS),
  });
  const spec = {
    budgets: [
      ['root', null, 200],
      ['m1', 'root', 120],
      ['l1', 'm1', 60],
      ['l2', 'm1', 60],
      ['m2', 'root', null],
    ] as Array<[string, string | null, number | null]>,
    keys: ['l1', 'l2', 'm1', 'root', 'm2'],
  };

  beforeAll(async () => {
    http = new HttpClient(300, 30_000);
    upstream = await serveFake(fake);
    fleet = new Fleet(pgUrl, schema, upstream.url);
    journals = await mkdtemp(join(tmpdir(), 'sg-fb-relay-'));
    const target = new URL(pgUrl);
    relay = new TcpRelay(target.hostname, Number(target.port || 5432));
    await relay.start();
    [observer, relayed] = await Promise.all([
      fleet.spawn('observer', { env: env() }),
      fleet.spawn('relayed', { db: viaPort(pgUrl, relay.port), env: env() }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    relay?.heal();
    await fleet?.close();
    await relay?.stop();
    await upstream?.close();
    if (journals) await rm(journals, { recursive: true, force: true });
  }, 60_000);

  const heal = async () => {
    relay.heal();
    await relay.start();
  };
  const dump = () => {
    fake.reset();
    onTestFailed(() => console.error(fleet.outputs()));
  };

  const load = (
    proxies: ProxyProcess[],
    tokens: string[],
    prefix: string,
    total: number,
    spacingMs = 0,
  ): Promise<Array<JsonResponse | null>> =>
    Promise.all(
      Array.from({ length: total }, async (_, i) => {
        if (spacingMs > 0) await sleep(i * spacingMs);
        return http
          .paymentIntent(
            proxies[i % proxies.length]?.url ?? '',
            tokens[i % tokens.length] ?? '',
            PRICE_CENTS,
            `${prefix}-${i % tokens.length}-${i}`,
          )
          .catch(() => null);
      }),
    );

  /** Waits (bounded) until nothing is in flight below the tree, then judges every level. */
  const judge = async (
    tree: Tree & { byName: Record<string, string> },
    prefixes: string[],
    answered: number,
  ) => {
    const drained = await pollUntil(
      150,
      100,
      async () => (await checkPostgres(pgUrl, schema)).totals.byBudget,
      (byBudget) => tree.levels.every((l) => byBudget[l.id]?.reserved === 0),
    );
    expect(tree.levels.map((l) => drained.value[l.id]?.reserved)).toEqual(tree.levels.map(() => 0));
    expect((await checkPostgres(pgUrl, schema)).violations).toEqual([]);
    const perKey = tree.keys.map(() => 0);
    for (const prefix of prefixes)
      upstreamByKey(fake, prefix, tree.keys.length).forEach((n, i) => (perKey[i] = (perKey[i] ?? 0) + n));
    const settled = await pollUntil(
      60,
      100,
      async () => {
        const root = (await budgetViews(http, observer, tree))[tree.byName.root ?? ''];
        return (root?.spent_usd ?? 0) - (root?.uncertain_usd ?? 0);
      },
      (usd) => usd === answered * PRICE_USD,
    );
    const views = await budgetViews(http, observer, tree);
    console.info('root after the fault:', views[tree.byName.root ?? ''], 'upstream per key', perKey);
    expect(levelFindings(tree, views, upstreamByLevel(tree, perKey))).toEqual([]);
    expect(settled.value, 'every call answered 200 is settled at the root').toBe(answered * PRICE_USD);
  };

  it('cut and then stalled mid-load: every level balances and holds its cap', async () => {
    dump();
    const tree = await buildTree(http, observer, spec);
    const tokens = tree.keys.map((k) => k.token);
    fake.delayNext(400, 200);
    const viaRelay = load([relayed], tokens, 'cut', 120, 15);
    const viaObserver = load([observer], tokens, 'cut-obs', 60, 40);
    await pollUntil(
      100,
      20,
      async () => upstreamByKey(fake, 'cut', tokens.length).reduce((x, y) => x + y, 0),
      (n) => n >= 8,
    );
    await relay.stop();
    await sleep(800);
    await relay.start();
    await sleep(300);
    relay.partition();
    await sleep(2500);
    await heal();
    const responses = [...(await viaRelay), ...(await viaObserver)];
    console.info('cut/stall:', tally(responses.filter((r): r is JsonResponse => r !== null)));
    const during = await checkPostgres(pgUrl, schema);
    expect(during.violations).toEqual([]);
    await judge(tree, ['cut', 'cut-obs'], responses.filter((r) => r?.status === 200).length);
  }, 60_000);

  it('a reservation whose answer is lost holds every level until its abandon, then comes back to each', async () => {
    dump();
    const tree = await buildTree(http, observer, spec);
    const [l1Key, l2Key] = tree.keys;
    if (!l1Key || !l2Key) throw new Error('no keys');
    // Settled first, so that the next statement carrying l1's key id (a bound parameter) is its reserve.
    expect((await http.paymentIntent(relayed.url, l1Key.token, PRICE_CENTS, 'mute-0-a')).status).toBe(200);
    await pollUntil(
      50,
      100,
      async () => (await checkPostgres(pgUrl, schema)).totals.byBudget[tree.byName.l1 ?? '']?.reserved,
      (reserved) => reserved === 0,
    );
    relay.muteRepliesAfter(l1Key.id);
    let answered = 1;
    try {
      const lost = await http.paymentIntent(relayed.url, l1Key.token, 1000, 'mute-0-b');
      expect(lost.status, lost.text).toBe(503);
      expect(lost.json).toMatchObject({ code: 'ledger_unavailable' });
      // Committed by PostgreSQL, never forwarded: held on l1, m1 and root. m1 has $120 - $5 - $10 left: the
      // observer fills it through l2 (cap $60) and m1's own key, and must stop at m1's cap exactly.
      const held = (await checkPostgres(pgUrl, schema)).totals.byBudget;
      for (const name of ['l1', 'm1', 'root'])
        expect(held[tree.byName[name] ?? '']?.committed, name).toBe(15_000_000);
      const m1Key = tree.keys[2];
      const fill = await load([observer], [l2Key.token, m1Key?.token ?? ''], 'mute-fill', 40);
      answered += fill.filter((r) => r?.status === 200).length;
      expect(fill.filter((r) => r?.status === 200)).toHaveLength((120 - 15) / PRICE_USD);
    } finally {
      await heal();
    }
    const back = await pollUntil(
      (ABANDON_AFTER_MS + 4000) / 200,
      200,
      async () => (await checkPostgres(pgUrl, schema)).totals.byBudget[tree.byName.m1 ?? '']?.committed,
      (committed) => committed === 110_000_000,
    );
    expect(back.value, 'm1 after the abandon: $5 settled on l1 + $105 filled').toBe(110_000_000);
    // The upstream never saw the muted call (fill probes use key indexes 0 and 1 of [l2, m1]).
    expect(fake.requests.filter((r) => r.body.toString().includes('mute-0-b'))).toHaveLength(0);
    const [viaL2 = 0, viaM1 = 0] = upstreamByKey(fake, 'mute-fill', 2);
    expect(upstreamByKey(fake, 'mute', tree.keys.length)[0]).toBe(1);
    expect(viaL2 + viaM1).toBe(21);
    expect(viaL2).toBeLessThanOrEqual(12);
    expect((await checkPostgres(pgUrl, schema)).violations).toEqual([]);
    expect(answered).toBe(22);
  }, 60_000);

  it('a lost reservation reaped as uncertain during a long stall is still abandoned on every level', async () => {
    dump();
    const tree = await buildTree(http, observer, spec);
    const key = tree.keys[1];
    if (!key) throw new Error('no key');
    expect((await http.paymentIntent(relayed.url, key.token, PRICE_CENTS, 'reap-1-a')).status).toBe(200);
    await pollUntil(
      50,
      100,
      async () => (await checkPostgres(pgUrl, schema)).totals.byBudget[tree.byName.l2 ?? '']?.reserved,
      (reserved) => reserved === 0,
    );
    relay.muteRepliesAfter(key.id);
    const lost = await http.paymentIntent(relayed.url, key.token, 2000, 'reap-1-b');
    expect(lost.status).toBe(503);
    // Now the whole connection goes silent for longer than the lease: the observer's reaper resolves the
    // relayed instance's in-flight reservation as uncertain (counted) on every level.
    relay.partition();
    const reaped = await pollUntil(
      60,
      100,
      async () => (await checkPostgres(pgUrl, schema)).totals.byBudget[tree.byName.root ?? ''],
      (root) => root?.uncertain === 20_000_000,
    );
    expect(reaped.value).toMatchObject({ reserved: 0, uncertain: 20_000_000, committed: 25_000_000 });
    expect((await checkPostgres(pgUrl, schema)).violations).toEqual([]);
    await heal();
    // Its abandon (journaled by the relayed instance) releases it from uncertain, on every level.
    const back = await pollUntil(
      (ABANDON_AFTER_MS + 6000) / 200,
      200,
      async () => (await checkPostgres(pgUrl, schema)).totals.byBudget,
      (byBudget) => ['l2', 'm1', 'root'].every((name) => byBudget[tree.byName[name] ?? '']?.uncertain === 0),
    );
    for (const name of ['l2', 'm1', 'root'])
      expect(back.value[tree.byName[name] ?? ''], name).toMatchObject({
        committed: 5_000_000,
        uncertain: 0,
        reserved: 0,
      });
    expect((await checkPostgres(pgUrl, schema)).violations).toEqual([]);
  }, 60_000);
});
