/** Child processes of bench/full.ts: each server and each load generator runs in a process of its own. */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { delimiter, join } from 'node:path';

export const root = join(import.meta.dirname, '..');

const running = new Set<ChildProcess>();
const stopping = new WeakSet<ChildProcess>();

export interface Started {
  readonly child: ChildProcess;
  /** The first capture group of the readiness pattern (a URL). */
  readonly value: string;
}

/**
 * Starts `command args` and resolves once it is ready: its stdout matches `ready` (a pattern whose first group
 * is the value returned), or `ready()` resolves (its value returned). Rejects when the process exits first or
 * is not ready within `timeoutMs`. Only PATH, HOME and `env` reach the child (no npm variables: under npm the
 * proxy would watch its parent).
 */
export function startProcess(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  ready: RegExp | (() => Promise<string>),
  timeoutMs = 60_000,
): Promise<Started> {
  const child = spawn(command, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    let done = false;
    const finish = (value: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ child, value });
    };
    const fail = (error: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`${command} not ready within ${timeoutMs} ms: ${out}${err}`)),
      timeoutMs,
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      if (err.length > 20_000) err = err.slice(-10_000);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      if (done) return; // keep draining, so a chatty child never blocks on a full pipe
      out += chunk.toString();
      if (ready instanceof RegExp) {
        const match = ready.exec(out);
        if (match?.[1]) finish(match[1]);
      }
    });
    if (!(ready instanceof RegExp)) ready().then(finish, (error: Error) => fail(error));
    child.once('exit', (code, signal) => {
      if (done && !stopping.has(child)) {
        // After it was ready and without stop(): the phases that use it will fail, and this says why.
        console.log(`[bench] ${args.join(' ')} exited (${code ?? signal}): ${err.slice(-2000)}`);
      }
      fail(new Error(`${command} exited (${code ?? signal}) before it was ready: ${out}${err}`.trim()));
    });
  });
}

/** `node --import tsx <script…>`, as `npm run bench` starts the proxy: from source. */
export function startNode(args: readonly string[], env: Record<string, string>, pattern: RegExp) {
  return startProcess(process.execPath, ['--import', 'tsx', ...args], env, pattern);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stop(child: ChildProcess, graceMs = 15_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    stopping.add(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => stop(child)));
}

/** Runs a process to its end (bounded by `timeoutMs`, then SIGKILL) and returns its stdout. */
export function runToEnd(
  command: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The path of an executable on PATH (plus the sbin folders, where Debian puts nginx), or undefined. */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` accepts a TCP connection, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} not accepting connections after ${timeoutMs} ms`);
}

/** Resident and peak resident memory of a process, in MB (10^6 bytes), from /proc/<pid>/status. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: (kb('VmRSS') * 1024) / 1e6, peakMb: (kb('VmHWM') * 1024) / 1e6 };
}
