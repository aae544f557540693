import type { Command } from 'commander';
import { loadSettings } from '../config/load-config.js';
import { configSchema } from '../config/schema.js';
import { createStore } from '../store/create-store.js';
import { addEnvFileOptions } from './common-options.js';
import { CONFIG_FILE_HELP, configSources } from './config-options.js';
import { addSettingFlags } from './setting-flags.js';
import { UsageError } from './usage-error.js';

/** Only the ledger's settings: a deploy pipeline migrates without the admin token or vendor secrets. */
const ledgerSchema = configSchema.pick({
  SPENDGATE_DB: true,
  SPENDGATE_DB_SCHEMA: true,
  SPENDGATE_DB_POOL_MAX: true,
  SPENDGATE_DB_STATEMENT_TIMEOUT_MS: true,
  SPENDGATE_DB_CONNECT_TIMEOUT_MS: true,
});
const LEDGER_NAMES = Object.keys(ledgerSchema.shape);

/** Registers `spendgate migrate`: apply the ledger's migrations (the store's `init()`) and exit. */
export function addMigrateCommand(program: Command): void {
  const command = addEnvFileOptions(program.command('migrate'))
    .description('Apply the ledger migrations to SPENDGATE_DB and exit (for deploy pipelines)')
    .option('--config <file>', CONFIG_FILE_HELP);
  addSettingFlags(command, LEDGER_NAMES);
  command.action(async (_opts: unknown, cmd: Command) => {
    const opts = cmd.optsWithGlobals<Record<string, unknown>>();
    const config = await loadSettings(ledgerSchema, configSources(opts, LEDGER_NAMES)).catch(
      (err: unknown) => {
        throw new UsageError((err as Error).message);
      },
    );
    // createStore runs init(), which applies pending migrations (under an advisory lock on PostgreSQL).
    const store = await createStore({
      db: config.SPENDGATE_DB,
      poolMax: config.SPENDGATE_DB_POOL_MAX,
      statementTimeoutMs: config.SPENDGATE_DB_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: config.SPENDGATE_DB_CONNECT_TIMEOUT_MS,
      schema: config.SPENDGATE_DB_SCHEMA,
    });
    await store.close();
    // Never print a PostgreSQL URL: it may carry the password.
    const ledger = /^postgres/i.test(config.SPENDGATE_DB)
      ? `postgres (schema ${config.SPENDGATE_DB_SCHEMA})`
      : config.SPENDGATE_DB;
    process.stdout.write(`spendgate migrate: ledger ${ledger} is up to date\n`);
  });
}
