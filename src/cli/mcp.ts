import { Option, type Command } from 'commander';
import { MCP_CONFIG_NAMES, MCP_SETTING_HELP, MCP_SWITCHES } from '../../adapters/mcp/config.js';

/** `SPENDGATE_MCP_STRIPE_USD_CAP` → `--stripe-usd-cap`, `SPENDGATE_URL` → `--url`. */
export function mcpFlagFor(name: string): string {
  return `--${name
    .replace(/^SPENDGATE_(MCP_)?/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;
}

/** The property commander stores a flag's value under: `--stripe-usd-cap` → `stripeUsdCap`. */
function attributeFor(name: string): string {
  return mcpFlagFor(name)
    .slice(2)
    .replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Registers `spendgate mcp`. Only the settings' names are loaded here: the MCP SDK is an optional peer, and
 * `spendgate serve` must start without it, so the server itself is imported when the command runs.
 */
export function addMcpCommand(program: Command): void {
  const command = program
    .command('mcp')
    .description(
      'Serve the spendgate tools over MCP (one capped run per session), on stdio or Streamable HTTP, in front of a running proxy',
    )
    .option('--stdio', 'serve one session on stdin/stdout (the default)')
    .option('--http', 'serve Streamable HTTP on --host/--port, with a bearer token')
    .option('--config <file>', 'a JSON file whose keys are the SPENDGATE_MCP_* names');
  for (const name of MCP_CONFIG_NAMES) {
    // A switch takes no value: `--issuer-auth` is SPENDGATE_MCP_ISSUER_AUTH=true.
    const flag = MCP_SWITCHES.includes(name) ? mcpFlagFor(name) : `${mcpFlagFor(name)} <value>`;
    command.addOption(new Option(flag, `${MCP_SETTING_HELP[name]} (${name})`));
  }
  command.addHelpText(
    'after',
    [
      '',
      'Every setting is also read from the environment and the --config file under its name.',
      "SPENDGATE_ADMIN_TOKEN is best an issuer token (it_…): every session's keys then stay inside its budget.",
      "With --http --issuer-auth, each client sends its own issuer token as the bearer, and its sessions'",
      'keys are issued with that token.',
    ].join('\n'),
  );
  command.action(async (opts: Record<string, unknown>) => runMcp(opts));
}

async function runMcp(opts: Record<string, unknown>): Promise<void> {
  if (opts.stdio === true && opts.http === true) throw new Error('choose one of --stdio and --http');
  const overrides: Record<string, unknown> = {};
  for (const name of MCP_CONFIG_NAMES) {
    const value = opts[attributeFor(name)];
    if (value !== undefined) overrides[name] = value;
  }
  if (opts.stdio === true) overrides.SPENDGATE_MCP_TRANSPORT = 'stdio';
  if (opts.http === true) overrides.SPENDGATE_MCP_TRANSPORT = 'http';
  const mcp = await importAdapter();
  const config = await mcp.loadMcpConfig({
    env: process.env,
    file: typeof opts.config === 'string' ? opts.config : undefined,
    overrides,
  });
  // stdout belongs to the protocol on stdio, so every log line goes to stderr.
  const log = (line: string) => process.stderr.write(`spendgate mcp: ${line}\n`);
  const runtime = mcp.mcpOptionsFromConfig(config, { log });
  if (runtime.transport === 'stdio' || !runtime.http) {
    const server = await mcp.serveStdio(runtime.serve);
    onShutdownSignal(() => server.close());
    const reason = await server.closed;
    log(`stopped (${reason})`);
    return;
  }
  const server = await mcp.serveHttp({ ...runtime.serve, ...runtime.http });
  process.stdout.write(`spendgate mcp listening on ${server.url}\n`);
  await new Promise<void>((resolve) => onShutdownSignal(() => server.close().finally(resolve)));
  log('stopped; every session closed and its keys revoked');
}

/** SIGTERM or SIGINT: revoke every session's keys before the process goes. */
function onShutdownSignal(stop: () => Promise<unknown>): void {
  const handler = (signal: string) => {
    process.stderr.write(`spendgate mcp: received ${signal}; revoking session keys\n`);
    stop().catch((err: unknown) =>
      process.stderr.write(`spendgate mcp: error while stopping: ${String(err)}\n`),
    );
  };
  process.once('SIGTERM', () => handler('SIGTERM'));
  process.once('SIGINT', () => handler('SIGINT'));
}

async function importAdapter() {
  try {
    return await import('../../adapters/mcp/index.js');
  } catch (err) {
    if (String((err as Error).message).includes('@modelcontextprotocol/sdk')) {
      throw new Error('spendgate mcp needs the MCP SDK: npm install @modelcontextprotocol/sdk', {
        cause: err,
      });
    }
    throw err;
  }
}
