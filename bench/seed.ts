/**
 * Bulk seeding for the scale, memory and audit phases of bench/full.ts, straight into the ledger the proxy
 * created (so its own migrations made the schema). Every seeded row is a copy of a row the proxy wrote itself
 * (a key issued through the admin API, an audit row of a real call), with only its identity changed: the rows
 * stay valid whatever columns later migrations add. Keys get real tokens, hashed as the proxy hashes them.
 */
import { writeFileSync } from 'node:fs';
import type pg from 'pg';
import { hashToken, newKeyId, newVaultToken } from '../src/server/tokens.js';

export const AUDIT_LABELS = 1000;
export const auditLabel = (i: number) => `bench-audit-${String(i % AUDIT_LABELS).padStart(4, '0')}`;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** `count` fresh tokens and their key ids and hashes. */
function newKeys(count: number) {
  return Array.from({ length: count }, () => {
    const token = newVaultToken();
    return { token, id: newKeyId(), hash: hashToken(token) };
  });
}

export function writeTokens(file: string, tokens: readonly string[]): void {
  writeFileSync(file, `${tokens.join('\n')}\n`);
}

async function openSqlite(file: string) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  // Seeding only: the proxy, stopped meanwhile, reopens the file with its own settings.
  db.pragma('synchronous = OFF');
  return db;
}

/** Copies the key `templateId` `count` times (fresh ids and tokens); returns the new tokens. */
export async function seedSqliteKeys(file: string, templateId: string, count: number): Promise<string[]> {
  const db = await openSqlite(file);
  try {
    const columns = (db.pragma('table_info(keys)') as { name: string }[])
      .map((c) => c.name)
      .filter((name) => name !== 'seq');
    const values = columns.map((name) =>
      name === 'id' ? '@id' : name === 'token_hash' ? '@hash' : `t.${quote(name)}`,
    );
    const insert = db.prepare(
      `INSERT INTO keys (${columns.map(quote).join(', ')}) SELECT ${values.join(', ')} FROM keys t WHERE t.id = @template`,
    );
    const keys = newKeys(count);
    db.transaction(() => {
      for (const key of keys) insert.run({ id: key.id, hash: key.hash, template: templateId });
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return keys.map((k) => k.token);
  } finally {
    db.close();
  }
}

/**
 * Adds `rows` copies of the newest audit row: newer ids, timestamps one millisecond apart ending at the
 * template's, labels spread evenly over {@link AUDIT_LABELS} values, fresh request ids.
 */
export async function seedSqliteAudit(file: string, rows: number): Promise<void> {
  const db = await openSqlite(file);
  try {
    const template = db.prepare('SELECT max(id) AS id FROM audit').get() as { id: number | null };
    if (template.id === null) throw new Error('no audit row to copy');
    const columns = (db.pragma('table_info(audit)') as { name: string }[])
      .map((c) => c.name)
      .filter((name) => name !== 'id');
    const values = columns.map((name) => {
      if (name === 'ts') return 't.ts - (@rows - n.i)';
      if (name === 'label') return `printf('bench-audit-%04d', n.i % ${AUDIT_LABELS})`;
      if (name === 'request_id') return `'req_seed_' || n.i`;
      return `t.${quote(name)}`;
    });
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @rows)
       INSERT INTO audit (${columns.map(quote).join(', ')})
       SELECT ${values.join(', ')} FROM n, audit t WHERE t.id = @template`,
    ).run({ rows, template: template.id });
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

async function columnsOf(client: pg.Client, schema: string, table: string): Promise<string[]> {
  const result = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = $1 AND table_name = $2 AND is_identity = 'NO' AND is_generated = 'NEVER'
     ORDER BY ordinal_position`,
    [schema, table],
  );
  return result.rows.map((r) => r.column_name);
}

/** PostgreSQL: copies the key `templateId` `count` times in one statement; returns the new tokens. */
export async function seedPgKeys(
  client: pg.Client,
  schema: string,
  templateId: string,
  count: number,
): Promise<string[]> {
  const columns = await columnsOf(client, schema, 'keys');
  const values = columns.map((name) =>
    name === 'id' ? 'n.nid' : name === 'token_hash' ? 'n.nhash' : `t.${quote(name)}`,
  );
  const keys = newKeys(count);
  await client.query(
    `INSERT INTO ${quote(schema)}.keys (${columns.map(quote).join(', ')})
     SELECT ${values.join(', ')} FROM ${quote(schema)}.keys t, unnest($1::text[], $2::text[]) AS n(nid, nhash)
     WHERE t.id = $3`,
    [keys.map((k) => k.id), keys.map((k) => k.hash), templateId],
  );
  await client.query(`ANALYZE ${quote(schema)}.keys`);
  return keys.map((k) => k.token);
}

/** PostgreSQL: as {@link seedSqliteAudit}, with generate_series, then ANALYZE. */
export async function seedPgAudit(client: pg.Client, schema: string, rows: number): Promise<void> {
  const table = `${quote(schema)}.audit`;
  const template = await client.query<{ id: string | null }>(`SELECT max(id) AS id FROM ${table}`);
  const templateId = template.rows[0]?.id;
  if (!templateId) throw new Error('no audit row to copy');
  const columns = await columnsOf(client, schema, 'audit');
  const values = columns.map((name) => {
    if (name === 'ts') return 't.ts - ($1::bigint - g.i)';
    if (name === 'label') return `'bench-audit-' || lpad((g.i % ${AUDIT_LABELS})::text, 4, '0')`;
    if (name === 'request_id') return `'req_seed_' || g.i`;
    return `t.${quote(name)}`;
  });
  await client.query(
    `INSERT INTO ${table} (${columns.map(quote).join(', ')})
     SELECT ${values.join(', ')} FROM ${table} t, generate_series(1, $1::bigint) AS g(i) WHERE t.id = $2`,
    [rows, templateId],
  );
  await client.query(`VACUUM ANALYZE ${table}`);
}
