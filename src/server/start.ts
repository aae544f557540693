import pino, { type Logger } from 'pino';
import type { ProxyConfig } from '../config/schema.js';
import { createStore } from '../store/create-store.js';
import type { Clock } from '../store/clock.js';
import { systemClock } from '../store/clock.js';
import type { Store } from '../store/types.js';
import { buildVendors } from '../vendors/registry.js';
import { buildApp } from './app.js';
import type { ProxyContext } from './context.js';
import { createHttpForwarder, type Forwarder } from './forwarder.js';
import { createSandbox, type Sandbox } from './sandbox.js';

export interface StartProxyOptions {
  readonly config: ProxyConfig;
  /** Defaults to a pino logger on stdout at `SPENDGATE_LOG_LEVEL`. */
  readonly logger?: Logger;
  /** Use an already-initialised store instead of opening `SPENDGATE_DB` (the proxy will close it). */
  readonly store?: Store;
  /** Replace the HTTP forwarder. */
  readonly forwarder?: Forwarder;
  readonly now?: Clock;
  /** Answer vendor calls in-process with the fakes (default: `SPENDGATE_SANDBOX`). */
  readonly sandbox?: boolean;
}

export interface RunningProxy {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly store: Store;
  /** The fakes answering vendor calls, in sandbox mode. */
  readonly fakes?: Sandbox['fakes'];
  /** Stops accepting, waits for in-flight calls to finish and settle, then closes the store and pools. */
  close(): Promise<void>;
}

/** Starts the proxy and the admin API on one port. */
export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const sandboxed = options.sandbox ?? options.config.SPENDGATE_SANDBOX;
  const sandbox = sandboxed && !options.forwarder ? await createSandbox(options.config) : undefined;
  const config = sandbox?.config ?? options.config;
  const logger =
    options.logger ?? pino({ level: config.SPENDGATE_LOG_LEVEL, base: { service: 'spendgate' } });
  const now = options.now ?? systemClock;
  const vendors = buildVendors(config);
  const store =
    options.store ??
    (await createStore({
      db: config.SPENDGATE_DB,
      now: options.now,
      poolMax: config.SPENDGATE_DB_POOL_MAX,
      statementTimeoutMs: config.SPENDGATE_DB_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: config.SPENDGATE_DB_CONNECT_TIMEOUT_MS,
      schema: config.SPENDGATE_DB_SCHEMA,
      onPoolError: (err) =>
        logger.warn({ err: { type: err.name, message: err.message } }, 'ledger connection lost'),
    }));
  const forwarder =
    options.forwarder ??
    sandbox?.forwarder ??
    createHttpForwarder({
      origins: new Map([...vendors].map(([name, v]) => [name, v.baseUrl])),
      connectTimeoutMs: config.SPENDGATE_UPSTREAM_CONNECT_TIMEOUT_MS,
      headersTimeoutMs: config.SPENDGATE_UPSTREAM_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: config.SPENDGATE_UPSTREAM_BODY_TIMEOUT_MS,
    });
  const ctx: ProxyContext = { config, store, vendors, forwarder, logger, now, sandbox: sandboxed };
  const app = buildApp(ctx);
  try {
    await app.listen({ host: config.SPENDGATE_HOST, port: config.SPENDGATE_PORT });
  } catch (err) {
    await store.close();
    await forwarder.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.SPENDGATE_PORT;
  const host = config.SPENDGATE_HOST.includes(':') ? `[${config.SPENDGATE_HOST}]` : config.SPENDGATE_HOST;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    host: config.SPENDGATE_HOST,
    store,
    ...(sandbox ? { fakes: sandbox.fakes } : {}),
    close() {
      closing ??= (async () => {
        await app.close();
        await forwarder.close();
        await store.close();
      })();
      return closing;
    },
  };
}
