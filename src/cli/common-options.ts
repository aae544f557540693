import type { Command } from 'commander';

/**
 * `--env-file` / `--no-env-file`, on every command that reads settings. Not on the program itself: a
 * program-level option would swallow a subcommand's own flag of the same name (`spendgate mcp --url`).
 */
export function addEnvFileOptions(command: Command): Command {
  return command
    .option(
      '--env-file <path>',
      'a .env file, read under the environment (env SPENDGATE_ENV_FILE; default: ./.env if present)',
    )
    .option('--no-env-file', 'read no .env file');
}

/** The options of every command that talks to a running proxy. */
export function addTargetOptions(command: Command): Command {
  return addEnvFileOptions(
    command
      .option('--url <url>', 'the running proxy (env SPENDGATE_URL; default: http://127.0.0.1:8787)')
      .option(
        '--token-file <path>',
        'file holding the admin token (env SPENDGATE_ADMIN_TOKEN_FILE, or SPENDGATE_ADMIN_TOKEN itself)',
      )
      .option('--timeout <duration>', 'time allowed per request (default: 10s)')
      .option('--json', 'print JSON instead of a table'),
  );
}
