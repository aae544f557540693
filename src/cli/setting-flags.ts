import { Option, type Command } from 'commander';
import { fileVariant, isSecretName } from '../config/secret-files.js';
import { settingHelp } from '../config/setting-docs.js';

/** `SPENDGATE_MAX_TTL` → `--max-ttl`, `STRIPE_SECRET_KEY` → `--stripe-secret-key`. */
export function flagFor(name: string): string {
  return `--${name
    .replace(/^SPENDGATE_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;
}

/** The property commander stores a flag's value under: `--admin-token-file` → `adminTokenFile`. */
function attributeFor(name: string): string {
  return flagFor(name)
    .slice(2)
    .replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Whether a setting may be given as a flag's value. A secret may not (only as `--…-file`): a command line is
 * visible to every local user in `ps` and `/proc/<pid>/cmdline`. The ledger setting is the exception, since it is
 * usually a file path; a PostgreSQL URL with a password belongs in `--db-file` or the environment.
 */
function takesValueFlag(name: string): boolean {
  return !isSecretName(name) || name === 'SPENDGATE_DB';
}

/** Every flag name a set of settings takes, secrets' `_FILE` forms included. */
function flagNames(names: readonly string[]): string[] {
  return names.flatMap((name) => {
    const own = takesValueFlag(name) ? [name] : [];
    return isSecretName(name) ? [...own, fileVariant(name)] : own;
  });
}

/** Adds one flag per setting (and `--…-file` per secret), each with its meaning, env name and default. */
export function addSettingFlags(command: Command, names: readonly string[]): void {
  for (const name of names) {
    if (takesValueFlag(name)) command.addOption(new Option(`${flagFor(name)} <value>`, settingHelp(name)));
    if (isSecretName(name)) {
      const file = fileVariant(name);
      command.addOption(
        new Option(`${flagFor(file)} <path>`, `read ${name} from this file (env ${file}; default: none)`),
      );
    }
  }
}

/** The flags given, under their setting names, for `loadConfig`'s `overrides`. */
export function settingOverrides(
  opts: Record<string, unknown>,
  names: readonly string[],
): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const name of flagNames(names)) {
    const value = opts[attributeFor(name)];
    if (value !== undefined) overrides[name] = value;
  }
  return overrides;
}
