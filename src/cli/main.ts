import { Command } from 'commander';
import { addApprovalsCommand } from './approvals-command.js';
import { addAuditCommand } from './audit-command.js';
import { addBudgetsCommand } from './budgets-command.js';
import { addIssuersCommand } from './issuers-command.js';
import { addKeysCommand } from './keys-command.js';
import { addMcpCommand } from './mcp.js';
import { addMigrateCommand } from './migrate-command.js';
import { addServeCommand } from './serve-command.js';
import { addStatusCommand } from './status-command.js';
import { packageVersion } from './version.js';

export { flagFor } from './setting-flags.js';

/** Builds the whole CLI. Usage errors throw a `CommanderError` (see `exitCodeFor`) instead of exiting. */
export function buildProgram(): Command {
  const program = new Command('spendgate')
    .description('Budget brakes for AI agents that spend real money')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  addServeCommand(program);
  addMigrateCommand(program);
  addKeysCommand(program);
  addBudgetsCommand(program);
  addIssuersCommand(program);
  addApprovalsCommand(program);
  addAuditCommand(program);
  addStatusCommand(program);
  addMcpCommand(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  await buildProgram().parseAsync([...argv]);
}
