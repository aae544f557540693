import { Option, type Command } from 'commander';
import { adminRequest } from '../client/admin-request.js';
import { contextOf, type CommandContext } from './command-context.js';
import { addTargetOptions } from './common-options.js';
import { collect, metadataArg, positiveIntArg, ttlArg, usdArg } from './flag-values.js';
import { field, renderJson, renderRecord, renderTable } from './output.js';
import { UsageError } from './usage-error.js';

const KEY_COLUMNS = [
  field('id'),
  field('vendor'),
  field('label'),
  field('status'),
  field('spent_usd', 'spent'),
  field('remaining_usd', 'remaining'),
  field('usd_cap', 'cap'),
  field('daily_usd_cap', 'daily cap'),
  field('expires_at', 'expires'),
];

/** Registers `spendgate keys create|list|get|revoke`. */
export function addKeysCommand(program: Command): void {
  const keys = program.command('keys').description('Issue, list, read and revoke vault keys');
  addTargetOptions(keys.command('create'))
    .description('Issue a vault key (POST /v1/keys); its token is shown once')
    .requiredOption('--vendor <vendor>', 'stripe, twilio or resend')
    .option('--budget <bud_id>', 'the budget the key draws from (then it needs no cap of its own)')
    .option(
      '--endpoint <rule>',
      'allowed endpoint, "POST /v1/payment_intents" or "/path/*" (repeatable)',
      collect,
    )
    .option('--usd-cap <usd>', 'cap over the key’s whole life', usdArg)
    .option('--daily-usd-cap <usd>', 'cap per UTC day', usdArg)
    .option('--max-usd-per-call <usd>', 'the most one call may cost', usdArg)
    .option('--approval-above-usd <usd>', 'calls estimated above this need an approval grant', usdArg)
    .option(
      '--ttl <duration>',
      'lifetime: 90s, 30m, 1h30m or seconds (default: the proxy’s SPENDGATE_DEFAULT_TTL)',
      ttlArg,
    )
    .option('--expires-at <iso>', 'an absolute expiry instead of --ttl')
    .option('--label <label>', 'free text for correlation and audit queries')
    .option('--metadata <key=value>', 'metadata entry (repeatable)', metadataArg)
    .option('--connected-account <acct>', 'Stripe connected account the key may act on (repeatable)', collect)
    .action((opts: Record<string, unknown>, command: Command) => createKey(contextOf(command), opts));
  addTargetOptions(keys.command('list'))
    .description('List keys with their spend (GET /v1/keys), newest first')
    .option('--label <label>', 'exact label')
    .option('--label-prefix <prefix>', 'label prefix')
    .addOption(new Option('--status <status>', 'key status').choices(['active', 'revoked', 'expired']))
    .option('--vendor <vendor>', 'vendor')
    .option('--limit <n>', 'keys per page (at most 500)', positiveIntArg)
    .option('--cursor <cursor>', 'continue from a next_cursor')
    .action((opts: Record<string, unknown>, command: Command) => listKeys(contextOf(command), opts));
  addTargetOptions(keys.command('get'))
    .description('Show one key and its spend (GET /v1/keys/{id})')
    .argument('<id>', 'key id (key_…)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      const key = await adminRequest(await ctx.target(), {
        method: 'GET',
        path: `/v1/keys/${encodeURIComponent(id)}`,
      });
      ctx.print(ctx.json ? renderJson(key) : renderRecord(key as Record<string, unknown>));
    });
  addTargetOptions(keys.command('revoke'))
    .description('Revoke one key by id, or every key matching --label, --label-prefix or --metadata')
    .argument('[id]', 'key id (key_…)')
    .option('--label <label>', 'revoke every key with this label')
    .option('--label-prefix <prefix>', 'revoke every key whose label starts with this')
    .option(
      '--metadata <key=value>',
      'revoke every key with this metadata (repeatable: all must match)',
      metadataArg,
    )
    .action((id: string | undefined, opts: Record<string, unknown>, command: Command) =>
      revokeKeys(contextOf(command), id, opts),
    );
}

async function createKey(ctx: CommandContext, opts: Record<string, unknown>): Promise<void> {
  const endpoints = (opts.endpoint as string[] | undefined) ?? [];
  if (endpoints.length === 0) throw new UsageError('keys create needs at least one --endpoint');
  if (opts.ttl !== undefined && opts.expiresAt !== undefined) {
    throw new UsageError('give --ttl or --expires-at, not both');
  }
  const optional: Record<string, unknown> = {
    budget_id: opts.budget,
    usd_cap: opts.usdCap,
    daily_usd_cap: opts.dailyUsdCap,
    max_usd_per_call: opts.maxUsdPerCall,
    approval_above_usd: opts.approvalAboveUsd,
    expires_in: opts.ttl,
    expires_at: opts.expiresAt,
    label: opts.label,
    metadata: opts.metadata,
    connected_accounts: opts.connectedAccount,
  };
  const body: Record<string, unknown> = { vendor: opts.vendor, allowed_endpoints: endpoints };
  for (const [name, value] of Object.entries(optional)) if (value !== undefined) body[name] = value;
  const key = await adminRequest(await ctx.target(), { method: 'POST', path: '/v1/keys', body });
  if (ctx.json) return ctx.print(renderJson(key));
  ctx.print(renderRecord(key as Record<string, unknown>));
  ctx.note('The token is shown once: the proxy keeps only its hash.');
}

async function listKeys(ctx: CommandContext, opts: Record<string, unknown>): Promise<void> {
  const query = {
    label: opts.label as string | undefined,
    label_prefix: opts.labelPrefix as string | undefined,
    status: opts.status as string | undefined,
    vendor: opts.vendor as string | undefined,
    limit: opts.limit as number | undefined,
    cursor: opts.cursor as string | undefined,
  };
  const page = (await adminRequest(await ctx.target(), { method: 'GET', path: '/v1/keys', query })) as {
    data: Record<string, unknown>[];
    next_cursor: string | null;
  };
  if (ctx.json) return ctx.print(renderJson(page));
  ctx.print(renderTable(page.data, KEY_COLUMNS));
  if (page.next_cursor) ctx.note(`More keys: --cursor ${page.next_cursor}`);
}

async function revokeKeys(
  ctx: CommandContext,
  id: string | undefined,
  opts: Record<string, unknown>,
): Promise<void> {
  const filters = { label: opts.label, label_prefix: opts.labelPrefix, metadata: opts.metadata };
  const given = Object.entries(filters).filter(([, value]) => value !== undefined);
  if ((id === undefined ? 0 : 1) + given.length !== 1) {
    throw new UsageError(
      'keys revoke takes one key id, or exactly one of --label, --label-prefix, --metadata',
    );
  }
  const target = await ctx.target();
  const result =
    id === undefined
      ? await adminRequest(target, {
          method: 'POST',
          path: '/v1/keys/revoke',
          body: Object.fromEntries(given),
        })
      : await adminRequest(target, { method: 'DELETE', path: `/v1/keys/${encodeURIComponent(id)}` });
  if (ctx.json) return ctx.print(renderJson(result));
  const r = result as Record<string, unknown>;
  ctx.print(
    id === undefined
      ? `revoked ${String(r.revoked)} keys\n`
      : `revoked ${String(r.id)} at ${String(r.revoked_at)}\n`,
  );
}
