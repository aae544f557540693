import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
  peerDependencies: Record<string, string>;
};
const built = existsSync(join(root, 'dist/src/index.js'));

describe('the published package shape', () => {
  it('marks every framework and driver peer as optional', () => {
    for (const name of Object.keys(pkg.peerDependencies)) {
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
    }
  });

  it.runIf(built || process.env.CI)(
    'points every export and the bin at files the build produced',
    async () => {
      for (const [subpath, target] of Object.entries(pkg.exports)) {
        const files = typeof target === 'string' ? [target] : [target.types, target.default];
        for (const file of files) expect(existsSync(join(root, file)), `${subpath} → ${file}`).toBe(true);
      }
      for (const file of Object.values(pkg.bin)) expect(existsSync(join(root, file))).toBe(true);
      const server = (await import(join(root, 'dist/src/server/index.js'))) as Record<string, unknown>;
      expect(typeof server.startProxy).toBe('function');
      const core = (await import(join(root, 'dist/src/index.js'))) as Record<string, unknown>;
      expect(typeof core.createSpendgateClient).toBe('function');
    },
  );
});
