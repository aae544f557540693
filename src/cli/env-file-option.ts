import { existsSync } from 'node:fs';

/**
 * The `.env` file to read: `--env-file <path>` or `SPENDGATE_ENV_FILE` (which must exist), none with
 * `--no-env-file`, otherwise `./.env` when there is one.
 */
export function envFilePath(
  option: string | boolean | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (option === false) return undefined;
  if (typeof option === 'string') return option;
  const named = env.SPENDGATE_ENV_FILE;
  if (named !== undefined && named !== '') return named;
  return existsSync('.env') ? '.env' : undefined;
}
