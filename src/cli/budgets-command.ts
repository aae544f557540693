import { Option, type Command } from 'commander';
import { adminRequest } from '../client/admin-request.js';
import { contextOf, type CommandContext } from './command-context.js';
import { addTargetOptions } from './common-options.js';
import { metadataArg, positiveIntArg, ttlArg, usdArg } from './flag-values.js';
import { field, renderJson, renderRecord, renderTable } from './output.js';
import { UsageError } from './usage-error.js';

type Opts = Record<string, unknown>;

const BUDGET_COLUMNS = [
  field('id'),
  field('parent_id', 'parent'),
  field('label'),
  field('status'),
  field('depth'),
  field('spent_usd', 'spent'),
  field('remaining_usd', 'remaining'),
  field('usd_cap', 'cap'),
  field('daily_usd_cap', 'daily cap'),
  field('keys'),
  field('child_budgets', 'children'),
  field('expires_at', 'expires'),
];

/** Registers `spendgate budgets create|list|get|revoke`. */
export function addBudgetsCommand(program: Command): void {
  const budgets = program
    .command('budgets')
    .description('Create, list, read and revoke budgets (pots of money keys and child budgets draw from)');
  addCreate(budgets.command('create'));
  addList(budgets.command('list'));
  addTargetOptions(budgets.command('get'))
    .description('Show one budget and the spend below it (GET /v1/budgets/{id})')
    .argument('<id>', 'budget id (bud_…)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      const budget = await adminRequest(await ctx.target(), { method: 'GET', path: budgetPath(id) });
      ctx.print(ctx.json ? renderJson(budget) : renderRecord(budget as Opts));
    });
  addTargetOptions(budgets.command('revoke'))
    .description('Revoke a budget, its whole subtree and every key in it (DELETE /v1/budgets/{id})')
    .argument('<id>', 'budget id (bud_…)')
    .action((id: string, _opts: unknown, command: Command) => revokeBudget(contextOf(command), id));
}

function addCreate(command: Command): void {
  addTargetOptions(command)
    .description('Create a budget (POST /v1/budgets); a root budget needs --usd-cap or --daily-usd-cap')
    .option('--usd-cap <usd>', 'cap over the budget’s whole life', usdArg)
    .option('--daily-usd-cap <usd>', 'cap per UTC day', usdArg)
    .option('--max-usd-per-call <usd>', 'the most one call below it may cost', usdArg)
    .option('--parent <bud_id>', 'the budget this one is carved from (default: a root budget)')
    .option(
      '--ttl <duration>',
      'lifetime: 90s, 30m, 1h30m or seconds (default: the proxy’s SPENDGATE_DEFAULT_TTL)',
      ttlArg,
    )
    .option('--expires-at <iso>', 'an absolute expiry instead of --ttl')
    .option('--label <label>', 'free text for correlation and queries')
    .option('--metadata <key=value>', 'metadata entry (repeatable)', metadataArg)
    .action((opts: Opts, cmd: Command) => createBudget(contextOf(cmd), opts));
}

function addList(command: Command): void {
  addTargetOptions(command)
    .description('List budgets with their spend (GET /v1/budgets)')
    .option('--label <label>', 'exact label')
    .option('--label-prefix <prefix>', 'label prefix')
    .option('--parent <bud_id>', 'only the direct children of this budget')
    .addOption(new Option('--status <status>', 'budget status').choices(['active', 'revoked', 'expired']))
    .option('--limit <n>', 'budgets per page', positiveIntArg)
    .option('--cursor <cursor>', 'continue from a next_cursor')
    .action((opts: Opts, cmd: Command) => listBudgets(contextOf(cmd), opts));
}

async function createBudget(ctx: CommandContext, opts: Opts): Promise<void> {
  if (opts.ttl !== undefined && opts.expiresAt !== undefined) {
    throw new UsageError('give --ttl or --expires-at, not both');
  }
  const body = defined({
    parent_id: opts.parent,
    usd_cap: opts.usdCap,
    daily_usd_cap: opts.dailyUsdCap,
    max_usd_per_call: opts.maxUsdPerCall,
    expires_in: opts.ttl,
    expires_at: opts.expiresAt,
    label: opts.label,
    metadata: opts.metadata,
  });
  const budget = await adminRequest(await ctx.target(), { method: 'POST', path: '/v1/budgets', body });
  ctx.print(ctx.json ? renderJson(budget) : renderRecord(budget as Opts));
}

async function listBudgets(ctx: CommandContext, opts: Opts): Promise<void> {
  const query = {
    label: opts.label as string | undefined,
    label_prefix: opts.labelPrefix as string | undefined,
    parent_id: opts.parent as string | undefined,
    status: opts.status as string | undefined,
    limit: opts.limit as number | undefined,
    cursor: opts.cursor as string | undefined,
  };
  const page = (await adminRequest(await ctx.target(), { method: 'GET', path: '/v1/budgets', query })) as {
    data: Opts[];
    next_cursor: string | null;
  };
  if (ctx.json) return ctx.print(renderJson(page));
  ctx.print(renderTable(page.data, BUDGET_COLUMNS));
  if (page.next_cursor) ctx.note(`More budgets: --cursor ${page.next_cursor}`);
}

async function revokeBudget(ctx: CommandContext, id: string): Promise<void> {
  const result = await adminRequest(await ctx.target(), { method: 'DELETE', path: budgetPath(id) });
  if (ctx.json) return ctx.print(renderJson(result));
  const r = result as Opts;
  ctx.print(
    `revoked ${String(r.id)} at ${String(r.revoked_at)}: ` +
      `${String(r.revoked_budgets)} budgets and ${String(r.revoked_keys)} keys\n`,
  );
}

const budgetPath = (id: string): string => `/v1/budgets/${encodeURIComponent(id)}`;

/** The entries whose value was given. */
function defined(fields: Opts): Opts {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
