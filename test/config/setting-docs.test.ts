import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { CONFIG_NAMES, configSchema } from '../../src/config/schema.js';
import { SECRET_FILE_NAMES } from '../../src/config/secret-files.js';
import { SETTING_DOCS } from '../../src/config/setting-docs.js';

const field = (name: string) => (configSchema.shape as unknown as Record<string, z.ZodType>)[name];

describe('setting docs (--help and docs/cli.md)', () => {
  it.each(CONFIG_NAMES)('%s is described, and its documented default is the schema’s', (name) => {
    const doc = SETTING_DOCS[name];
    expect(doc, `${name} needs an entry in src/config/setting-docs.ts`).toBeDefined();
    const schema = field(name);
    const actual = schema?.safeParse(undefined);
    if (doc?.default === 'required') return expect(actual?.success).toBe(false);
    expect(actual?.success).toBe(true);
    if (doc?.default === 'none') {
      const value = actual?.data as unknown;
      return expect(
        value === undefined || (typeof value === 'object' && Object.keys(value ?? {}).length === 0),
      ).toBe(true);
    }
    expect(schema?.parse(doc?.default)).toEqual(actual?.data);
  });

  it('docs/cli.md lists every setting and every _FILE form', () => {
    const text = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    for (const name of [...CONFIG_NAMES, ...SECRET_FILE_NAMES]) expect(text, name).toContain(`\`${name}\``);
  });
});
