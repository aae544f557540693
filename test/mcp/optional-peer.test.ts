import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

/**
 * The MCP SDK is an optional peer: `spendgate serve` must run without it, `spendgate mcp` must say what to
 * install, and `spendgate/mcp` must not need any other framework.
 */

const run = promisify(execFile);
const blocker = pathToFileURL(resolve(REPO_ROOT, 'test/agents/fixtures/block-packages.mjs')).href;
const OTHER_FRAMEWORKS = ['@openai/agents', '@openai/agents-core', 'langchain', '@langchain/core', 'ai'];

/** Runs the CLI from source with the MCP SDK unresolvable, as if it were not installed. */
function cliWithoutSdk(args: readonly string[], env: Record<string, string> = {}) {
  return run(process.execPath, ['--import', 'tsx', '--import', blocker, 'src/cli/bin.ts', ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...env,
      SPENDGATE_BLOCKED_PACKAGES: JSON.stringify(['@modelcontextprotocol/sdk']),
    },
    timeout: 60_000,
  });
}

/** Bare packages named by static imports anywhere in the relative import graph starting at `entry`. */
function staticPackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:')) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier));
      }
    }
  };
  visit(resolve(REPO_ROOT, entry));
  return packages;
}

describe('the MCP SDK as an optional peer', () => {
  it('spendgate serve and spendgate mcp --help run without it', async () => {
    expect((await cliWithoutSdk(['serve', '--help'])).stdout).toContain('--sandbox');
    expect((await cliWithoutSdk(['mcp', '--help'])).stdout).toContain('--stripe-usd-cap');
  });

  it('spendgate mcp without it says what to install', async () => {
    const failed = await cliWithoutSdk(['mcp', '--stdio'], {
      SPENDGATE_URL: 'http://127.0.0.1:9',
      SPENDGATE_ADMIN_TOKEN: 'admin-token-0123456789abcdef',
      SPENDGATE_MCP_STRIPE_USD_CAP: '5',
    }).then(
      () => null,
      (err: unknown) => err as { code?: number; stderr?: string },
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('npm install @modelcontextprotocol/sdk');
  });

  it("the CLI's static imports never reach the SDK; the adapter's reach it and no other framework", () => {
    expect(staticPackages('src/cli/main.ts')).not.toContain('@modelcontextprotocol/sdk');
    const adapter = staticPackages('adapters/mcp/index.ts');
    expect(adapter).toContain('@modelcontextprotocol/sdk');
    for (const name of OTHER_FRAMEWORKS) expect(adapter).not.toContain(name);
  });
});
