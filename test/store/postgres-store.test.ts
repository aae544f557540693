import { createHash, randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-schema.js';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres-store.js';
import type { NewKey } from '../../src/store/types.js';
import { describeWithPostgres, dropSchema, uniqueSchema, withPgClient } from '../helpers/postgres.js';
import { describeStoreConformance } from './conformance.js';

const USD = 1_000_000;

function newKey(overrides: Partial<NewKey> = {}): NewKey {
  const now = Date.now();
  return {
    id: `key_${randomUUID().replaceAll('-', '')}`,
    tokenHash: createHash('sha256').update(randomUUID()).digest('hex'),
    vendor: 'stripe',
    label: 'pg-run',
    metadata: {},
    connectedAccounts: [],
    usdCap: 50 * USD,
    dailyUsdCap: null,
    maxUsdPerCall: null,
    allowedEndpoints: ['POST /v1/payment_intents'],
    createdAt: now,
    expiresAt: now + 3_600_000,
    ...overrides,
  };
}

describeWithPostgres('PostgresStore', (url) => {
  describeStoreConformance('postgres (two pools on one schema)', {
    make: async (now) => {
      const schema = uniqueSchema();
      // The suite queues 500 calls per pool at once; waiting that long for a free connection is the test's
      // doing, so it must not trip the 2 s production default on a busy machine.
      const options = { connectionString: url, now, schema, connectTimeoutMs: 15_000 };
      const store = new PostgresStore(options);
      const peer = new PostgresStore(options);
      await store.init();
      await peer.init();
      return {
        store,
        peer,
        cleanup: async () => {
          await store.close();
          await peer.close();
          await dropSchema(url, schema);
        },
      };
    },
  });

  describe('operations', () => {
    // Run newest first, so stores close before their schema is dropped.
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    function scratchSchema(): string {
      const schema = uniqueSchema();
      cleanups.push(() => dropSchema(url, schema));
      return schema;
    }

    function track(store: PostgresStore): PostgresStore {
      cleanups.push(() => store.close());
      return store;
    }

    async function open(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
      const store = track(new PostgresStore({ connectionString: url, schema: scratchSchema(), ...options }));
      await store.init();
      return store;
    }

    it('runs each migration once when three instances start at once on a fresh schema', async () => {
      const schema = scratchSchema();
      const stores = [1, 2, 3].map(() => track(new PostgresStore({ connectionString: url, schema })));
      // The migrations use plain CREATE TABLE: had two of them run it, one init would have failed.
      await Promise.all(stores.map((store) => store.init()));
      const applied = await withPgClient(url, (client) =>
        client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`),
      );
      expect(applied.rows.map((row) => row.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
      const [first, , third] = stores;
      const key = await first?.issueKey(newKey());
      expect((await third?.getKey(key?.id ?? ''))?.id).toBe(key?.id);
      // A later start finds nothing to do.
      await first?.init();
    });

    it('rejects quickly, not hangs, when nothing listens on the port', async () => {
      const store = track(
        new PostgresStore({
          connectionString: 'postgres://postgres@127.0.0.1:1/test',
          connectTimeoutMs: 500,
        }),
      );
      const started = Date.now();
      await expect(store.init()).rejects.toThrow();
      await expect(store.reserve({ keyId: 'key_x', amount: USD })).rejects.toThrow();
      await expect(
        store.reserve({ keyId: 'key_x', amount: USD, idempotency: { key: 'k', fingerprint: 'f' } }),
      ).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1500);
    });

    it('rejects within connectTimeoutMs when the server accepts but never answers', async () => {
      const sockets = new Set<Socket>();
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });
      const { port } = server.address() as AddressInfo;
      const store = track(
        new PostgresStore({
          connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
          connectTimeoutMs: 300,
        }),
      );
      let started = Date.now();
      await expect(store.init()).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1000);
      started = Date.now();
      await expect(store.reserve({ keyId: 'key_x', amount: USD })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(sockets.size).toBeGreaterThan(0);
    });

    it('recovers by itself after its connections are terminated', async () => {
      const applicationName = `sg_recovery_${randomUUID().slice(0, 8)}`;
      const poolErrors: Error[] = [];
      const store = await open({ applicationName, onPoolError: (error) => poolErrors.push(error) });
      const key = await store.issueKey(newKey());
      // Open several pooled connections, so there is more than one to kill.
      await Promise.all(Array.from({ length: 4 }, () => store.reserve({ keyId: key.id, amount: 1 })));
      const killed = await withPgClient(url, async (admin) => {
        const result = await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
          [applicationName],
        );
        return result.rowCount ?? 0;
      });
      expect(killed).toBeGreaterThan(0);
      // The idle connections report their death on the pool (handled, not a crash) and are dropped.
      await vi.waitFor(() => expect(poolErrors).toHaveLength(killed), { timeout: 5000 });
      expect(await store.reserve({ keyId: key.id, amount: 1 })).toMatchObject({ ok: true });
      const claim = { key: 'after-restart', fingerprint: 'f' };
      expect(await store.reserve({ keyId: key.id, amount: 1, idempotency: claim })).toMatchObject({
        ok: true,
      });
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 6, calls: 6 });
    });

    it('rejects, without crashing, when its connection dies in the middle of a transaction', async () => {
      const applicationName = `sg_midtx_${randomUUID().slice(0, 8)}`;
      const schema = scratchSchema();
      const store = track(new PostgresStore({ connectionString: url, schema, applicationName }));
      await store.init();
      const key = await store.issueKey(newKey());
      const claim = { key: 'blocked', fingerprint: 'f' };
      await withPgClient(url, async (admin) => {
        // Hold the key's row lock, so the store's claim transaction stops at its SELECT ... FOR UPDATE.
        await admin.query('BEGIN');
        await admin.query(`SELECT 1 FROM ${schema}.keys WHERE id = $1 FOR UPDATE`, [key.id]);
        const pending = store.reserve({ keyId: key.id, amount: USD, idempotency: claim });
        const outcome = pending.then(
          () => 'resolved',
          () => 'rejected',
        );
        await vi.waitFor(
          async () => {
            const waiting = await admin.query(
              `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
              [applicationName],
            );
            expect(waiting.rowCount).toBe(1);
          },
          { timeout: 5000 },
        );
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
          [applicationName],
        );
        expect(await outcome).toBe('rejected');
        await admin.query('ROLLBACK');
      });
      expect(await store.reserve({ keyId: key.id, amount: USD, idempotency: claim })).toMatchObject({
        ok: true,
        replay: false,
      });
      expect(await store.getKey(key.id)).toMatchObject({ reserved: USD, calls: 1 });
    });

    it('rejects when a statement fails, leaving spend untouched', async () => {
      const schema = scratchSchema();
      const store = track(new PostgresStore({ connectionString: url, schema }));
      await store.init();
      const key = await store.issueKey(newKey());
      await withPgClient(url, (admin) => admin.query(`DROP TABLE ${schema}.reservations`));
      await expect(store.reserve({ keyId: key.id, amount: USD })).rejects.toThrow(/reservations/);
      await expect(
        store.reserve({ keyId: key.id, amount: USD, idempotency: { key: 'k', fingerprint: 'f' } }),
      ).rejects.toThrow(/reservations/);
      // The key update and the reservation insert are one statement: neither happened.
      expect(await store.getKey(key.id)).toMatchObject({ reserved: 0, spent: 0, calls: 0 });
    });

    it('uses the database clock when no clock is injected', async () => {
      const store = await open();
      const live = await store.issueKey(newKey());
      const stale = await store.issueKey(newKey({ expiresAt: Date.now() - 1000 }));
      // Were the process clock consulted, every key would look expired and the revoke would be dated 2099.
      const spy = vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2099, 0, 1));
      try {
        expect(await store.reserve({ keyId: live.id, amount: USD })).toMatchObject({
          ok: true,
          key: { spentToday: USD },
        });
        expect(await store.reserve({ keyId: stale.id, amount: 0 })).toMatchObject({
          ok: false,
          code: 'key_expired',
        });
        const revoked = await store.revokeKey(live.id);
        expect(revoked?.revokedAt).toBeLessThan(Date.UTC(2099, 0, 1));
      } finally {
        spy.mockRestore();
      }
      const revokedAt = (await store.getKey(live.id))?.revokedAt ?? 0;
      expect(Math.abs(revokedAt - Date.now())).toBeLessThan(60_000);
    });

    it('keeps BIGINT money exact up to Number.MAX_SAFE_INTEGER', async () => {
      const store = await open();
      const big = Number.MAX_SAFE_INTEGER;
      const key = await store.issueKey(newKey({ usdCap: big, expiresAt: big }));
      expect(await store.reserve({ keyId: key.id, amount: big - 1 })).toMatchObject({ ok: true });
      expect(await store.reserve({ keyId: key.id, amount: 2 })).toMatchObject({ ok: false, cap: 'usd_cap' });
      expect(await store.getKey(key.id)).toMatchObject({ usdCap: big, expiresAt: big, reserved: big - 1 });
    });
  });
});
