import { readFile } from 'node:fs/promises';
import { parseEnv } from 'node:util';
import { spendgateError } from '../errors/index.js';

/**
 * Reads a `.env` file with Node's own parser (the one `process.loadEnvFile` uses) into a plain object.
 * It deliberately does not load it into `process.env`: the values stay one layer below the real
 * environment (so they never override it) and are not passed on to child processes.
 */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw spendgateError(
      'bad_request',
      `Cannot read env file ${path}: ${typeof code === 'string' ? code : 'unreadable'}`,
    );
  }
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseEnv(text))) if (value !== undefined) values[name] = value;
  return values;
}
