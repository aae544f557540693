import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { dropSchema, withPgClient } from '../helpers/postgres.js';

/** The repository root: the proxy processes run `src/cli/bin.ts` from here. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const ADMIN_TOKEN = 'multi-instance-admin-token-0123456789';
export const STRIPE_SECRET = 'sk_test_multi_instance_0000';

/** The most output kept per process, so a chatty process cannot eat the test's memory. */
const MAX_OUTPUT_CHARS = 64 * 1024;
const LISTENING = /spendgate listening on (http:\/\/127\.0\.0\.1:\d+)/;

/** One `spendgate serve` child process. */
export interface ProxyProcess {
  readonly name: string;
  /** `http://127.0.0.1:{port}`. */
  readonly url: string;
  readonly pid: number;
  /** The tail of stdout and stderr, interleaved, for failure messages. */
  output(): string;
  /** SIGTERM, then await exit (SIGKILL after `graceMs`). Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
  /** `kill -9`: no shutdown, no flush, no goodbye. Resolves once the process is gone. */
  kill(): Promise<void>;
}

export interface SpawnProxyOptions {
  readonly name: string;
  /** `SPENDGATE_DB`: a postgres:// URL (direct, or through a relay). */
  readonly db: string;
  readonly schema: string;
  /** The fake Stripe's URL. */
  readonly stripeBaseUrl: string;
  /** Extra SPENDGATE_* settings (strings), e.g. timeouts. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the listening line. Default 30 s (tsx compiles the sources on start). */
  readonly startTimeoutMs?: number;
}

/** Environment variables a parent may carry that would change what the child proxy does. */
const OWN_PREFIXES = ['SPENDGATE_', 'STRIPE_', 'TWILIO_', 'RESEND_'];

/** Spawns `node --import tsx src/cli/bin.ts serve` and resolves once it prints where it listens. */
export async function spawnProxy(options: SpawnProxyOptions): Promise<ProxyProcess> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!OWN_PREFIXES.some((p) => name.startsWith(p)) && name !== 'NODE_OPTIONS') env[name] = value;
  }
  Object.assign(env, {
    SPENDGATE_ADMIN_TOKEN: ADMIN_TOKEN,
    SPENDGATE_HOST: '127.0.0.1',
    SPENDGATE_PORT: '0',
    SPENDGATE_DB: options.db,
    SPENDGATE_DB_SCHEMA: options.schema,
    SPENDGATE_LOG_LEVEL: 'warn',
    STRIPE_SECRET_KEY: STRIPE_SECRET,
    SPENDGATE_STRIPE_BASE_URL: options.stripeBaseUrl,
    // Shared by the instances of one test run, as on one machine; each ledger gets its own subdirectory.
    SPENDGATE_JOURNAL_DIR: join(tmpdir(), 'spendgate-test-journals'),
    ...options.env,
  });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'serve'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > MAX_OUTPUT_CHARS) output = output.slice(-MAX_OUTPUT_CHARS);
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (hasExited) return;
    child.kill('SIGTERM');
    const timer = sleep(graceMs).then(() => 'timeout' as const);
    if ((await Promise.race([exited, timer])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      fail(new Error(`timed out after ${options.startTimeoutMs ?? 30_000} ms`));
    }, options.startTimeoutMs ?? 30_000);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onStdout);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const fail = (error: Error) => {
      cleanup();
      reject(new Error(`proxy ${options.name} did not start: ${error.message}\n--- output ---\n${output}`));
    };
    const onStdout = (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = LISTENING.exec(stdout);
      if (match?.[1]) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(new Error(`exited with code ${code} signal ${signal}`));
    const onError = (error: Error) => fail(error);
    child.stdout?.on('data', onStdout);
    child.once('exit', onExit);
    child.once('error', onError);
  }).catch(async (error: unknown) => {
    await stop(2000);
    throw error;
  });
  // Registered after the start-up listener so the listening line is in the output too.
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  output += `[spawned ${options.name} pid ${child.pid} at ${url}]\n`;

  return {
    name: options.name,
    url,
    pid: child.pid ?? -1,
    output: () => output,
    stop,
    async kill() {
      if (hasExited) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Processes and a schema that belong to one test file, torn down together. */
export class Fleet {
  readonly #processes: ProxyProcess[] = [];

  constructor(
    readonly pgUrl: string,
    readonly schema: string,
    readonly stripeBaseUrl: string,
  ) {}

  /** Spawns one proxy on this fleet's schema; `db` defaults to the direct database URL. */
  async spawn(name: string, opts: { db?: string; env?: Record<string, string> } = {}): Promise<ProxyProcess> {
    const proxy = await spawnProxy({
      name,
      db: opts.db ?? this.pgUrl,
      schema: this.schema,
      stripeBaseUrl: this.stripeBaseUrl,
      ...(opts.env ? { env: opts.env } : {}),
    });
    this.#processes.push(proxy);
    return proxy;
  }

  /** Spawns several at once. The first migrates; the others wait on its advisory lock. */
  spawnMany(names: string[], opts: { env?: Record<string, string> } = {}): Promise<ProxyProcess[]> {
    return Promise.all(names.map((name) => this.spawn(name, opts)));
  }

  /** Every process's output tail, for a failure message. */
  outputs(): string {
    return this.#processes.map((p) => `=== ${p.name} (${p.url}) ===\n${p.output()}`).join('\n');
  }

  /** Stops every process (SIGTERM, awaited), then drops the schema. */
  async close(): Promise<void> {
    const processes = this.#processes.splice(0);
    await Promise.allSettled(processes.map((p) => p.stop()));
    await dropSchema(this.pgUrl, this.schema);
  }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

export interface JsonResponse {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  readonly json: any;
  readonly text: string;
}

/** A client with enough sockets per origin for real concurrency, and a deadline on every request. */
export class HttpClient {
  readonly agent: Agent;

  constructor(
    connectionsPerOrigin: number,
    readonly timeoutMs = 30_000,
  ) {
    this.agent = new Agent({
      connections: connectionsPerOrigin,
      pipelining: 1,
      connectTimeout: 5000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  async send(
    base: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<JsonResponse> {
    const res = await request(new URL(path, base), {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      dispatcher: this.agent,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json, text };
  }

  admin(
    base: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<JsonResponse> {
    return this.send(
      base,
      method,
      path,
      {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body === undefined ? undefined : JSON.stringify(body),
    );
  }

  async issueKey(base: string, body: Record<string, unknown>): Promise<{ id: string; token: string }> {
    const res = await this.admin(base, 'POST', '/v1/keys', body);
    if (res.status !== 201) throw new Error(`issuing a key via ${base} failed: ${res.status} ${res.text}`);
    return { id: res.json.id as string, token: res.json.token as string };
  }

  /** `POST /v1/payment_intents` with a vault key: `amount` in cents (USD), `probe` tags the upstream body. */
  paymentIntent(base: string, token: string, amount: number, probe?: string): Promise<JsonResponse> {
    const form = new URLSearchParams({ amount: String(amount), currency: 'usd' });
    if (probe !== undefined) form.set('metadata[probe]', probe);
    return this.send(
      base,
      'POST',
      '/v1/payment_intents',
      { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      form.toString(),
    );
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** `{status code}` → count, e.g. `{ '200': 50, '429 cap_exhausted': 950 }`: readable in a failed assertion. */
export function tally(responses: readonly JsonResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of responses) {
    const code = typeof r.json?.code === 'string' ? ` ${r.json.code as string}` : '';
    const label = `${r.status}${r.status === 200 ? '' : code}`;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------------------
// A TCP relay between one proxy and PostgreSQL, to cut the database off and bring it back.

/**
 * Forwards 127.0.0.1:{port} to a target, byte for byte. `stop()` cuts everything (connection refused);
 * `partition()` keeps every socket open but stops moving bytes (a silent network); `start()` / `heal()` resume.
 */
export class TcpRelay {
  #server: Server | undefined;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket | undefined }>();
  /** Local ports of the relay's own connections to the target, as `pg_stat_activity.client_port` shows them. */
  readonly #upstreamPorts = new Set<number>();
  #port = 0;
  #partitioned = false;
  #muteMarker: Buffer | undefined;

  constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {}

  get port(): number {
    return this.#port;
  }

  get upstreamPorts(): number[] {
    return [...this.#upstreamPorts];
  }

  /** Listens on 127.0.0.1: a random port the first time, the same port after a `stop()`. */
  async start(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => this.#accept(client));
    // The port was ours a moment ago; a few bounded retries cover a slow release.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(this.#port, '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (error) {
        if (attempt >= 20) throw error;
        await sleep(100);
      }
    }
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('relay has no TCP address');
    this.#port = address.port;
    this.#server = server;
  }

  /** Stops listening and destroys every relayed connection: the database is now unreachable. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#destroyAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Keeps listening and keeps every socket open, but moves no more bytes either way, and new connections are
   * accepted and left hanging: the database stops answering without anyone closing anything.
   */
  partition(): void {
    this.#partitioned = true;
    for (const { client, upstream } of this.#pairs) {
      client.unpipe();
      upstream?.unpipe();
      client.pause();
      upstream?.pause();
    }
  }

  /**
   * From the first request on a connection that carries `marker` (say, a key id bound as a parameter), lets
   * that connection's requests through but drops its answers: the database executes (and commits) the
   * statement, and the client never hears back. Other connections keep working. `heal()` ends it.
   */
  muteRepliesAfter(marker: string): void {
    this.#muteMarker = Buffer.from(marker);
    for (const pair of this.#pairs) this.#watchForMarker(pair);
  }

  #watchForMarker(pair: { client: Socket; upstream: Socket | undefined }): void {
    const marker = this.#muteMarker;
    if (!marker) return;
    let tail = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      const seen = Buffer.concat([tail, chunk]);
      if (seen.includes(marker)) {
        pair.client.off('data', onData);
        pair.upstream?.unpipe(pair.client);
        pair.upstream?.pause();
        return;
      }
      tail = seen.subarray(Math.max(0, seen.length - marker.length));
    };
    pair.client.on('data', onData);
  }

  /** Ends a partition: the stuck sockets are destroyed (as a real network's timeouts would), new ones flow. */
  heal(): void {
    this.#partitioned = false;
    this.#muteMarker = undefined;
    this.#destroyAll();
  }

  #destroyAll(): void {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream?.destroy();
    }
    this.#pairs.clear();
    this.#upstreamPorts.clear();
  }

  #accept(client: Socket): void {
    const pair: { client: Socket; upstream: Socket | undefined } = { client, upstream: undefined };
    this.#pairs.add(pair);
    client.on('error', () => client.destroy());
    if (this.#partitioned) {
      // Accepted, never answered: the client's connect timeout is what ends this.
      client.pause();
      client.on('close', () => this.#pairs.delete(pair));
      return;
    }
    const upstream = connect({ host: this.targetHost, port: this.targetPort });
    pair.upstream = upstream;
    let upstreamPort: number | undefined;
    upstream.once('connect', () => {
      upstreamPort = upstream.localPort;
      if (upstreamPort !== undefined) this.#upstreamPorts.add(upstreamPort);
    });
    const teardown = () => {
      client.destroy();
      upstream.destroy();
      this.#pairs.delete(pair);
      if (upstreamPort !== undefined) this.#upstreamPorts.delete(upstreamPort);
    };
    upstream.on('error', teardown);
    client.on('close', teardown);
    upstream.on('close', teardown);
    client.pipe(upstream);
    upstream.pipe(client);
    this.#watchForMarker(pair);
  }
}

/** The test URL with another port: the same database, reached through a relay. */
export function viaPort(pgUrl: string, port: number): string {
  const url = new URL(pgUrl);
  url.port = String(port);
  url.hostname = '127.0.0.1';
  return url.toString();
}

export interface Backend {
  readonly pid: number;
  readonly clientPort: number;
  readonly applicationName: string;
}

/** The backends serving connections from these client ports (the relay's side of each connection). */
export async function backendsFor(pgUrl: string, clientPorts: readonly number[]): Promise<Backend[]> {
  if (clientPorts.length === 0) return [];
  return withPgClient(pgUrl, async (client) => {
    const { rows } = await client.query<{ pid: number; client_port: number; application_name: string }>(
      `SELECT pid, client_port, application_name FROM pg_stat_activity
       WHERE client_port = ANY($1::int[]) AND client_addr IN ('127.0.0.1'::inet, '::1'::inet)
         AND pid <> pg_backend_pid()`,
      [clientPorts],
    );
    return rows.map((r) => ({ pid: r.pid, clientPort: r.client_port, applicationName: r.application_name }));
  });
}

/** `pg_terminate_backend` on each pid, then waits (bounded) until none of them is still listed. */
export async function terminateBackends(pgUrl: string, pids: readonly number[]): Promise<void> {
  if (pids.length === 0) return;
  await withPgClient(pgUrl, async (client) => {
    await client.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const { rows } = await client.query('SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1::int[])', [
        pids,
      ]);
      if (rows.length === 0) return;
      await sleep(100);
    }
    throw new Error(`backends ${pids.join(', ')} still running 5 s after pg_terminate_backend`);
  });
}

/** Calls `probe` until `done` holds, at most `attempts` tries, `delayMs` apart; returns the last value. */
export async function pollUntil<T>(
  attempts: number,
  delayMs: number,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
): Promise<{ value: T; tries: number; history: T[] }> {
  const history: T[] = [];
  for (let tries = 1; ; tries += 1) {
    const value = await probe();
    history.push(value);
    if (done(value) || tries >= attempts) return { value, tries, history };
    await sleep(delayMs);
  }
}
