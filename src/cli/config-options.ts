import type { LoadConfigOptions } from '../config/load-config.js';
import { envFilePath } from './env-file-option.js';
import { settingOverrides } from './setting-flags.js';

/** What `serve` and `migrate` pass to the config loader: flags, `--config`, the environment and `.env`. */
export function configSources(
  opts: Record<string, unknown>,
  names: readonly string[],
  extra: Record<string, unknown> = {},
): LoadConfigOptions {
  return {
    env: process.env,
    envFile: envFilePath(opts.envFile as string | boolean | undefined, process.env),
    file: typeof opts.config === 'string' ? opts.config : undefined,
    overrides: { ...settingOverrides(opts, names), ...extra },
  };
}

export const CONFIG_FILE_HELP =
  'a YAML (.yaml, .yml) or JSON (.json) file whose keys are the setting names; flags win over it, it wins over the environment';
