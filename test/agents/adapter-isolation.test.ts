import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

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

const ENTRY_POINTS = [
  {
    entry: 'adapters/openai-agents/index.ts',
    own: 'openai',
    blocked: [...FRAMEWORKS.langchain, ...FRAMEWORKS.ai],
  },
  {
    entry: 'adapters/langchain/index.ts',
    own: 'langchain',
    blocked: [...FRAMEWORKS.openai, ...FRAMEWORKS.ai],
  },
  { entry: 'adapters/ai-sdk/index.ts', own: 'ai', blocked: [...FRAMEWORKS.openai, ...FRAMEWORKS.langchain] },
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

  it('the check is real: an adapter fails to load when its own framework is unresolvable', async () => {
    await expect(importWithout('adapters/langchain/index.ts', FRAMEWORKS.langchain)).rejects.toThrow(
      /blocked/,
    );
  });

  it.each(ENTRY_POINTS)("$entry's import graph names no other framework", ({ entry, blocked, own }) => {
    const packages = packagesImportedBy(entry);
    for (const name of blocked) expect(packages).not.toContain(name);
    if (own)
      expect([...packages].some((name) => (FRAMEWORKS[own] as readonly string[]).includes(name))).toBe(true);
  });
});
