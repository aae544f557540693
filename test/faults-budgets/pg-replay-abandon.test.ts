import { mkdtemp, rm } from 'node:fs/promises';
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
  TcpRelay,
  viaPort,
  type ProxyProcess,
} from '../multi-instance/helpers.js';
import { checkPostgres } from './checker.js';
import { buildTree, upstreamByKey } from './fleet-helpers.js';

/**
 * The abandon and the idempotent replay disagree about one reservation.
 *
 * 1. Instance A reserves a call with an Idempotency-Key; PostgreSQL commits, the answer is lost: A refuses
 *    the call (503) and journals an abandon ("never forwarded, give it back").
 * 2. A stays cut off past its lease: instance B's reaper makes the reservation `uncertain` (counted).
 * 3. The client's SDK retries the same request, same Idempotency-Key, through B. The claim is uncertain, so
 *    the ledger answers `replay` and B forwards it. For the vendor it is the first time: the payment is made.
 *    Its answer is a 5xx, which for a replay records nothing (vendor-call.ts: `reservation.replay ?
 *    { kind: 'none' } : { kind: 'uncertain' }`): the reservation stays uncertain, still counted. Fine so far.
 * 4. A reaches the ledger again and applies its abandon: it releases that reservation, uncertain because it
 *    was reaped, on the key and on every budget level (postgres-store.ts abandon, the `reaped` arm).
 *
 * The payment the replay made is no longer counted anywhere, and the budget admits it again: the vendor is
 * asked for twice the leaf's cap.
 */
const STATEMENT_TIMEOUT_MS = 1000;
const LEASE_MS = 2000;

describeWithPostgres(
  'an abandon releases a reservation that an idempotent replay forwarded (PostgreSQL)',
  (pgUrl) => {
    const schema = uniqueSchema();
    const fake = createFakeStripe({ secretKey: STRIPE_SECRET });
    let upstream: ServedFake;
    let fleet: Fleet;
    let http: HttpClient;
    let journals: string | undefined;
    let relay: TcpRelay;
    let a: ProxyProcess;
    let b: ProxyProcess;

    beforeAll(async () => {
      http = new HttpClient(20, 30_000);
      upstream = await serveFake(fake);
      fleet = new Fleet(pgUrl, schema, upstream.url);
      journals = await mkdtemp(join(tmpdir(), 'sg-fb-replay-'));
      const env = {
        SPENDGATE_DB_CONNECT_TIMEOUT_MS: '500',
        SPENDGATE_DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        SPENDGATE_JOURNAL_DIR: journals,
        SPENDGATE_JOURNAL_ORPHAN_MS: '1500',
        SPENDGATE_LEASE_MS: String(LEASE_MS),
      };
      const target = new URL(pgUrl);
      relay = new TcpRelay(target.hostname, Number(target.port || 5432));
      await relay.start();
      b = await fleet.spawn('b-direct', { env });
      a = await fleet.spawn('a-relayed', { db: viaPort(pgUrl, relay.port), env });
    }, 120_000);

    afterAll(async () => {
      await http?.close();
      relay?.heal();
      await fleet?.close();
      await relay?.stop();
      await upstream?.close();
      if (journals) await rm(journals, { recursive: true, force: true });
    }, 60_000);

    const pay = (proxy: ProxyProcess, token: string, cents: number, probe: string, idempotencyKey: string) =>
      http.send(
        proxy.url,
        'POST',
        '/v1/payment_intents',
        {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-www-form-urlencoded',
          'idempotency-key': idempotencyKey,
        },
        new URLSearchParams({ amount: String(cents), currency: 'usd', 'metadata[probe]': probe }).toString(),
      );

    it('lets the vendor be asked for twice the leaf cap', async () => {
      onTestFailed(() => console.error(fleet.outputs()));
      const tree = await buildTree(http, b, {
        budgets: [
          ['root', null, 100],
          ['leaf', 'root', 10],
        ],
        keys: ['leaf'],
      });
      const key = tree.keys[0];
      const leaf = tree.byName.leaf ?? '';
      if (!key) throw new Error('no key');
      // 1. A's reserve commits; its answer is lost.
      relay.muteRepliesAfter(key.id);
      const first = await pay(a, key.token, 1000, 'rp-0-a', 'agent-tool-call-1');
      expect(first.status, first.text).toBe(503);
      expect(first.json).toMatchObject({ code: 'ledger_unavailable' });
      expect(upstreamByKey(fake, 'rp', 1)[0]).toBe(0);
      // 2. A stays cut off past its lease; B's reaper keeps the reservation as uncertain.
      relay.partition();
      const reaped = await pollUntil(
        60,
        100,
        async () => (await checkPostgres(pgUrl, schema)).totals.byBudget[leaf],
        (level) => level?.uncertain === 10_000_000,
      );
      expect(reaped.value).toMatchObject({ committed: 10_000_000, reserved: 0, uncertain: 10_000_000 });
      // 3. The SDK retries the same request through B: a replay, forwarded; the vendor makes the payment and
      // answers 500.
      fake.failNext({ method: 'POST', path: '/v1/payment_intents', status: 500, afterExecute: true });
      const retry = await pay(b, key.token, 1000, 'rp-0-a', 'agent-tool-call-1');
      expect(retry.status, retry.text).toBe(500);
      expect(upstreamByKey(fake, 'rp', 1)[0], 'the vendor made the $10 payment').toBe(1);
      expect((await checkPostgres(pgUrl, schema)).totals.byBudget[leaf]).toMatchObject({
        committed: 10_000_000,
        uncertain: 10_000_000,
      });
      // 4. A is back; its abandon lands.
      relay.heal();
      await relay.start();
      const afterAbandon = await pollUntil(
        40,
        200,
        async () => (await checkPostgres(pgUrl, schema)).totals.byBudget[leaf],
        (level) => level?.committed !== 10_000_000,
      );
      console.info('leaf after the abandon:', afterAbandon.value);
      expect((await checkPostgres(pgUrl, schema)).violations).toEqual([]);
      // The leaf ($10) has spent its $10 at the vendor: nothing more may reach the vendor under it.
      const next = await pay(b, key.token, 1000, 'rp-0-b', 'agent-tool-call-2');
      const seen = upstreamByKey(fake, 'rp', 1)[0] ?? 0;
      // What the vendor itself holds: the PaymentIntents it created for these calls.
      const listed = await http.send(upstream.url, 'GET', '/v1/payment_intents?limit=100', {
        authorization: `Bearer ${STRIPE_SECRET}`,
      });
      const intents = (
        listed.json.data as Array<{ amount: number; metadata: Record<string, string> }>
      ).filter((pi) => pi.metadata.probe?.startsWith('rp-0-'));
      console.info(
        `second call: ${next.status}; the vendor saw ${seen} x $10 under a $10 leaf; payment intents:`,
        intents.map((pi) => ({ amount: pi.amount, probe: pi.metadata.probe })),
      );
      expect(
        {
          leafCommittedUsd: (afterAbandon.value?.committed ?? 0) / 1e6,
          secondCall: next.status,
          vendorUsd: seen * 10,
        },
        'money that may have moved (a forwarded replay) stays counted, and the leaf holds its cap',
      ).toEqual({ leafCommittedUsd: 10, secondCall: 429, vendorUsd: 10 });
    }, 60_000);
  },
);
