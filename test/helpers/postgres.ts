import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';

const ENV = 'SPENDGATE_TEST_PG_URL';

/** The test database, e.g. `postgres://postgres@127.0.0.1:5432/test`, or undefined when none is configured. */
export function pgTestUrl(): string | undefined {
  const url = process.env[ENV];
  return url === undefined || url === '' ? undefined : url;
}

/**
 * A describe block that needs PostgreSQL. Without `SPENDGATE_TEST_PG_URL` it fails in CI, where a silently
 * skipped ledger suite would pass for the wrong reason, and skips with a printed reason elsewhere.
 */
export function describeWithPostgres(name: string, body: (url: string) => void): void {
  const url = pgTestUrl();
  if (url !== undefined) {
    describe(name, () => body(url));
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it(`needs ${ENV}`, () => {
        throw new Error(`${ENV} is not set, but CI is: point it at a PostgreSQL database so these tests run`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": set ${ENV}=postgres://user@host:5432/db to run the PostgreSQL tests`);
  // The body still registers its tests, so the report lists them as skipped; none of them runs.
  describe.skip(name, () => body('postgres://unset'));
}

/** A schema name no other test run uses, so concurrent runs on one database never collide. */
export function uniqueSchema(): string {
  return `sg_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

/** Runs `work` on a short-lived connection of its own (not a store's pool). */
export async function withPgClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  await withPgClient(url, (client) =>
    client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`),
  );
}
