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
} from './fleet-helpers.js';

/**
 * `kill -9` of a proxy process mid-load on keys under a three-level budget tree, three processes on one
 * PostgreSQL schema. After the dead instance's lease lapses, every level's totals must equal the sums of its
 * subtree's reservations, nothing that may have moved is released, and no level let the vendor see more
 * than its cap allows. The checker also runs while the load is on: each money movement is one transaction,
 * so the books must balance in every snapshot.
 */
const LEASE_MS = 2000;

describeWithPostgres('budgets survive kill -9 on PostgreSQL', (pgUrl) => {
  const schema = uniqueSchema();
  const fake = createFakeStripe({ secretKey: STRIPE_SECRET });
  let upstream: ServedFake;
  let fleet: Fleet;
  let http: HttpClient;
  let a: ProxyProcess;
  let b: ProxyProcess;
  let journals: string;
  const env = () => ({
    SPENDGATE_DB_CONNECT_TIMEOUT_MS: '10000',
    SPENDGATE_DB_STATEMENT_TIMEOUT_MS: '2000',
    SPENDGATE_JOURNAL_DIR: journals,
    SPENDGATE_JOURNAL_ORPHAN_MS: '1500',
    SPENDGATE_LEASE_MS: String(LEASE_MS),
  });
  const spec = {
    budgets: [
      ['root', null, 300],
      ['m1', 'root', 150],
      ['m2', 'root', 200],
      ['l1', 'm1', 60],
      ['l2', 'm1', 70],
      ['l3', 'm2', 100],
    ] as Array<[string, string | null, number | null]>,
    keys: ['l1', 'l2', 'l3', 'm2', 'root', 'l1'],
  };

  beforeAll(async () => {
    http = new HttpClient(300, 30_000);
    upstream = await serveFake(fake);
    fleet = new Fleet(pgUrl, schema, upstream.url);
    journals = await mkdtemp(join(tmpdir(), 'sg-fb-kill-'));
    [a, b] = (await fleet.spawnMany(['a', 'b'], { env: env() })) as [ProxyProcess, ProxyProcess];
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    await fleet?.close();
    await upstream?.close();
    if (journals) await rm(journals, { recursive: true, force: true });
  }, 60_000);

  const dump = () => {
    // Hooks left from the previous test (unused delays) would change this one's timing.
    fake.reset();
    onTestFailed(() => console.error(fleet.outputs()));
  };

  /** Fires `total` calls round-robin over proxies and keys; a call to a killed process resolves to null. */
  const load = (
    proxies: ProxyProcess[],
    tokens: string[],
    prefix: string,
    total: number,
  ): Promise<Array<JsonResponse | null>> =>
    Promise.all(
      Array.from({ length: total }, (_, i) =>
        http
          .paymentIntent(
            proxies[i % proxies.length]?.url ?? '',
            tokens[i % tokens.length] ?? '',
            PRICE_CENTS,
            `${prefix}-${i % tokens.length}-${i}`,
          )
          .catch(() => null),
      ),
    );

  const settleDown = async (tree: { levels: Array<{ id: string }> }) =>
    pollUntil(
      150,
      100,
      async () => (await checkPostgres(pgUrl, schema)).totals.byBudget,
      (byBudget) => tree.levels.every((l) => byBudget[l.id]?.reserved === 0),
    );

  it('kill -9 mid-load: every level balances, uncertain stays counted, no level passes its cap', async () => {
    dump();
    const victim = await fleet.spawn('victim', { env: env() });
    const tree = await buildTree(http, a, spec);
    const tokens = tree.keys.map((k) => k.token);
    // Hold the vendor's answers so that many of the victim's calls are in flight (reserved, forwarded) at
    // the kill, while the two others keep paying from the same levels.
    fake.delayNext(1500, 120);
    const first = load([victim], tokens, 'kill', 40);
    const during: string[] = [];
    await pollUntil(
      100,
      20,
      async () => upstreamByKey(fake, 'kill', tokens.length).reduce((x, y) => x + y, 0),
      (n) => n >= 15,
    );
    const second = load([a, b], tokens, 'kill2', 200);
    during.push(...(await checkPostgres(pgUrl, schema)).violations);
    await sleep(100);
    await victim.kill();
    during.push(...(await checkPostgres(pgUrl, schema)).violations);
    const firstDone = await first;
    const responses = [...firstDone, ...(await second)];
    during.push(...(await checkPostgres(pgUrl, schema)).violations);
    const lost = responses.filter((r) => r === null).length;
    console.info(
      'kill-9 load:',
      tally(responses.filter((r): r is JsonResponse => r !== null)),
      `lost=${lost}`,
    );
    expect(lost).toBeGreaterThan(0);
    const drained = await settleDown(tree);
    expect(
      tree.levels.map((l) => drained.value[l.id]?.reserved),
      'reserved returns to 0 on every level once the lease lapsed',
    ).toEqual(tree.levels.map(() => 0));
    const check = await checkPostgres(pgUrl, schema);
    expect(check.violations).toEqual([]);
    expect(during).toEqual([]);
    const wave2 = upstreamByKey(fake, 'kill2', tokens.length);
    const perKey = upstreamByKey(fake, 'kill', tokens.length).map((n, i) => n + (wave2[i] ?? 0));
    const views = await budgetViews(http, b, tree);
    expect(levelFindings(tree, views, upstreamByLevel(tree, perKey))).toEqual([]);
    const root = views[tree.byName.root ?? ''];
    console.info('kill-9 root view:', root, 'upstream per key:', perKey);
    expect(root?.uncertain_usd).toBeGreaterThan(0);
    // Every call answered 200 settles (the victim's own answers from its orphaned journal, adopted by a or b).
    const answered = responses.filter((r) => r?.status === 200).length;
    const settledUsd = await pollUntil(
      40,
      100,
      async () => {
        const v = (await budgetViews(http, b, tree))[tree.byName.root ?? ''];
        return (v?.spent_usd ?? 0) - (v?.uncertain_usd ?? 0);
      },
      (usd) => usd === answered * PRICE_USD,
    );
    expect(settledUsd.value).toBe(answered * PRICE_USD);
  }, 90_000);

  it('kill -9 with settlements still in the journal: adoption and the reaper agree on every level', async () => {
    dump();
    const target = new URL(pgUrl);
    const relay = new TcpRelay(target.hostname, Number(target.port || 5432));
    await relay.start();
    try {
      const victim = await fleet.spawn('victim-relayed', { db: viaPort(pgUrl, relay.port), env: env() });
      const tree = await buildTree(http, a, spec);
      const tokens = tree.keys.map((k) => k.token);
      fake.delayNext(800, 60);
      const viaVictim = load([victim], tokens, 'jk1', 60);
      await pollUntil(
        100,
        20,
        async () => upstreamByKey(fake, 'jk1', tokens.length).reduce((x, y) => x + y, 0),
        (n) => n >= 20,
      );
      // The vendor answers while the ledger is silent: the settlements go to the victim's journal only.
      relay.partition();
      await sleep(900);
      await victim.kill();
      relay.heal();
      // Other instances keep paying from the same levels meanwhile.
      const victimAnswers = (await viaVictim).filter((r) => r?.status === 200).length;
      // Past the lease: the reaper makes the victim's reservations uncertain first; then an instance of the
      // same ledger URL starts, adopts the orphaned journal and settles what it proves, on every level.
      await sleep(LEASE_MS + 500);
      await fleet.spawn('victim-restarted', { db: viaPort(pgUrl, relay.port), env: env() });
      const more = await load([a, b], tokens, 'jk2', 60);
      console.info('journal-kill: second wave', tally(more.filter((r): r is JsonResponse => r !== null)));
      const drained = await settleDown(tree);
      expect(tree.levels.map((l) => drained.value[l.id]?.reserved)).toEqual(tree.levels.map(() => 0));
      // The orphaned journal is adopted after 1.5 s and may settle what the reaper already made uncertain.
      await sleep(3000);
      const check = await checkPostgres(pgUrl, schema);
      expect(check.violations).toEqual([]);
      const second = upstreamByKey(fake, 'jk2', tokens.length);
      const perKey = upstreamByKey(fake, 'jk1', tokens.length).map((n, i) => n + (second[i] ?? 0));
      const views = await budgetViews(http, b, tree);
      expect(levelFindings(tree, views, upstreamByLevel(tree, perKey))).toEqual([]);
      const root = views[tree.byName.root ?? ''];
      console.info('journal-kill root view:', root, { victimAnswers });
      const answered = victimAnswers + more.filter((r) => r?.status === 200).length;
      expect((root?.spent_usd ?? 0) - (root?.uncertain_usd ?? 0)).toBe(answered * PRICE_USD);
    } finally {
      relay.heal();
      await relay.stop();
    }
  }, 90_000);
});
