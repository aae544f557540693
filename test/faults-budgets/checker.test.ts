import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { pgTestUrl } from '../helpers/postgres.js';
import { makeRig, USD, type Rig } from './stores.js';

/**
 * The checker must see what it is there to see: a balanced ledger passes, and a budget or key row nudged
 * by one micro (at any level, in any column) is named. Without this, a green scenario proves nothing.
 */
const T0 = Date.UTC(2026, 5, 1, 12);

describe('the ledger checker', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  const populate = async (r: Rig) => {
    const root = await r.budget({ usdCap: 100 * USD, dailyUsdCap: 50 * USD });
    const mid = await r.budget({ parentId: root });
    const leaf = await r.budget({ parentId: mid, usdCap: 20 * USD });
    const key = await r.key(leaf);
    const other = await r.key(root);
    const a = await r.store.reserve({ keyId: key, amount: 3 * USD });
    const b = await r.store.reserve({ keyId: key, amount: 2 * USD });
    const c = await r.store.reserve({ keyId: other, amount: USD });
    if (!a.ok || !b.ok || !c.ok) throw new Error('refused');
    await r.store.settle({ reservationId: a.reservationId, amount: 2 * USD });
    await r.store.markUncertain({ reservationId: b.reservationId });
    await r.store.release({ reservationId: c.reservationId });
    return { root, mid, leaf, key };
  };

  it('passes a balanced SQLite ledger and names every nudged column', async () => {
    rig = await makeRig('sqlite', T0);
    const ids = await populate(rig);
    expect(await rig.check()).toEqual([]);
    const file = rig.location ?? '';
    const nudge = (sql: string, id: string) => {
      const db = new BetterSqlite3(file);
      try {
        db.prepare(sql).run(id);
      } finally {
        db.close();
      }
    };
    nudge('UPDATE budgets SET reserved = reserved + 1 WHERE id = ?', ids.mid);
    nudge('UPDATE budgets SET day_committed = day_committed + 1 WHERE id = ?', ids.root);
    nudge('UPDATE keys SET uncertain = uncertain - 1 WHERE id = ?', ids.key);
    const violations = await rig.check({ capsExact: false });
    expect(violations.some((v) => v.includes(ids.mid) && v.includes('reserved'))).toBe(true);
    expect(violations.some((v) => v.includes(ids.root) && v.includes('day_committed'))).toBe(true);
    expect(violations.some((v) => v.includes(ids.key) && v.includes('uncertain'))).toBe(true);
  });

  it.skipIf(pgTestUrl() === undefined)(
    'passes a balanced PostgreSQL ledger and names a nudged level',
    async () => {
      rig = await makeRig('postgres', T0);
      const ids = await populate(rig);
      expect(await rig.check()).toEqual([]);
      const client = new pg.Client({ connectionString: pgTestUrl() });
      await client.connect();
      try {
        const schema = rig.location ?? '';
        await client.query(`UPDATE ${schema}.budgets SET committed = committed - 1 WHERE id = $1`, [
          ids.leaf,
        ]);
      } finally {
        await client.end();
      }
      const violations = await rig.check();
      expect(violations.some((v) => v.includes(ids.leaf) && v.includes('committed'))).toBe(true);
    },
  );
});
