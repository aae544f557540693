import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MissingPeerError, missingPeerError, type PeerSpec } from '../../src/run/peer-import.js';

/**
 * Framework packages are optional peers: importing one adapter must not need another framework, and the core
 * must need none. Two checks: each entry point is imported in a child process where the other frameworks
 * cannot be resolved (a loader hook makes them fail as if uninstalled), and its relative import graph is read
 * for the bare packages it names.
 */

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const blocker = pathToFileURL(resolve(root, 'test/agents/fixtures/block-packages.mjs')).href;

const FRAMEWORKS = {
  openai: ['@openai/agents', '@openai/agents-core', '@openai/agents-openai', 'openai'],
  langchain: ['langchain', '@langchain/core', '@langchain/langgraph'],
  ai: ['ai', '@ai-sdk/provider', '@ai-sdk/provider-utils', '@ai-sdk/gateway'],
} as const;
const VENDOR_SDKS = ['stripe', 'twilio', 'resend'];

const ADAPTERS = [
  {
    entry: 'adapters/openai-agents/index.ts',
    own: 'openai',
    blocked: [...FRAMEWORKS.langchain, ...FRAMEWORKS.ai],
    missing:
      /^MissingPeerError: spendgate\/openai-agents needs the package "@openai\/agents", which is not installed\. Install it next to spendgate: npm install @openai\/agents$/m,
  },
  {
    entry: 'adapters/langchain/index.ts',
    own: 'langchain',
    blocked: [...FRAMEWORKS.openai, ...FRAMEWORKS.ai],
    missing:
      /^MissingPeerError: spendgate\/langchain needs the package "(langchain|@langchain\/core)", which is not installed\. Install it next to spendgate: npm install langchain @langchain\/core$/m,
  },
  {
    entry: 'adapters/ai-sdk/index.ts',
    own: 'ai',
    blocked: [...FRAMEWORKS.openai, ...FRAMEWORKS.langchain],
    missing:
      /^MissingPeerError: spendgate\/ai-sdk needs the package "ai", which is not installed\. Install it next to spendgate: npm install ai$/m,
  },
] as const;

const ENTRY_POINTS = [
  ...ADAPTERS,
  {
    entry: 'src/index.ts',
    own: null,
    blocked: [...FRAMEWORKS.openai, ...FRAMEWORKS.langchain, ...FRAMEWORKS.ai, ...VENDOR_SDKS],
  },
] as const;

/** Imports `entry` in a fresh Node process with `blocked` unresolvable; returns its exports' names. */
async function importWithout(entry: string, blocked: readonly string[]): Promise<string[]> {
  const url = pathToFileURL(resolve(root, entry)).href;
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      blocker,
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(url)}); console.log(JSON.stringify(Object.keys(m)));`,
    ],
    {
      cwd: root,
      env: { ...process.env, SPENDGATE_BLOCKED_PACKAGES: JSON.stringify(blocked) },
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
}

/** Bare package names imported anywhere in the relative import graph starting at `entry`. */
function packagesImportedBy(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(
      /(?:^|\s)(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm,
    )) {
      const specifier = match[1] ?? match[2] ?? '';
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:')) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier));
      }
    }
  };
  visit(resolve(root, entry));
  return packages;
}

describe('optional peer dependencies', () => {
  it.each(ENTRY_POINTS)('$entry loads with the other frameworks unresolvable', async ({ entry, blocked }) => {
    const exported = await importWithout(entry, blocked);
    expect(exported.length).toBeGreaterThan(0);
  });

  it.each(ADAPTERS)('$entry re-exports createSpendgateClient', async ({ entry, blocked }) => {
    expect(await importWithout(entry, blocked)).toContain('createSpendgateClient');
  });

  it.each(ADAPTERS)(
    '$entry without its own framework fails with the package to install, not a bare module error',
    async ({ entry, own, missing }) => {
      const failure = await importWithout(entry, FRAMEWORKS[own]).then(
        () => null,
        (err: { stderr?: string }) => err.stderr ?? '',
      );
      expect(failure).toMatch(missing);
      expect(failure).toMatch(/code: 'ERR_MODULE_NOT_FOUND'/);
    },
  );

  it.each(ENTRY_POINTS)("$entry's import graph names no other framework", ({ entry, blocked, own }) => {
    const packages = packagesImportedBy(entry);
    for (const name of blocked) expect(packages).not.toContain(name);
    if (own)
      expect([...packages].some((name) => (FRAMEWORKS[own] as readonly string[]).includes(name))).toBe(true);
  });
});

describe('missingPeerError', () => {
  const spec: PeerSpec = { entry: 'spendgate/x', packages: ['ai', '@langchain/core'], install: 'ai' };
  const notFound = (message: string) => Object.assign(new Error(message), { code: 'ERR_MODULE_NOT_FOUND' });

  it("names the missing package from Node's message, for a package or a subpath specifier", () => {
    const plain = missingPeerError(notFound("Cannot find package 'ai' imported from /app/x.js"), spec);
    expect(plain).toBeInstanceOf(MissingPeerError);
    expect(plain).toMatchObject({ packageName: 'ai', code: 'ERR_MODULE_NOT_FOUND' });
    expect(plain?.message).toBe(
      'spendgate/x needs the package "ai", which is not installed. Install it next to spendgate: npm install ai',
    );
    const subpath = missingPeerError(notFound("Cannot find module '@langchain/core/callbacks/base'"), spec);
    expect(subpath?.packageName).toBe('@langchain/core');
  });

  it('leaves other failures alone: another package, a look-alike name, or another error', () => {
    expect(missingPeerError(notFound("Cannot find package 'openai' imported from /x.js"), spec)).toBeNull();
    expect(missingPeerError(notFound("Cannot find package 'ai-tools' imported from /x.js"), spec)).toBeNull();
    expect(missingPeerError(new SyntaxError("Unexpected token in 'ai'"), spec)).toBeNull();
  });
});
