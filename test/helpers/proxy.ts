import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { request as httpRequest } from 'node:http';
import { loadConfig } from '../../src/config/load-config.js';
import { startProxy, type RunningProxy } from '../../src/server/start.js';
import type { Clock } from '../../src/store/clock.js';
import type { Store } from '../../src/store/types.js';

export const ADMIN_TOKEN = 'admin-token-test-0123456789';

export interface TestProxy {
  readonly proxy: RunningProxy;
  readonly url: string;
  /** Every log line the proxy wrote, as raw JSON text. */
  readonly logs: string[];
  admin(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<TestResponse>;
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: string | Buffer; headers?: Record<string, string> },
  ): Promise<TestResponse>;
  /** Issues a key and returns its token and id. */
  issue(body: Record<string, unknown>): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  readonly json: any;
}

/** Starts a proxy on 127.0.0.1 with a random port, capturing its structured logs in memory. */
export async function startTestProxy(
  options: {
    overrides?: Record<string, unknown>;
    store?: Store;
    now?: Clock;
  } = {},
): Promise<TestProxy> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const config = await loadConfig({
    overrides: {
      SPENDGATE_ADMIN_TOKEN: ADMIN_TOKEN,
      SPENDGATE_DB: ':memory:',
      SPENDGATE_PORT: 0,
      SPENDGATE_LOG_LEVEL: 'info',
      // Journals (PostgreSQL ledgers) go to a private directory, never the repository.
      SPENDGATE_JOURNAL_DIR: await mkdtemp(join(tmpdir(), 'spendgate-journal-')),
      ...options.overrides,
    },
  });
  const proxy = await startProxy({
    config,
    logger: pino({ level: 'debug' }, sink),
    ...(options.store ? { store: options.store } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const request = async (
    method: string,
    path: string,
    init: { headers: Record<string, string>; body?: string | Buffer },
  ) => {
    // node:http sends the path byte for byte; fetch and undici would resolve `..` and `%2e%2e` first.
    const res = await rawRequest(proxy.url, { method, path, headers: init.headers, body: init.body });
    const text = res.text;
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers, text, json };
  };
  const api: TestProxy = {
    proxy,
    url: proxy.url,
    logs,
    admin: (method, path, body, headers = {}) =>
      request(method, path, {
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    call: (method, path, opts = {}) =>
      request(method, path, {
        headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
        ...(opts.body === undefined ? {} : { body: opts.body }),
      }),
    async issue(body) {
      const res = await api.admin('POST', '/v1/keys', body);
      if (res.status !== 201) throw new Error(`issue failed: ${res.status} ${res.text}`);
      return { id: res.json.id as string, token: res.json.token as string };
    },
    close: () => proxy.close(),
  };
  return api;
}

function rawRequest(
  base: string,
  init: { method: string; path: string; headers: Record<string, string>; body: string | Buffer | undefined },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    // An explicit length: node:http would otherwise send a GET or DELETE body unframed.
    const length = init.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(init.body)) };
    const headers = { ...length, ...init.headers };
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: init.method, path: init.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}
