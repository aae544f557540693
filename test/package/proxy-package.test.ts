import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROXY_PEERS } from '../../src/cli/proxy-peers.js';
import { REPO_ROOT } from '../multi-instance/helpers.js';

interface Manifest {
  name: string;
  version: string;
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const manifest = async (path: string) =>
  JSON.parse(await readFile(join(REPO_ROOT, path), 'utf8')) as Manifest;

/**
 * Two packages: `spendgate` (tools, client, CLI) names the proxy's dependencies as optional peers, and
 * `@spendgate/proxy` depends on all of them, so `npx @spendgate/proxy serve` is the proxy's one-command start.
 */
describe('the package shape', () => {
  it('keeps the proxy dependencies out of spendgate, as optional peers it is developed and tested with', async () => {
    const root = await manifest('package.json');
    for (const name of PROXY_PEERS.packages) {
      expect(root.dependencies?.[name], name).toBeUndefined();
      expect(root.peerDependencies?.[name], name).toBeDefined();
      expect(root.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
      expect(root.devDependencies?.[name], name).toBe(root.peerDependencies?.[name]);
    }
    expect(Object.keys(root.dependencies ?? {}).sort()).toEqual(['commander', 'yaml', 'zod']);
    expect(root.exports?.['./cli']).toBe('./dist/src/cli/bin.js');
  });

  it('gives @spendgate/proxy every proxy dependency, at the same ranges, and this version of spendgate', async () => {
    const root = await manifest('package.json');
    const proxy = await manifest('packages/proxy/package.json');
    expect(proxy.name).toBe('@spendgate/proxy');
    expect(proxy.version).toBe(root.version);
    expect(proxy.dependencies?.spendgate).toBe(root.version);
    for (const name of PROXY_PEERS.packages) {
      expect(proxy.dependencies?.[name], name).toBe(root.peerDependencies?.[name]);
    }
    expect(proxy.bin).toEqual({ 'spendgate-proxy': './bin.js' });
    expect(await readFile(join(REPO_ROOT, 'packages/proxy/bin.js'), 'utf8')).toContain(
      "import 'spendgate/cli'",
    );
  });
});
