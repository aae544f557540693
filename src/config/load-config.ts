import type { z } from 'zod';
import { spendgateError } from '../errors/index.js';
import { readConfigFile } from './config-file.js';
import { readEnvFile } from './env-file.js';
import { mergeLayers, type ConfigLayer } from './layers.js';
import { CONFIG_NAMES, configSchema, type ProxyConfig } from './schema.js';
import { SECRET_FILE_NAMES } from './secret-files.js';

export interface LoadConfigOptions {
  /** Usually `process.env`. Only the names in the schema (and their `_FILE` forms) are read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A `.env` file: below the environment, so it never overrides a variable that is set. */
  readonly envFile?: string | undefined;
  /** A JSON (`.json`) or YAML (`.yaml`, `.yml`) file whose keys are the same names. */
  readonly file?: string | undefined;
  /** Values from CLI flags or code. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/**
 * Reads and validates configuration. Precedence, highest first: overrides (flags), the config file, the
 * environment, the `.env` file, the defaults; at each level a secret may be given as `<NAME>_FILE`. A bad
 * value fails start-up with the offending name, never the value.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ProxyConfig> {
  return loadSettings(configSchema, options);
}

/**
 * `loadConfig` for a subset of the settings (`spendgate migrate` needs the ledger's, not the admin token).
 * The config file may still hold any setting.
 */
export async function loadSettings<S extends z.ZodObject>(
  schema: S,
  options: LoadConfigOptions = {},
): Promise<z.output<S>> {
  const layers: ConfigLayer[] = [{ source: 'flags', values: options.overrides ?? {} }];
  if (options.file)
    layers.push({ source: `config file ${options.file}`, values: await fileLayer(options.file) });
  layers.push({ source: 'the environment', values: options.env ?? {} });
  if (options.envFile) {
    layers.push({ source: `env file ${options.envFile}`, values: await readEnvFile(options.envFile) });
  }
  const merged = await mergeLayers(layers, Object.keys(schema.shape));
  const result = schema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = issue?.path.join('.') ?? 'config';
    throw spendgateError('bad_request', `Invalid configuration ${name}: ${issue?.message ?? 'invalid'}`, {
      param: name,
    });
  }
  return result.data;
}

async function fileLayer(file: string): Promise<Record<string, unknown>> {
  const values = await readConfigFile(file);
  const known = new Set<string>([...CONFIG_NAMES, ...SECRET_FILE_NAMES]);
  for (const name of Object.keys(values)) {
    if (!known.has(name)) {
      throw spendgateError('bad_request', `Config file ${file} has an unknown setting ${name}`, {
        param: name,
      });
    }
  }
  return values;
}
