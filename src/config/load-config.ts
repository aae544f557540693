import { readFile } from 'node:fs/promises';
import { spendgateError } from '../errors/index.js';
import { CONFIG_NAMES, configSchema, type ProxyConfig } from './schema.js';

export interface LoadConfigOptions {
  /** Usually `process.env`. Only the names in the schema are read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A JSON file whose keys are the same names. */
  readonly file?: string | undefined;
  /** Values from CLI flags or code; they win over the file, which wins over the environment. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** Reads and validates configuration. A bad value fails start-up with the offending name, never the value. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ProxyConfig> {
  const merged: Record<string, unknown> = {};
  for (const name of CONFIG_NAMES) {
    const value = options.env?.[name];
    if (value !== undefined && value !== '') merged[name] = value;
  }
  if (options.file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(options.file, 'utf8'));
    } catch (err) {
      throw spendgateError(
        'bad_request',
        `Cannot read config file ${options.file}: ${(err as Error).message}`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw spendgateError('bad_request', `Config file ${options.file} must hold a JSON object`);
    }
    for (const [name, value] of Object.entries(parsed)) {
      if (!(CONFIG_NAMES as string[]).includes(name)) {
        throw spendgateError('bad_request', `Config file ${options.file} has an unknown setting ${name}`);
      }
      merged[name] = value;
    }
  }
  for (const [name, value] of Object.entries(options.overrides ?? {}))
    if (value !== undefined) merged[name] = value;
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = issue?.path.join('.') ?? 'config';
    throw spendgateError('bad_request', `Invalid configuration ${name}: ${issue?.message ?? 'invalid'}`, {
      param: name,
    });
  }
  return result.data;
}
