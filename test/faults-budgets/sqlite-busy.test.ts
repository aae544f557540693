import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createFakeStripe, serveFake, type ServedFake } from '../../src/testing/index.js';
import {
  HttpClient,
  pollUntil,
  spawnProxy,
  STRIPE_SECRET,
  type ProxyProcess,
} from '../multi-instance/helpers.js';
import { checkSqlite } from './checker.js';
import { buildTree, PRICE_CENTS, upstreamByKey } from './fleet-helpers.js';

/**
 * On SQLite the proxy writes a call's outcome straight to the file, with no journal and no retry
 * (recorder.ts `direct`: "ledger write failed; reservation kept as it was"). If that one write fails, e.g.
 * SQLITE_BUSY because another process (a second proxy, a backup, an operator's sqlite3 shell) held the write
 * lock for longer than the 5 s busy timeout, the reservation stays in flight for as long as the process
 * lives: its lease is renewed, so no reaper takes it. The vendor answered (the client got 200), yet the call's
 * money is shown as reserved, and held against every budget level, indefinitely.
 */
describe('a SQLite settle that loses the write lock once (SQLITE_BUSY)', () => {
  const fake = createFakeStripe({ secretKey: STRIPE_SECRET });
  let upstream: ServedFake;
  let http: HttpClient;
  let dir: string;
  let file: string;
  let proxy: ProxyProcess;

  beforeAll(async () => {
    http = new HttpClient(20, 30_000);
    upstream = await serveFake(fake);
    dir = await mkdtemp(join(tmpdir(), 'sg-fb-busy-'));
    file = join(dir, 'ledger.db');
    proxy = await spawnProxy({
      name: 'sqlite-busy',
      db: file,
      schema: 'public',
      stripeBaseUrl: upstream.url,
      // A lease well past the busy timeout: the instance stays alive and leased throughout.
      env: { SPENDGATE_LEASE_MS: '20000', SPENDGATE_JOURNAL_DIR: join(dir, 'journals') },
    });
  }, 60_000);

  afterAll(async () => {
    await http?.close();
    await proxy?.stop();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('keeps an answered call reserved on every level for as long as the process lives', async () => {
    onTestFailed(() => console.error(proxy.output()));
    const tree = await buildTree(http, proxy, {
      budgets: [
        ['root', null, 100],
        ['leaf', 'root', 20],
      ],
      keys: ['leaf'],
    });
    const key = tree.keys[0];
    if (!key) throw new Error('no key');
    fake.delayNext(1500);
    const call = http.paymentIntent(proxy.url, key.token, PRICE_CENTS, 'busy-0-a');
    await pollUntil(
      100,
      20,
      async () => upstreamByKey(fake, 'busy', 1)[0] ?? 0,
      (n) => n === 1,
    );
    // Reserved and forwarded. Another process takes the write lock for 6 s, across the settle.
    const other = new BetterSqlite3(file);
    other.pragma('busy_timeout = 5000');
    other.exec('BEGIN IMMEDIATE');
    let answer;
    try {
      answer = await call;
      await sleep(6000 - 1500);
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    expect(answer.status, answer.text).toBe(200);
    expect(proxy.output()).toContain('ledger write failed');
    // The lock is long gone; give the ledger 5 s more to settle it.
    const settled = await pollUntil(
      25,
      200,
      async () => checkSqlite(file).totals.byBudget,
      (byBudget) => tree.levels.every((l) => byBudget[l.id]?.reserved === 0),
    );
    expect(checkSqlite(file).violations).toEqual([]);
    expect(
      tree.levels.map((l) => settled.value[l.id]?.reserved),
      'the answered call is still in flight on every level',
    ).toEqual(tree.levels.map(() => 0));
  }, 60_000);
});
