import type { AdminTarget } from '../client/admin-request.js';
import { mergeLayers, type ConfigLayer } from '../config/layers.js';
import { readEnvFile } from '../config/env-file.js';
import { parseDuration } from '../duration.js';
import { UsageError } from './usage-error.js';

/** The options every management command shares (commander's `optsWithGlobals()`). */
export interface TargetOptions {
  readonly url?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly timeout?: string | undefined;
}

export const DEFAULT_PROXY_URL = 'http://127.0.0.1:8787';

/**
 * Which proxy to talk to and with which token: `--url` / `--token-file`, then the environment
 * (`SPENDGATE_URL`, `SPENDGATE_ADMIN_TOKEN` or `SPENDGATE_ADMIN_TOKEN_FILE`), then the `.env` file.
 * There is no `--token` flag on purpose: a flag's value is visible to every user in `ps`.
 */
export async function resolveTarget(
  options: TargetOptions,
  context: { env: Readonly<Record<string, string | undefined>>; envFile: string | undefined },
): Promise<AdminTarget> {
  const layers: ConfigLayer[] = [
    {
      source: 'flags',
      values: { SPENDGATE_URL: options.url, SPENDGATE_ADMIN_TOKEN_FILE: options.tokenFile },
    },
    { source: 'the environment', values: context.env },
  ];
  if (context.envFile) {
    layers.push({ source: `env file ${context.envFile}`, values: await readEnvFile(context.envFile) });
  }
  let merged: Record<string, unknown>;
  try {
    merged = await mergeLayers(layers, ['SPENDGATE_URL', 'SPENDGATE_ADMIN_TOKEN']);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const baseUrl = String(merged.SPENDGATE_URL ?? DEFAULT_PROXY_URL);
  if (!/^https?:\/\/[^/]/i.test(baseUrl) || !URL.canParse(baseUrl)) {
    throw new UsageError('SPENDGATE_URL (--url) must be an http(s) URL such as http://127.0.0.1:8787');
  }
  const { username, password } = new URL(baseUrl);
  if (username !== '' || password !== '') {
    throw new UsageError(
      'SPENDGATE_URL (--url) must not carry a user or password; the admin token is the credential',
    );
  }
  const token = merged.SPENDGATE_ADMIN_TOKEN;
  if (typeof token !== 'string' || token === '') {
    throw new UsageError(
      'No admin token: set SPENDGATE_ADMIN_TOKEN or SPENDGATE_ADMIN_TOKEN_FILE, or pass --token-file',
    );
  }
  return { baseUrl, token, timeoutMs: timeoutMs(options.timeout) };
}

function timeoutMs(value: string | undefined): number {
  if (value === undefined) return 10_000;
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new UsageError('--timeout must be a duration of at least 1 s, such as 10s');
  return parsed.ms;
}
