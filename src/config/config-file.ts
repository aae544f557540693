import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { spendgateError } from '../errors/index.js';
import { readTextFile } from './read-text-file.js';

/**
 * Reads a config file: JSON for `.json`, YAML otherwise (`.yaml`, `.yml`). A parse error says where, never
 * what: parsers quote the offending text, and the text around a typo is often a secret.
 */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  const text = await readTextFile(path, `config file ${path}`);
  const json = extname(path).toLowerCase() === '.json';
  const parsed = json ? parseJson(path, text) : parseYamlText(path, text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw spendgateError('bad_request', `Config file ${path} must hold an object of settings`);
  }
  return parsed as Record<string, unknown>;
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // V8's message quotes the text near the error; keep only the position, as a line and column.
    const position = /position (\d+)/.exec(String((err as Error).message))?.[1];
    const where = position === undefined ? '' : ` at ${lineAndColumn(text, Number(position))}`;
    throw spendgateError('bad_request', `Config file ${path} is not valid JSON${where}`);
  }
}

/**
 * YAML's failsafe schema keeps every scalar as the text written, exactly as an environment variable
 * would hold it: the settings' schema does the typing, so a long numeric token is never rounded.
 */
function parseYamlText(path: string, text: string): unknown {
  try {
    return parseYaml(text, { schema: 'failsafe', prettyErrors: false });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const where = ` at ${lineAndColumn(text, err.pos[0])}`;
      throw spendgateError('bad_request', `Config file ${path} is not valid YAML${where} (${err.code})`);
    }
    throw spendgateError('bad_request', `Config file ${path} is not valid YAML`);
  }
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
