import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createFakeStripe, serveFake, type ServedFake } from '../../src/testing/index.js';
import {
  HttpClient,
  pollUntil,
  spawnProxy,
  STRIPE_SECRET,
  tally,
  type JsonResponse,
  type ProxyProcess,
} from '../multi-instance/helpers.js';
import { checkSqlite } from './checker.js';
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
 * Three `spendgate serve` processes on one SQLite file, budgeted keys under load, one of them killed with
 * -9 while many of its calls are forwarded and unanswered. Afterwards (once its lease has lapsed and a live
 * process has reaped it) every level balances, uncertain spend stays counted, no level passes its cap, and
 * every call answered 200 is settled.
 */
const LEASE_MS = 2000;

describe('budgets survive kill -9 on one SQLite file shared by three processes', () => {
  const fake = createFakeStripe({ secretKey: STRIPE_SECRET });
  let upstream: ServedFake;
  let http: HttpClient;
  let dir: string;
  let file: string;
  const processes: ProxyProcess[] = [];
  const spawn = async (name: string) => {
    const proxy = await spawnProxy({
      name,
      db: file,
      schema: 'public',
      stripeBaseUrl: upstream.url,
      env: { SPENDGATE_LEASE_MS: String(LEASE_MS), SPENDGATE_JOURNAL_DIR: join(dir, 'journals') },
    });
    processes.push(proxy);
    return proxy;
  };

  beforeAll(async () => {
    http = new HttpClient(300, 30_000);
    upstream = await serveFake(fake);
    dir = await mkdtemp(join(tmpdir(), 'sg-fb-sqlite-'));
    file = join(dir, 'ledger.db');
    // One first, so the migrations run once; then the others.
    await spawn('s1');
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    await Promise.allSettled(processes.map((p) => p.stop()));
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

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

  it('kill -9 of one of three processes mid-load: every level balances and holds its cap', async () => {
    onTestFailed(() => console.error(processes.map((p) => `=== ${p.name}\n${p.output()}`).join('\n')));
    const [s2, victim] = await Promise.all([spawn('s2'), spawn('victim')]);
    const s1 = processes[0];
    if (!s1) throw new Error('no s1');
    const tree = await buildTree(http, s1, {
      budgets: [
        ['root', null, 250],
        ['m1', 'root', 150],
        ['m2', 'root', 150],
        ['l1', 'm1', 60],
        ['l2', 'm1', 60],
        ['l3', 'm2', 80],
      ],
      keys: ['l1', 'l2', 'l3', 'm1', 'm2', 'root'],
    });
    const tokens = tree.keys.map((k) => k.token);
    fake.delayNext(1500, 150);
    const first = load([victim], tokens, 'sq', 40);
    await pollUntil(
      100,
      20,
      async () => upstreamByKey(fake, 'sq', tokens.length).reduce((x, y) => x + y, 0),
      (n) => n >= 15,
    );
    const second = load([s1, s2], tokens, 'sq2', 160);
    const during = [...checkSqlite(file).violations];
    await sleep(100);
    await victim.kill();
    during.push(...checkSqlite(file).violations);
    const responses = [...(await first), ...(await second)];
    during.push(...checkSqlite(file).violations);
    const lost = responses.filter((r) => r === null).length;
    console.info(
      'sqlite kill-9:',
      tally(responses.filter((r): r is JsonResponse => r !== null)),
      `lost=${lost}`,
    );
    expect(lost).toBeGreaterThan(0);
    expect(during).toEqual([]);
    const drained = await pollUntil(
      100,
      100,
      async () => checkSqlite(file).totals.byBudget,
      (byBudget) => tree.levels.every((l) => byBudget[l.id]?.reserved === 0),
    );
    expect(tree.levels.map((l) => drained.value[l.id]?.reserved)).toEqual(tree.levels.map(() => 0));
    expect(checkSqlite(file).violations).toEqual([]);
    const second2 = upstreamByKey(fake, 'sq2', tokens.length);
    const perKey = upstreamByKey(fake, 'sq', tokens.length).map((n, i) => n + (second2[i] ?? 0));
    const views = await budgetViews(http, s2, tree);
    const root = views[tree.byName.root ?? ''];
    console.info('sqlite root:', root, 'upstream per key', perKey);
    expect(levelFindings(tree, views, upstreamByLevel(tree, perKey))).toEqual([]);
    expect(root?.uncertain_usd).toBeGreaterThan(0);
    const answered = responses.filter((r) => r?.status === 200).length;
    expect((root?.spent_usd ?? 0) - (root?.uncertain_usd ?? 0)).toBe(answered * PRICE_USD);
  }, 90_000);
});
