/**
 * A throwaway JavaScript build of src/ and adapters/ for bench/full.ts, so the proxy runs as `node …/src/cli/bin.js serve`,
 * as in production, without tsx's loader in its process (the loader's worker thread and transform cache count
 * in the proxy's RSS). Each file is transpiled on its own (TypeScript's transpileModule, no type check: the
 * sources may be mid-edit), in about a second. node_modules is linked next to it so imports resolve.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { root } from './procs.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')
      ? [path]
      : [];
  });
}

/**
 * A short hash of every .ts file under src/ and adapters/ (paths and contents): which code a run measured, as
 * other people may be editing it during a session.
 */
export function sourceFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'adapters'))].sort()) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

/** Transpiles src/ and adapters/ into `out`; returns the entry point (`out/src/cli/bin.js`). */
export function buildProxy(out: string): string {
  // As tsconfig.build.json: src/ and adapters/ (the CLI imports the MCP adapter's config).
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'adapters'))]) {
    const result = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        isolatedModules: true,
        esModuleInterop: true,
      },
    });
    const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, result.outputText);
  }
  cpSync(join(root, 'package.json'), join(out, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');
  return join(out, 'src', 'cli', 'bin.js');
}
