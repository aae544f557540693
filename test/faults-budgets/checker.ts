import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { Store } from '../../src/store/types.js';

/**
 * The ledger's own books, re-added from the reservations: for every budget, `committed`, `reserved` and
 * `uncertain` must equal the sums over the reservations of every key anywhere below it (by status), and its
 * `day_committed` the sum of the non-released reservations of its current `day`. The same for every key.
 * A violation is a string naming the row, the column, what it holds and what the reservations say.
 *
 * Each SQL check is one statement, so on PostgreSQL it reads one snapshot and may run under load: every
 * money movement there is one transaction, so the books must balance at every instant, not only at rest.
 */
export interface LedgerTotals {
  readonly budgets: number;
  readonly keys: number;
  readonly reservations: number;
  /** Per budget id: committed, reserved, uncertain (micros) as the row holds them. */
  readonly byBudget: Record<string, { committed: number; reserved: number; uncertain: number }>;
}

export interface CheckResult {
  readonly violations: string[];
  readonly totals: LedgerTotals;
}

interface BudgetCheckRow {
  id: string;
  path: string;
  committed: string | number;
  reserved: string | number;
  uncertain: string | number;
  day: string;
  day_committed: string | number;
  usd_cap: string | number | null;
  daily_usd_cap: string | number | null;
  e_committed: string | number;
  e_reserved: string | number;
  e_uncertain: string | number;
  e_day: string | number;
  neg: string | number;
}

interface KeyCheckRow {
  id: string;
  budget_id: string | null;
  budget_path: string | null;
  bpath: string | null;
  committed: string | number;
  reserved: string | number;
  uncertain: string | number;
  day: string;
  day_committed: string | number;
  e_committed: string | number;
  e_reserved: string | number;
  e_uncertain: string | number;
  e_day: string | number;
}

const n = (v: string | number | null): number => (v === null ? 0 : Number(v));

function judge(
  budgets: BudgetCheckRow[],
  keys: KeyCheckRow[],
  reservations: number,
  options: CheckOptions,
): CheckResult {
  const violations: string[] = [];
  const byBudget: LedgerTotals['byBudget'] = {};
  for (const b of budgets) {
    byBudget[b.id] = { committed: n(b.committed), reserved: n(b.reserved), uncertain: n(b.uncertain) };
    const pairs: Array<[string, number, number]> = [
      ['committed', n(b.committed), n(b.e_committed)],
      ['reserved', n(b.reserved), n(b.e_reserved)],
      ['uncertain', n(b.uncertain), n(b.e_uncertain)],
      [`day_committed(${b.day})`, n(b.day_committed), n(b.e_day)],
    ];
    for (const [column, held, expected] of pairs) {
      if (held !== expected)
        violations.push(
          `budget ${b.id} ${b.path}: ${column} = ${held}, reservations below it sum to ${expected}`,
        );
    }
    if (n(b.neg) > 0) violations.push(`budget ${b.id}: a negative total`);
    if (options.capsExact !== false) {
      if (b.usd_cap !== null && n(b.committed) > n(b.usd_cap))
        violations.push(`budget ${b.id}: committed ${n(b.committed)} > usd_cap ${n(b.usd_cap)}`);
      if (b.daily_usd_cap !== null && n(b.day_committed) > n(b.daily_usd_cap))
        violations.push(
          `budget ${b.id}: day_committed ${n(b.day_committed)} > daily_usd_cap ${n(b.daily_usd_cap)}`,
        );
    }
  }
  for (const k of keys) {
    const pairs: Array<[string, number, number]> = [
      ['committed', n(k.committed), n(k.e_committed)],
      ['reserved', n(k.reserved), n(k.e_reserved)],
      ['uncertain', n(k.uncertain), n(k.e_uncertain)],
      [`day_committed(${k.day})`, n(k.day_committed), n(k.e_day)],
    ];
    for (const [column, held, expected] of pairs) {
      if (held !== expected)
        violations.push(`key ${k.id}: ${column} = ${held}, its reservations sum to ${expected}`);
    }
    if (k.budget_id !== null && k.budget_path !== k.bpath)
      violations.push(`key ${k.id}: budget_path ${k.budget_path} but its budget's path is ${k.bpath}`);
  }
  return {
    violations,
    totals: { budgets: budgets.length, keys: keys.length, reservations, byBudget },
  };
}

export interface CheckOptions {
  /** Also flag a level whose committed total passed its cap (true unless a test settles above estimates). */
  readonly capsExact?: boolean;
}

const PG_BUDGETS = `
  WITH kr AS (
    SELECT k.budget_path, r.amount, r.status, r.day FROM reservations r JOIN keys k ON k.id = r.key_id
    WHERE k.budget_path IS NOT NULL
  )
  SELECT b.id, b.path, b.committed, b.reserved, b.uncertain, b.day::text AS day, b.day_committed, b.usd_cap,
    b.daily_usd_cap,
    COALESCE(sum(kr.amount) FILTER (WHERE kr.status IN ('reserved', 'settled', 'uncertain')), 0) AS e_committed,
    COALESCE(sum(kr.amount) FILTER (WHERE kr.status = 'reserved'), 0) AS e_reserved,
    COALESCE(sum(kr.amount) FILTER (WHERE kr.status = 'uncertain'), 0) AS e_uncertain,
    COALESCE(sum(kr.amount) FILTER (WHERE kr.status <> 'released' AND kr.day = b.day), 0) AS e_day,
    (CASE WHEN b.committed < 0 OR b.reserved < 0 OR b.uncertain < 0 OR b.day_committed < 0 THEN 1 ELSE 0 END) AS neg
  FROM budgets b LEFT JOIN kr ON strpos(kr.budget_path, '/' || b.id || '/') > 0
  GROUP BY b.id, b.path, b.committed, b.reserved, b.uncertain, b.day, b.day_committed, b.usd_cap, b.daily_usd_cap
  ORDER BY b.path`;

const PG_KEYS = `
  SELECT k.id, k.budget_id, k.budget_path, (SELECT path FROM budgets WHERE id = k.budget_id) AS bpath,
    k.committed, k.reserved, k.uncertain, k.day::text AS day, k.day_committed,
    COALESCE(sum(r.amount) FILTER (WHERE r.status IN ('reserved', 'settled', 'uncertain')), 0) AS e_committed,
    COALESCE(sum(r.amount) FILTER (WHERE r.status = 'reserved'), 0) AS e_reserved,
    COALESCE(sum(r.amount) FILTER (WHERE r.status = 'uncertain'), 0) AS e_uncertain,
    COALESCE(sum(r.amount) FILTER (WHERE r.status <> 'released' AND r.day = k.day), 0) AS e_day
  FROM keys k LEFT JOIN reservations r ON r.key_id = k.id
  GROUP BY k.id, k.budget_id, k.budget_path, k.committed, k.reserved, k.uncertain, k.day, k.day_committed`;

/** The checker on a PostgreSQL schema. Both queries run in one REPEATABLE READ transaction: one snapshot. */
export async function checkPostgres(
  url: string,
  schema: string,
  options: CheckOptions = {},
): Promise<CheckResult> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const budgets = (await client.query<BudgetCheckRow>(PG_BUDGETS)).rows;
    const keys = (await client.query<KeyCheckRow>(PG_KEYS)).rows;
    const count = (await client.query<{ n: string }>('SELECT count(*) AS n FROM reservations')).rows[0];
    // budget_keys is what revokes find keys by: it must name every key with a budget, and nothing else.
    const missing = (
      await client.query<{ id: string }>(
        `SELECT k.id FROM keys k WHERE k.budget_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM budget_keys bk WHERE bk.key_id = k.id AND bk.budget_id = k.budget_id)`,
      )
    ).rows;
    await client.query('COMMIT');
    const result = judge(budgets, keys, Number(count?.n ?? 0), options);
    for (const row of missing) result.violations.push(`key ${row.id}: missing from budget_keys`);
    return result;
  } finally {
    await client.end();
  }
}

const SQLITE_BUDGETS = `
  WITH kr AS (
    SELECT k.budget_path, r.amount, r.status, r.day FROM reservations r JOIN keys k ON k.id = r.key_id
    WHERE k.budget_path IS NOT NULL
  )
  SELECT b.id, b.path, b.committed, b.reserved, b.uncertain, b.day, b.day_committed, b.usd_cap, b.daily_usd_cap,
    COALESCE(sum(kr.amount) FILTER (WHERE kr.status IN ('reserved', 'settled', 'uncertain')), 0) AS e_committed,
    COALESCE(sum(kr.amount) FILTER (WHERE kr.status = 'reserved'), 0) AS e_reserved,
    COALESCE(sum(kr.amount) FILTER (WHERE kr.status = 'uncertain'), 0) AS e_uncertain,
    COALESCE(sum(kr.amount) FILTER (WHERE kr.status <> 'released' AND kr.day = b.day), 0) AS e_day,
    (CASE WHEN b.committed < 0 OR b.reserved < 0 OR b.uncertain < 0 OR b.day_committed < 0 THEN 1 ELSE 0 END) AS neg
  FROM budgets b LEFT JOIN kr ON instr(kr.budget_path, '/' || b.id || '/') > 0
  GROUP BY b.id
  ORDER BY b.path`;

const SQLITE_KEYS = `
  SELECT k.id, k.budget_id, k.budget_path, (SELECT path FROM budgets WHERE id = k.budget_id) AS bpath,
    k.committed, k.reserved, k.uncertain, k.day, k.day_committed,
    COALESCE(sum(r.amount) FILTER (WHERE r.status IN ('reserved', 'settled', 'uncertain')), 0) AS e_committed,
    COALESCE(sum(r.amount) FILTER (WHERE r.status = 'reserved'), 0) AS e_reserved,
    COALESCE(sum(r.amount) FILTER (WHERE r.status = 'uncertain'), 0) AS e_uncertain,
    COALESCE(sum(r.amount) FILTER (WHERE r.status <> 'released' AND r.day = k.day), 0) AS e_day
  FROM keys k LEFT JOIN reservations r ON r.key_id = k.id
  GROUP BY k.id`;

/** The checker on a SQLite ledger file, read in one read transaction (a WAL snapshot). */
export function checkSqlite(filename: string, options: CheckOptions = {}): CheckResult {
  const db = new BetterSqlite3(filename, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    const read = db.transaction(() => ({
      budgets: db.prepare(SQLITE_BUDGETS).all() as BudgetCheckRow[],
      keys: db.prepare(SQLITE_KEYS).all() as KeyCheckRow[],
      count: (db.prepare('SELECT count(*) AS n FROM reservations').get() as { n: number }).n,
    }));
    const { budgets, keys, count } = read();
    return judge(budgets, keys, count, options);
  } finally {
    db.close();
  }
}

/**
 * The same books through the Store API, for the memory store (which has no SQL): every reservation of the
 * given keys, and the given budgets with the key ids below each. Only valid at rest.
 */
export async function checkViaApi(
  store: Store,
  tree: { readonly keys: readonly string[]; readonly budgets: readonly string[] },
): Promise<string[]> {
  const violations: string[] = [];
  const sums = new Map<string, { committed: number; reserved: number; uncertain: number }>();
  const keyPath = new Map<string, readonly string[]>();
  for (const keyId of tree.keys) {
    const key = await store.getKey(keyId);
    if (!key) {
      violations.push(`key ${keyId} missing`);
      continue;
    }
    keyPath.set(keyId, key.budgetPath);
    const rows = await store.listReservations({ keyId, limit: 100_000 });
    const sum = { committed: 0, reserved: 0, uncertain: 0 };
    for (const r of rows) {
      if (r.status !== 'released') sum.committed += r.amount;
      if (r.status === 'reserved') sum.reserved += r.amount;
      if (r.status === 'uncertain') sum.uncertain += r.amount;
    }
    sums.set(keyId, sum);
    const held = { committed: key.spent + key.reserved, reserved: key.reserved, uncertain: key.uncertain };
    for (const column of ['committed', 'reserved', 'uncertain'] as const) {
      if (held[column] !== sum[column])
        violations.push(`key ${keyId}: ${column} = ${held[column]}, its reservations sum to ${sum[column]}`);
    }
  }
  for (const budgetId of tree.budgets) {
    const budget = await store.getBudget(budgetId);
    if (!budget) {
      violations.push(`budget ${budgetId} missing`);
      continue;
    }
    const expected = { committed: 0, reserved: 0, uncertain: 0 };
    for (const [keyId, path] of keyPath) {
      if (!path.includes(budgetId)) continue;
      const sum = sums.get(keyId);
      if (!sum) continue;
      expected.committed += sum.committed;
      expected.reserved += sum.reserved;
      expected.uncertain += sum.uncertain;
    }
    const held = {
      committed: budget.spent + budget.reserved,
      reserved: budget.reserved,
      uncertain: budget.uncertain,
    };
    for (const column of ['committed', 'reserved', 'uncertain'] as const) {
      if (held[column] !== expected[column])
        violations.push(
          `budget ${budgetId}: ${column} = ${held[column]}, reservations below it sum to ${expected[column]}`,
        );
    }
  }
  return violations;
}
