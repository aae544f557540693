import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, TSX_LOADER } from './run-cli.js';

const TOKEN = 'serve-admin-token-0123456789';
let dir: string;
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spendgate-cli-serve-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CLI = `${REPO_ROOT}src/cli/bin.ts`;

/** Waits (bounded) for the `spendgate listening on …` line. */
async function listeningUrl(
  child: ChildProcessWithoutNullStreams,
  output: { text: string },
): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const url = /spendgate listening on (http:\/\/\S+)/.exec(output.text)?.[1];
    if (url) return url;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no listening line; output: ${output.text}`);
}

function startServe(args: string[], env: Record<string, string>, cwd = dir) {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, 'serve', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = { text: '' };
  child.stdout.on('data', (c: Buffer) => (output.text += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output.text += c.toString('utf8')));
  return { child, output };
}

describe('spendgate serve', { timeout: 60_000 }, () => {
  it('starts from a YAML config, a .env file and a _FILE secret, and stops cleanly on SIGTERM', async () => {
    const tokenFile = write('admin-token', `${TOKEN}\n`);
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, '.env'), `SPENDGATE_ADMIN_TOKEN_FILE=${tokenFile}\nSPENDGATE_LOG_LEVEL=silent\n`);
    const config = write(
      'serve.yaml',
      'SPENDGATE_PORT: 0\nSPENDGATE_DB: ":memory:"\nSPENDGATE_SANDBOX: true\n',
    );
    const { child, output } = startServe(['--config', config], {}, cwd);
    try {
      const url = await listeningUrl(child, output);
      const ok = await fetch(`${url}/v1/keys`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
      expect(output.text).toContain('spendgate stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('exits 2 on a broken config file without echoing it', async () => {
    const config = write('broken.json', '{"SPENDGATE_ADMIN_TOKEN": "serve-secret-Hk29sPq0xz" ,, }');
    const result = await runCli(['serve', '--config', config], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is not valid JSON at line 1, column \d+/);
    expect(result.stderr).not.toContain('serve-secret');
    const short = await runCli(['serve', '--port', '0', '--default-ttl', '200ms'], {
      cwd: dir,
      env: { SPENDGATE_ADMIN_TOKEN: TOKEN },
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('SPENDGATE_DEFAULT_TTL must be at least 1 s');
  });

  it('under npm (npm start, npx) stops when its parent shell dies without passing SIGTERM on', async () => {
    // `; true` keeps dash from exec-ing node: exactly the `sh -c` that npm runs scripts through.
    const command = `"${process.execPath}" --import ${TSX_LOADER} ${CLI} serve --port 0 --db :memory: --log-level silent; true`;
    const shell = spawn('sh', ['-c', command], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', SPENDGATE_ADMIN_TOKEN: TOKEN, npm_lifecycle_event: 'start' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = { text: '' };
    shell.stdout.on('data', (c: Buffer) => (output.text += c.toString('utf8')));
    let serverPid: number | undefined;
    try {
      await listeningUrl(shell as unknown as ChildProcessWithoutNullStreams, output);
      serverPid = Number(
        spawnSync('ps', ['-o', 'pid=', '--ppid', String(shell.pid)])
          .stdout.toString()
          .trim(),
      );
      expect(serverPid).toBeGreaterThan(0);
      shell.kill('SIGKILL');
      let alive = true;
      for (let i = 0; i < 100 && alive; i++) {
        await new Promise((r) => setTimeout(r, 100));
        alive = isAlive(serverPid);
      }
      expect(alive).toBe(false);
      expect(output.text).toContain('spendgate received parent exit');
    } finally {
      if (serverPid && isAlive(serverPid)) process.kill(serverPid, 'SIGKILL');
    }
  });

  it('shows each setting with its environment name and default in --help', async () => {
    const help = await runCli(['serve', '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toContain(
      '--max-ttl <value> longest TTL a key may be issued with (env SPENDGATE_MAX_TTL; default: 24h)',
    );
    expect(text).toContain(
      '--stripe-secret-key-file <path> read STRIPE_SECRET_KEY from this file (env STRIPE_SECRET_KEY_FILE',
    );
    expect(text).not.toMatch(/\bsets SPENDGATE_/);
  });
});

describe('spendgate migrate', { timeout: 60_000 }, () => {
  it('applies the ledger migrations and exits, with no admin token needed', async () => {
    const db = join(dir, 'migrated.db');
    const result = await runCli(['migrate', '--db', db], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`ledger ${db} is up to date`);
    const sqlite = new Database(db, { readonly: true });
    try {
      const tables = (
        sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
      ).map((t) => t.name);
      expect(tables).toEqual(expect.arrayContaining(['keys', 'audit']));
    } finally {
      sqlite.close();
    }
    const again = await runCli(['migrate'], { cwd: dir, env: { SPENDGATE_DB: db } });
    expect(again.code, again.stderr).toBe(0);
  });

  it('exits 2 on bad configuration', async () => {
    const result = await runCli(['migrate', '--db-pool-max', 'many'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SPENDGATE_DB_POOL_MAX');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
