import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { CONFIG_NAMES } from '../config/schema.js';
import { addEnvFileOptions } from './common-options.js';
import { CONFIG_FILE_HELP, configSources } from './config-options.js';
import { importPeer } from '../run/peer-import.js';
import { PROXY_PEERS } from './proxy-peers.js';
import { addSettingFlags } from './setting-flags.js';
import { UsageError } from './usage-error.js';

const SERVE_NAMES = CONFIG_NAMES.filter((name) => name !== 'SPENDGATE_SANDBOX');

/** Registers `spendgate serve`: one flag per setting, each with its environment name and default. */
export function addServeCommand(program: Command): void {
  const command = addEnvFileOptions(program.command('serve'))
    .description('Start the proxy and the admin API (settings from flags, --config, the environment, .env)')
    .option('--config <file>', CONFIG_FILE_HELP);
  addSettingFlags(command, SERVE_NAMES);
  command
    .option(
      '--sandbox',
      'answer vendor calls in-process with faithful fakes; no real money moves (env SPENDGATE_SANDBOX; default: false)',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Record<string, unknown>>();
      const extra = opts.sandbox === true ? { SPENDGATE_SANDBOX: true } : {};
      const config = await loadConfig(configSources(opts, SERVE_NAMES, extra)).catch((err: unknown) => {
        throw new UsageError((err as Error).message);
      });
      // Loaded here, not at the top: the management commands run without the proxy's dependencies.
      const { serve } = await importPeer(() => import('./serve.js'), PROXY_PEERS);
      await serve(config);
    });
}
