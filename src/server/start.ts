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
import { startReadiness } from './readiness.js';
import { journalDir, openJournalDir } from './journal/journal-dir.js';
import { startLease } from './lease.js';
import { createRecorder } from './recorder.js';
import { createProxyMetrics } from './metrics.js';
import { countRecorder, timeForwarder, timeStore } from './metrics-instrument.js';
import { createSandbox, startupBanner, type Sandbox } from './sandbox.js';

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
  /** The start-up lines to print: where it listens, the vendors (faked in sandbox mode), the ledger. */
  readonly banner: readonly string[];
  /** Stops accepting, waits for in-flight calls to finish and settle, then closes the store and pools. */
  close(): Promise<void>;
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

/** Starts the proxy and the admin API on one port. */
export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const sandboxed = options.sandbox ?? options.config.SPENDGATE_SANDBOX;
  const sandbox = sandboxed && !options.forwarder ? await createSandbox(options.config) : undefined;
  const config = sandbox?.config ?? options.config;
  const logger =
    options.logger ?? pino({ level: config.SPENDGATE_LOG_LEVEL, base: { service: 'spendgate' } });
  const now = options.now ?? systemClock;
  const metrics = createProxyMetrics();
  const vendors = buildVendors(config);
  const untimedStore =
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
  const store = timeStore(untimedStore, metrics);
  const untimedForwarder =
    options.forwarder ??
    sandbox?.forwarder ??
    createHttpForwarder({
      origins: new Map([...vendors].map(([name, v]) => [name, v.baseUrl])),
      connectTimeoutMs: config.SPENDGATE_UPSTREAM_CONNECT_TIMEOUT_MS,
      headersTimeoutMs: config.SPENDGATE_UPSTREAM_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: config.SPENDGATE_UPSTREAM_BODY_TIMEOUT_MS,
    });
  const forwarder = timeForwarder(untimedForwarder, metrics);
  const journal =
    store.kind === 'postgres'
      ? await openJournalDir(journalDir(config), config.SPENDGATE_JOURNAL_ORPHAN_MS)
      : undefined;
  if (journal && journal.adopted.length > 0) {
    logger.info({ event: 'journal_adopted', entries: journal.adopted.length }, 'replaying journal entries');
  }
  const recorder = countRecorder(createRecorder({ store, logger, journal }), metrics);
  const lease = await startLease({ store, logger, leaseMs: config.SPENDGATE_LEASE_MS });
  const readiness = startReadiness({ store });
  const ctx: ProxyContext = {
    config,
    store,
    vendors,
    forwarder,
    logger,
    now,
    sandbox: sandboxed,
    recorder,
    readiness,
    instanceId: lease.instanceId,
    metrics,
  };
  const app = buildApp(ctx);
  try {
    await app.listen({ host: config.SPENDGATE_HOST, port: config.SPENDGATE_PORT });
  } catch (err) {
    readiness.stop();
    lease.stop();
    await recorder.close();
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
    banner: startupBanner({ url: `http://${host}:${port}`, config, sandboxed, vendors }),
    close() {
      closing ??= (async () => {
        const deadline = performance.now() + config.SPENDGATE_SHUTDOWN_TIMEOUT_MS;
        const left = () => Math.max(0, deadline - performance.now());
        // In-flight calls finish and settle within the deadline; past it, their connections are cut so
        // the process can exit (a call still waiting on its vendor keeps its reservation, counted).
        if (!(await settlesWithin(app.close(), left()))) {
          logger.warn(
            { event: 'shutdown_deadline' },
            'in-flight calls still running at the shutdown deadline',
          );
          app.server.closeAllConnections();
        }
        if (!(await recorder.drain(left()))) {
          logger.warn({ event: 'shutdown_deadline' }, 'ledger writes still running at the shutdown deadline');
        }
        readiness.stop();
        lease.stop();
        await recorder.close();
        await forwarder.close();
        await store.close();
      })();
      return closing;
    },
  };
}
