import { readFile } from 'node:fs/promises';
import { spendgateError } from '../errors/index.js';

/**
 * Reads a settings file (config, `.env`, a secret). A failure names what was being read and the system's
 * code (`ENOENT`, `EACCES`), never anything from the file.
 */
export async function readTextFile(
  path: string,
  what: string,
  details?: Readonly<Record<string, unknown>>,
): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw spendgateError(
      'bad_request',
      `Cannot read ${what}: ${typeof code === 'string' ? code : 'unreadable'}`,
      details,
    );
  }
}
