import { readTextFile } from './read-text-file.js';
import { spendgateError } from '../errors/index.js';

/**
 * The settings that hold secrets. Each may instead be given as `<NAME>_FILE`, the path of a file holding it
 * (a Docker or Kubernetes secret), so the secret never sits in the environment, a flag or a config file.
 * `SPENDGATE_DB` is here because a PostgreSQL URL carries the database password.
 */
export const SECRET_NAMES = [
  'SPENDGATE_ADMIN_TOKEN',
  'STRIPE_SECRET_KEY',
  'TWILIO_AUTH_TOKEN',
  'RESEND_API_KEY',
  'SPENDGATE_DB',
] as const;

export const fileVariant = (name: string): string => `${name}_FILE`;

export const SECRET_FILE_NAMES: readonly string[] = SECRET_NAMES.map(fileVariant);

export function isSecretName(name: string): boolean {
  return (SECRET_NAMES as readonly string[]).includes(name);
}

/**
 * Reads a secret file. Surrounding whitespace goes (`echo` and editors add a newline). Errors name the
 * setting and the path, never anything read from the file.
 */
export async function readSecretFile(name: string, path: string): Promise<string> {
  const setting = fileVariant(name);
  const text = await readTextFile(path, `${setting} (${path})`, { param: setting });
  const value = text.trim();
  if (value === '') throw spendgateError('bad_request', `${setting} (${path}) is empty`, { param: setting });
  // A second line (a comment, an old token) would otherwise travel inside the secret, and a header holding it
  // is refused by HTTP clients with a message that quotes it.
  // (A ledger path may hold spaces; no secret may hold a control character.)
  if (hasForbiddenCharacter(value, name === 'SPENDGATE_DB')) {
    throw spendgateError(
      'bad_request',
      `${setting} (${path}) holds whitespace or control characters inside the secret; put the secret alone in the file`,
      { param: setting },
    );
  }
  return value;
}

/** A control character anywhere, or (unless `spacesAllowed`, for a ledger path) any whitespace. */
function hasForbiddenCharacter(value: string, spacesAllowed: boolean): boolean {
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return true;
    if (!spacesAllowed && /\s/.test(char)) return true;
  }
  return false;
}
