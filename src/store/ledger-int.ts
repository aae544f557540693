/** An integer column as a driver returns it: PostgreSQL's BIGINT as a string, SQLite's INTEGER as a number. */
export type Int = string | number;

/** A ledger integer as a number; a value a JavaScript number cannot hold exactly is refused, never rounded. */
export function int(value: Int): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`ledger value ${String(value)} is not a safe integer`);
  return n;
}

export function intOrNull(value: Int | null): number | null {
  return value === null ? null : int(value);
}
