import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/schema.js';
import type { Clock } from '../store/clock.js';
import type { Store } from '../store/types.js';
import type { ConfiguredVendor } from '../vendors/registry.js';
import type { Forwarder } from './forwarder.js';
import type { ProxyMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';
import type { Recorder } from './recorder.js';

/** What every route needs, built once at start-up. */
export interface ProxyContext {
  readonly config: ProxyConfig;
  readonly store: Store;
  readonly vendors: ReadonlyMap<string, ConfiguredVendor>;
  readonly forwarder: Forwarder;
  readonly logger: Logger;
  readonly now: Clock;
  /** Marks every vendor response as sandboxed. */
  readonly sandbox: boolean;
  /** Ledger writes made after the reply (refusal audit rows). */
  readonly recorder: Recorder;
  readonly readiness: Readiness;
  /** This process, as its reservations and its lease name it. */
  readonly instanceId: string;
  /** This proxy's own Prometheus registry and metrics (`GET /metrics`). */
  readonly metrics: ProxyMetrics;
}
