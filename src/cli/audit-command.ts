import { Option, type Command } from 'commander';
import { adminRequest, type AdminTarget } from '../client/admin-request.js';
import { followAudit, type AuditPageJson } from '../client/audit-follow.js';
import { parseDuration } from '../duration.js';
import { contextOf, type CommandContext } from './command-context.js';
import { addTargetOptions } from './common-options.js';
import { instantArg, positiveIntArg } from './flag-values.js';
import { field, renderCsv, renderJson, renderTable, type Column } from './output.js';
import { UsageError } from './usage-error.js';

/** Every field of an audit row, in the contract's order: the CSV header. */
export const AUDIT_FIELDS = [
  'id',
  'ts',
  'key_id',
  'label',
  'vendor',
  'method',
  'path',
  'decision',
  'code',
  'upstream_status',
  'cost_usd_reserved',
  'cost_usd_settled',
  'settlement',
  'idempotency_key',
  'vendor_request_id',
  'request_id',
  'latency_ms',
];

const AUDIT_COLUMNS: Column[] = [
  field('ts'),
  field('decision'),
  field('code'),
  field('vendor'),
  field('method'),
  field('path'),
  field('upstream_status', 'status'),
  { header: 'cost', value: (row) => row.cost_usd_settled ?? row.cost_usd_reserved },
  field('settlement'),
  field('key_id', 'key'),
  field('label'),
];

type Format = 'table' | 'json' | 'csv';

interface AuditOptions {
  keyId?: string;
  label?: string;
  labelPrefix?: string;
  vendor?: string;
  decision?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
  format?: Format;
  follow?: boolean;
  interval: string;
  followFor?: string;
}

/** Registers `spendgate audit`. */
export function addAuditCommand(program: Command): void {
  addTargetOptions(program.command('audit'))
    .description('Query the audit log (GET /v1/audit), newest first; --follow tails it')
    .option('--key-id <id>', 'one key’s calls')
    .option('--label <label>', 'calls of keys with this label')
    .option('--label-prefix <prefix>', 'calls of keys whose label starts with this')
    .option('--vendor <vendor>', 'one vendor’s calls')
    .addOption(new Option('--decision <decision>', 'allowed or denied').choices(['allowed', 'denied']))
    .option('--since <when>', 'from this ISO time, or this long ago (1h, 30m)', instantArg)
    .option('--until <when>', 'before this ISO time, or this long ago', instantArg)
    .option('--limit <n>', 'rows per page (at most 500)', positiveIntArg)
    .option('--cursor <cursor>', 'continue from a next_cursor')
    .addOption(
      new Option('--format <format>', 'output format (--json is --format json)').choices([
        'table',
        'json',
        'csv',
      ]),
    )
    .option('-f, --follow', 'keep polling and print new rows as they are written (Ctrl-C stops)')
    .option('--interval <duration>', 'with --follow: pause between polls', '2s')
    .option('--follow-for <duration>', 'with --follow: stop after this long')
    .action(async (opts: AuditOptions, command: Command) => {
      const ctx = contextOf(command);
      const format: Format = opts.format ?? (ctx.json ? 'json' : 'table');
      const target = await ctx.target();
      if (opts.follow === true) return follow(ctx, target, opts, format);
      const page = await fetchPage(target, opts, opts.cursor);
      if (format === 'json') ctx.print(renderJson(page));
      else if (format === 'csv') ctx.print(renderCsv(page.data, AUDIT_FIELDS));
      else ctx.print(renderTable(page.data, AUDIT_COLUMNS));
      if (page.next_cursor && format !== 'json') ctx.note(`More rows: --cursor ${page.next_cursor}`);
    });
}

async function fetchPage(
  target: AdminTarget,
  opts: AuditOptions,
  cursor: string | undefined,
): Promise<AuditPageJson> {
  const query = {
    key_id: opts.keyId,
    label: opts.label,
    label_prefix: opts.labelPrefix,
    vendor: opts.vendor,
    decision: opts.decision,
    since: opts.since,
    until: opts.until,
    limit: opts.limit,
    cursor,
  };
  return (await adminRequest(target, { method: 'GET', path: '/v1/audit', query })) as AuditPageJson;
}

/** JSON becomes one row per line (NDJSON), CSV keeps one header, a table prints its header once. */
async function follow(
  ctx: CommandContext,
  target: AdminTarget,
  opts: AuditOptions,
  format: Format,
): Promise<void> {
  const intervalMs = durationOption('--interval', opts.interval);
  const forMs = opts.followFor === undefined ? undefined : durationOption('--follow-for', opts.followFor);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = forMs === undefined ? undefined : setTimeout(onSignal, forMs);
  let first = true;
  try {
    const batches = followAudit({
      fetchPage: (cursor) => fetchPage(target, opts, cursor),
      intervalMs,
      signal: stop.signal,
    });
    for await (const batch of batches) {
      if (batch.gap) ctx.note('spendgate audit: more rows arrived than one poll reads; some were skipped');
      if (format === 'json') ctx.print(batch.rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
      else if (format === 'csv') ctx.print(renderCsv(batch.rows, AUDIT_FIELDS, first));
      else if (batch.rows.length > 0 || first) {
        const table = renderTable(batch.rows, AUDIT_COLUMNS);
        ctx.print(first ? table : table.slice(table.indexOf('\n') + 1));
      }
      first = false;
    }
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function durationOption(flag: string, value: string): number {
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new UsageError(`${flag} must be a duration of at least 1 s, such as 2s or 1m`);
  return parsed.ms;
}
