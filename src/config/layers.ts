import { spendgateError } from '../errors/index.js';
import { fileVariant, isSecretName, readSecretFile } from './secret-files.js';

/** One source of settings, such as the flags, the environment, a `.env` file or a config file. */
export interface ConfigLayer {
  /** Named in errors: `flags`, `the environment`, `env file ./.env`. */
  readonly source: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/**
 * Merges layers given highest first. For each setting the first layer that gives it wins, either directly
 * or, for a secret, as `<NAME>_FILE`; only the winning file is read, so a stale path in a lower layer is
 * harmless. One layer giving both forms is refused: which one the operator meant cannot be guessed.
 * An empty string counts as not given, as an empty environment variable always has.
 */
export async function mergeLayers(
  layers: readonly ConfigLayer[],
  names: readonly string[],
): Promise<Record<string, unknown>> {
  const merged: Record<string, unknown> = {};
  for (const name of names) {
    const value = await resolve(layers, name);
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

async function resolve(layers: readonly ConfigLayer[], name: string): Promise<unknown> {
  for (const layer of layers) {
    const direct = given(layer.values[name]);
    const file = isSecretName(name) ? given(layer.values[fileVariant(name)]) : undefined;
    if (direct !== undefined && file !== undefined) {
      throw spendgateError(
        'bad_request',
        `${name} and ${fileVariant(name)} are both set in ${layer.source}; set only one`,
        { param: name },
      );
    }
    if (direct !== undefined) return direct;
    if (file === undefined) continue;
    if (typeof file !== 'string') {
      throw spendgateError('bad_request', `${fileVariant(name)} must be a file path`, {
        param: fileVariant(name),
      });
    }
    return readSecretFile(name, file);
  }
  return undefined;
}

const given = (value: unknown): unknown => (value === undefined || value === '' ? undefined : value);
