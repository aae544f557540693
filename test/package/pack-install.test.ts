import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../multi-instance/helpers.js';
import { STACK_ADMIN_TOKEN, startAgentStack, type AgentStack } from '../helpers/agent-stack.js';

const run = promisify(execFile);
/**
 * What a tool user must not get: a native module, an HTTP server framework, the proxy's logger and metrics.
 * (undici is not listed: the AI SDK brings its own.)
 */
const SERVER_ONLY = ['fastify', 'better-sqlite3', 'pino', 'prom-client'];

/**
 * The package as a tool user gets it: `npm pack`, then the tarball installed with only `ai` in an empty
 * folder, then a real tool call from that folder against a running proxy. The install reads npm's cache,
 * which the repository's own install filled; it goes to the registry only for what the cache lacks.
 */
describe('npm install spendgate, for the agent tools', () => {
  let dir: string;
  let app: string;
  let stack: AgentStack;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/src/index.js'))) {
      throw new Error('dist/ is missing: run `npm run build` (npm test does it before the tests)');
    }
    dir = await mkdtemp(join(tmpdir(), 'spendgate-pack-'));
    app = join(dir, 'app');
    await mkdir(app);
    // --ignore-scripts: dist/ is already built, and a prepack rebuild would pull it away from other suites.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const rootPackage = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    await npmInstall(app, [join(dir, filename), `ai@${rootPackage.devDependencies.ai}`]);
    stack = await startAgentStack();
  }, 300_000);

  afterAll(async () => {
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pulls in no native module, no HTTP server framework and no proxy logger', async () => {
    const names = await installedPackages(app);
    expect(names).toContain('spendgate');
    expect(names).toContain('zod');
    for (const name of SERVER_ONLY) expect(names, name).not.toContain(name);
    expect(await nativeModules(join(app, 'node_modules'))).toEqual([]);
  });

  it('still runs the management CLI, and names @spendgate/proxy when asked to serve', async () => {
    const bin = join(app, 'node_modules/spendgate/bin/spendgate.js');
    const version = await run(process.execPath, [bin, '--version'], { cwd: app, timeout: 30_000 });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const serve = await run(process.execPath, [bin, 'serve', '--sandbox'], {
      cwd: app,
      timeout: 30_000,
      env: { ...process.env, SPENDGATE_ADMIN_TOKEN: 'pack-install-admin-token-0123456789' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code ?? -1, stderr: err.stderr ?? '' }),
    );
    expect(serve.code).not.toBe(0);
    expect(serve.stderr).toContain('npx @spendgate/proxy serve');
    expect(serve.stderr).toMatch(/fastify|pino|prom-client|undici|better-sqlite3/);
  }, 60_000);

  it('makes a working tool call against a proxy', async () => {
    const script = `
      import { aiSdkTools, chargeCustomerTool, createSpendgateClient, startRun } from 'spendgate/ai-sdk';
      const client = createSpendgateClient({ baseUrl: process.env.PROXY_URL, adminToken: process.env.ADMIN_TOKEN });
      const run = await startRun({ client, budget: { label: 'pack-install', caps: { stripe: { usdCap: 10 } } }, tools: [chargeCustomerTool()] });
      try {
        const tools = aiSdkTools(run);
        const input = { customer: 'cus_pack', amount: 700, currency: 'usd', description: 'Packed' };
        const result = await tools.charge_customer.execute(input, { toolCallId: 'call_pack', messages: [] });
        console.log(JSON.stringify(result));
      } finally {
        await run.end();
      }
    `;
    await writeFile(join(app, 'call.mjs'), script);
    const before = stack.charges();
    const { stdout } = await run(process.execPath, ['call.mjs'], {
      cwd: app,
      timeout: 60_000,
      env: { ...process.env, PROXY_URL: stack.proxyUrl, ADMIN_TOKEN: STACK_ADMIN_TOKEN },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(result).toMatchObject({ ok: true, amount: 700, status: 'succeeded' });
    expect(stack.charges() - before).toBe(1);
    expect(await stack.keyStatuses('pack-install')).toEqual(['revoked']);
  }, 90_000);
});

/** Installs from npm's cache alone when it can; only what the cache lacks is fetched. */
async function npmInstall(cwd: string, specs: string[]): Promise<void> {
  const args = ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs];
  try {
    await run('npm', [...args, '--offline'], { cwd, timeout: 180_000 });
  } catch {
    await run('npm', [...args, '--prefer-offline'], { cwd, timeout: 180_000 });
  }
}

/** Every package installed in the tree (an optional peer that is not installed is listed without a version). */
async function installedPackages(cwd: string): Promise<string[]> {
  const { stdout } = await run('npm', ['ls', '--all', '--json'], { cwd, timeout: 60_000 });
  interface Node {
    version?: string;
    dependencies?: Record<string, Node>;
  }
  const names = new Set<string>();
  const walk = (deps: Record<string, Node> | undefined) => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      if (node.version !== undefined) names.add(name);
      walk(node.dependencies);
    }
  };
  walk((JSON.parse(stdout) as Node).dependencies);
  return [...names].sort();
}

/** Packages that build native code on install: a `binding.gyp`, or `gypfile` in their package.json. */
async function nativeModules(nodeModules: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (folder: string, depth: number): Promise<void> => {
    if (depth > 6) return;
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === '.bin') continue;
      const path = join(folder, entry.name);
      if (entry.name.startsWith('@')) {
        await visit(path, depth);
        continue;
      }
      const manifest = join(path, 'package.json');
      if (existsSync(manifest)) {
        const pkg = JSON.parse(await readFile(manifest, 'utf8')) as { name?: string; gypfile?: boolean };
        if (pkg.gypfile || existsSync(join(path, 'binding.gyp'))) found.push(pkg.name ?? entry.name);
      }
      if (existsSync(join(path, 'node_modules'))) await visit(join(path, 'node_modules'), depth + 1);
    }
  };
  await visit(nodeModules, 0);
  return found;
}
