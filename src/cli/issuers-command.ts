import { Option, type Command } from 'commander';
import { adminRequest } from '../client/admin-request.js';
import { contextOf, type CommandContext } from './command-context.js';
import { addTargetOptions } from './common-options.js';
import { collect, positiveIntArg, ttlArg, usdArg } from './flag-values.js';
import { field, renderJson, renderRecord, renderTable } from './output.js';

type Opts = Record<string, unknown>;

const ISSUER_COLUMNS = [
  field('id'),
  field('budget_id', 'budget'),
  field('label'),
  field('status'),
  field('vendors'),
  field('max_key_usd_cap', 'max key cap'),
  field('max_ttl', 'max ttl (s)'),
  field('expires_at', 'expires'),
];

/**
 * Registers `spendgate issuers create|list|get|revoke`. An issuer token (`it_…`) works as the admin token
 * inside one budget's subtree: what an agent backend should hold instead of the admin token.
 */
export function addIssuersCommand(program: Command): void {
  const issuers = program
    .command('issuers')
    .description('Create, list, read and revoke issuer tokens scoped to a budget (admin token only)');
  addCreate(issuers.command('create'));
  addTargetOptions(issuers.command('list'))
    .description('List issuers (GET /v1/issuers)')
    .option('--budget <bud_id>', 'only issuers of this budget')
    .addOption(new Option('--status <status>', 'issuer status').choices(['active', 'revoked', 'expired']))
    .option('--limit <n>', 'issuers per page', positiveIntArg)
    .option('--cursor <cursor>', 'continue from a next_cursor')
    .action((opts: Opts, command: Command) => listIssuers(contextOf(command), opts));
  addTargetOptions(issuers.command('get'))
    .description('Show one issuer (GET /v1/issuers/{id})')
    .argument('<id>', 'issuer id (iss_…)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      const issuer = await adminRequest(await ctx.target(), { method: 'GET', path: issuerPath(id) });
      ctx.print(ctx.json ? renderJson(issuer) : renderRecord(issuer as Opts));
    });
  addTargetOptions(issuers.command('revoke'))
    .description('Revoke an issuer: its token stops working at once (DELETE /v1/issuers/{id})')
    .argument('<id>', 'issuer id (iss_…)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      const r = (await adminRequest(await ctx.target(), { method: 'DELETE', path: issuerPath(id) })) as Opts;
      ctx.print(
        ctx.json
          ? renderJson(r)
          : `revoked ${String(r.id)} at ${String(r.revoked_at)}, and ${String(r.revoked_keys ?? 0)} key(s) it had issued\n`,
      );
    });
}

function addCreate(command: Command): void {
  addTargetOptions(command)
    .description('Create an issuer token for a budget’s subtree (POST /v1/issuers); shown once')
    .requiredOption('--budget <bud_id>', 'the budget whose subtree the token may manage')
    .option('--vendor <vendor>', 'a vendor its keys may be for (repeatable; default: any)', collect)
    .option('--max-key-usd-cap <usd>', 'the most usd_cap or daily_usd_cap a key it issues may have', usdArg)
    .option('--max-ttl <duration>', 'the longest TTL a key or budget it issues may have', ttlArg)
    .option(
      '--endpoint <rule>',
      'an endpoint rule its keys must stay within (repeatable; default: any)',
      collect,
    )
    .option('--ttl <duration>', 'when the issuer token lapses (default: never)', ttlArg)
    .option('--label <label>', 'free text for correlation')
    .action((opts: Opts, cmd: Command) => createIssuer(contextOf(cmd), opts));
}

async function createIssuer(ctx: CommandContext, opts: Opts): Promise<void> {
  const fields: Opts = {
    budget_id: opts.budget,
    label: opts.label,
    vendors: opts.vendor,
    max_key_usd_cap: opts.maxKeyUsdCap,
    max_ttl: opts.maxTtl,
    allowed_endpoints: opts.endpoint,
    expires_in: opts.ttl,
  };
  const body = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  const issuer = await adminRequest(await ctx.target(), { method: 'POST', path: '/v1/issuers', body });
  if (ctx.json) return ctx.print(renderJson(issuer));
  ctx.print(renderRecord(issuer as Opts));
  ctx.note('The token is shown once: the proxy keeps only its hash.');
}

async function listIssuers(ctx: CommandContext, opts: Opts): Promise<void> {
  const query = {
    budget_id: opts.budget as string | undefined,
    status: opts.status as string | undefined,
    limit: opts.limit as number | undefined,
    cursor: opts.cursor as string | undefined,
  };
  const page = (await adminRequest(await ctx.target(), { method: 'GET', path: '/v1/issuers', query })) as {
    data: Opts[];
    next_cursor: string | null;
  };
  if (ctx.json) return ctx.print(renderJson(page));
  ctx.print(renderTable(page.data, ISSUER_COLUMNS));
  if (page.next_cursor) ctx.note(`More issuers: --cursor ${page.next_cursor}`);
}

const issuerPath = (id: string): string => `/v1/issuers/${encodeURIComponent(id)}`;
