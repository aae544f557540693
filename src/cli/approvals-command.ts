import type { Command } from 'commander';
import { adminRequest } from '../client/admin-request.js';
import { contextOf } from './command-context.js';
import { addTargetOptions } from './common-options.js';
import { field, renderJson, renderRecord, renderTable } from './output.js';

const APPROVAL_COLUMNS = [
  field('id'),
  field('status'),
  field('amount_usd', 'amount'),
  field('method'),
  field('path'),
  field('key_id', 'key'),
  field('label'),
  field('expires_at', 'expires'),
];

/**
 * Registers `spendgate approvals list|approve|deny`, for keys with `approval_above_usd` (docs/http-api.md,
 * "Approval above an amount"). The calls go straight to the HTTP contract so the CLI does not depend on
 * which client methods exist.
 */
export function addApprovalsCommand(program: Command): void {
  const approvals = program
    .command('approvals')
    .description('List, approve and deny calls waiting for approval (keys with approval_above_usd)');
  addTargetOptions(approvals.command('list'))
    .description('List approval requests (GET /v1/approvals)')
    .option('--status <status>', 'pending, approved, denied, expired, used, or all', 'pending')
    .option('--key-id <id>', 'only this key’s requests')
    .option('--label <label>', 'only requests of keys with this label')
    .action(async (opts: { status: string; keyId?: string; label?: string }, command: Command) => {
      const ctx = contextOf(command);
      const query = {
        status: opts.status === 'all' ? undefined : opts.status,
        key_id: opts.keyId,
        label: opts.label,
      };
      const answer = await adminRequest(await ctx.target(), { method: 'GET', path: '/v1/approvals', query });
      if (ctx.json) return ctx.print(renderJson(answer));
      ctx.print(renderTable(rowsOf(answer), APPROVAL_COLUMNS));
    });
  for (const decision of ['approve', 'deny'] as const) {
    addTargetOptions(approvals.command(decision))
      .description(
        decision === 'approve'
          ? 'Approve a request: prints the single-use grant (Spendgate-Approval header) for that exact call'
          : 'Deny a request',
      )
      .argument('<id>', 'approval request id (apr_…)')
      .option('--note <text>', 'a note for the proxy’s log')
      .action(async (id: string, opts: { note?: string }, command: Command) => {
        const ctx = contextOf(command);
        const answer = await adminRequest(await ctx.target(), {
          method: 'POST',
          path: `/v1/approvals/${encodeURIComponent(id)}/${decision}`,
          ...(opts.note === undefined ? {} : { body: { note: opts.note } }),
        });
        ctx.print(ctx.json ? renderJson(answer) : renderRecord(answer as Record<string, unknown>));
      });
  }
}

/** A list answer is `{ data: [...] }` like every other list; a bare array is read too. */
function rowsOf(answer: unknown): Record<string, unknown>[] {
  if (Array.isArray(answer)) return answer as Record<string, unknown>[];
  const data = (answer as { data?: unknown } | null)?.data;
  return Array.isArray(data) ? (data as Record<string, unknown>[]) : [];
}
