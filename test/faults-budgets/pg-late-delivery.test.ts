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
  viaPort,
  type ProxyProcess,
} from '../multi-instance/helpers.js';
import { BufferingRelay } from './buffering-relay.js';
import { checkPostgres } from './checker.js';
import { buildTree, PRICE_CENTS } from './fleet-helpers.js';

/**
 * The abandon path assumes that 2 x the statement timeout + 1 s after the proxy gave up on a reserve, no
 * statement for it can still commit ("once the ledger has had time to cancel any statement still running
 * for it"). PostgreSQL's statement_timeout only starts when the server receives the statement; a
 * partitioned network that heals delivers (retransmits) it later. Here the reserve is delivered after the
 * abandon has already run and found nothing. Found by this test: it committed, under a live instance whose
 * lease is renewed, so the reaper never took it and its amount stayed reserved on the key and every budget
 * level for good. Now the abandon leaves a tombstone (the `abandoned` table) and the late reserve is refused.
 */
const STATEMENT_TIMEOUT_MS = 1000;
const ABANDON_AFTER_MS = 2 * STATEMENT_TIMEOUT_MS + 1000;

describeWithPostgres(
  'a reserve delivered after its abandon (PostgreSQL, real network partition)',
  (pgUrl) => {
    const schema = uniqueSchema();
    const fake = createFakeStripe({ secretKey: STRIPE_SECRET });
    let upstream: ServedFake;
    let fleet: Fleet;
    let http: HttpClient;
    let journals: string | undefined;
    let relay: BufferingRelay;
    let observer: ProxyProcess;
    let relayed: ProxyProcess;

    beforeAll(async () => {
      http = new HttpClient(50, 30_000);
      upstream = await serveFake(fake);
      fleet = new Fleet(pgUrl, schema, upstream.url);
      journals = await mkdtemp(join(tmpdir(), 'sg-fb-late-'));
      const env = {
        SPENDGATE_DB_CONNECT_TIMEOUT_MS: '500',
        SPENDGATE_DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        SPENDGATE_JOURNAL_DIR: journals,
        SPENDGATE_JOURNAL_ORPHAN_MS: '1500',
        SPENDGATE_LEASE_MS: '2000',
      };
      const target = new URL(pgUrl);
      relay = new BufferingRelay(target.hostname, Number(target.port || 5432));
      await relay.start();
      observer = await fleet.spawn('observer', { env });
      relayed = await fleet.spawn('relayed', { db: viaPort(pgUrl, relay.port), env });
    }, 120_000);

    afterAll(async () => {
      await http?.close();
      await relay?.stop();
      await fleet?.close();
      await upstream?.close();
      if (journals) await rm(journals, { recursive: true, force: true });
    }, 60_000);

    it('refuses a reserve delivered after its abandon, so nothing stays held on any level', async () => {
      onTestFailed(() => console.error(fleet.outputs()));
      const tree = await buildTree(http, observer, {
        budgets: [
          ['root', null, 100],
          ['mid', 'root', 50],
          ['leaf', 'mid', 20],
        ],
        keys: ['leaf'],
      });
      const key = tree.keys[0];
      if (!key) throw new Error('no key');
      expect((await http.paymentIntent(relayed.url, key.token, PRICE_CENTS, 'late-0-warm')).status).toBe(200);
      await pollUntil(
        50,
        100,
        async () => (await checkPostgres(pgUrl, schema)).totals.byBudget[tree.byName.leaf ?? '']?.reserved,
        (reserved) => reserved === 0,
      );
      // The network fails just as the call's reserve is sent (the first statement to carry the key id): the
      // key was looked up, the reservation request is on the wire.
      relay.partitionWhenSent(key.id);
      const refused = await http.paymentIntent(relayed.url, key.token, 1000, 'late-0-lost');
      expect(refused.status, refused.text).toBe(503);
      expect(refused.json).toMatchObject({ code: 'ledger_unavailable' });
      // Past the abandon's notBefore while still partitioned; then the network heals: new connections now,
      // the old connection's retransmitted bytes (the reserve) 3 s later.
      await sleep(ABANDON_AFTER_MS + 300);
      relay.heal(3000);
      // The abandon is applied on a new connection within a second or two, and finds nothing.
      const abandoned = await pollUntil(
        40,
        200,
        async () => {
          const res = await http.admin(observer.url, 'GET', `/v1/audit?key_id=${key.id}&limit=50`);
          return (res.json.data as Array<{ code: string | null }>).filter(
            (r) => r.code === 'ledger_unavailable',
          );
        },
        (rows) => rows.length === 1,
      );
      expect(abandoned.value).toHaveLength(1);
      expect(fake.requests.filter((r) => r.body.toString().includes('late-0-lost'))).toHaveLength(0);
      // Then the late reserve lands (3 s after the heal). Give the ledger every chance to give it back:
      // several leases, reaps and journal retries.
      await sleep(4000);
      const held = await pollUntil(
        50,
        200,
        async () => (await checkPostgres(pgUrl, schema)).totals.byBudget,
        (byBudget) =>
          tree.levels.every((l) => byBudget[l.id]?.reserved === 0 && byBudget[l.id]?.uncertain === 0),
      );
      expect((await checkPostgres(pgUrl, schema)).violations).toEqual([]);
      const stuck = Object.fromEntries(
        tree.levels.map((l) => [
          l.id,
          { reserved: held.value[l.id]?.reserved, committed: held.value[l.id]?.committed },
        ]),
      );
      const rows = await http.admin(observer.url, 'GET', `/v1/reservations?key_id=${key.id}`);
      console.info('levels 10 s after the heal (the $10 call was never forwarded):', stuck, rows.json.data);
      // Only the $5 warm-up moved, so the leaf ($20) still has $15 for a call; the lost $10 must not stay
      // held on any level.
      const after = await http.paymentIntent(observer.url, key.token, 1500, 'late-0-after');
      expect({
        levels: tree.levels.map((l) => ({
          committed: held.value[l.id]?.committed,
          reserved: held.value[l.id]?.reserved,
        })),
        callThatFits: after.status,
      }).toEqual({
        levels: tree.levels.map(() => ({ committed: 5_000_000, reserved: 0 })),
        callThatFits: 200,
      });
    }, 60_000);
  },
);
