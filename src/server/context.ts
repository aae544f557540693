import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/schema.js';
import type { Clock } from '../store/clock.js';
import type { Store } from '../store/types.js';
import type { ConfiguredVendor } from '../vendors/registry.js';
import type { Forwarder } from './forwarder.js';

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
}
