import { parseEnv } from 'node:util';
import { readTextFile } from './read-text-file.js';

/**
 * Reads a `.env` file with Node's own parser (the one `process.loadEnvFile` uses) into a plain object.
 * It deliberately does not load it into `process.env`: the values stay one layer below the real
 * environment (so they never override it) and are not passed on to child processes.
 */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  const text = await readTextFile(path, `env file ${path}`);
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseEnv(text))) if (value !== undefined) values[name] = value;
  return values;
}
