/** Rendering for the management commands: tables for people, JSON and CSV for scripts. */

export interface Column {
  readonly header: string;
  readonly value: (row: Readonly<Record<string, unknown>>) => unknown;
}

/** A field of the row by its API name. */
export const field = (name: string, header = name): Column => ({ header, value: (row) => row[name] });

/** One cell: `-` for nothing, lists joined, objects as `k=v`. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cell).join(',');
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${cell(v)}`).join(',');
  }
  return String(value);
}

export function renderTable(
  rows: readonly Readonly<Record<string, unknown>>[],
  columns: readonly Column[],
): string {
  const grid = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => cell(c.value(row))))];
  const widths = columns.map((_c, i) => Math.max(...grid.map((line) => line[i]?.length ?? 0)));
  return grid
    .map((line) =>
      line.map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n')
    .concat('\n');
}

/** One object as `field  value` lines, in the order the proxy sent its fields. */
export function renderRecord(record: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(record);
  const width = Math.max(0, ...entries.map(([name]) => name.length));
  return entries
    .map(([name, value]) => `${name.padEnd(width)}  ${cell(value)}`)
    .join('\n')
    .concat('\n');
}

export const renderJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/**
 * RFC 4180 CSV. A text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`: paths and
 * idempotency keys come from agents, and a spreadsheet would run them as formulas.
 */
export function renderCsv(
  rows: readonly Readonly<Record<string, unknown>>[],
  fields: readonly string[],
  header = true,
): string {
  const lines = rows.map((row) => fields.map((name) => csvCell(row[name])).join(','));
  return [...(header ? [fields.join(',')] : []), ...lines].map((line) => `${line}\r\n`).join('');
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
