import { Command, Option } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { CONFIG_NAMES } from '../config/schema.js';
import { addMcpCommand } from './mcp.js';
import { serve } from './serve.js';

/** `SPENDGATE_MAX_TTL` → `--max-ttl`, `STRIPE_SECRET_KEY` → `--stripe-secret-key`. */
export function flagFor(name: string): string {
  return `--${name
    .replace(/^SPENDGATE_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;
}

function attributeFor(name: string): string {
  return name
    .replace(/^SPENDGATE_/, '')
    .toLowerCase()
    .replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('spendgate').description('Budget brakes for AI agents that spend real money');
  const serveCommand = program
    .command('serve')
    .description('Start the proxy and the admin API (configuration from the environment, flags or --config)')
    .option('--config <file>', 'a JSON file whose keys are the SPENDGATE_* names');
  for (const name of CONFIG_NAMES) {
    if (name === 'SPENDGATE_SANDBOX') continue;
    serveCommand.addOption(new Option(`${flagFor(name)} <value>`, `sets ${name}`));
  }
  serveCommand
    .option('--sandbox', 'answer vendor calls in-process with faithful fakes (no real money moves)')
    .action(async (opts: Record<string, unknown>) => {
      const overrides: Record<string, unknown> = {};
      for (const name of CONFIG_NAMES) {
        const value = opts[attributeFor(name)];
        if (value !== undefined) overrides[name] = value;
      }
      if (opts.sandbox === true) overrides.SPENDGATE_SANDBOX = true;
      const config = await loadConfig({
        env: process.env,
        file: typeof opts.config === 'string' ? opts.config : undefined,
        overrides,
      });
      await serve(config);
    });
  addMcpCommand(program);
  await program.parseAsync([...argv]);
}
