/**
 * `spendgate/server`: run the proxy from code (tests, embedding), with the same configuration names as the CLI.
 *
 * @example
 * ```ts
 * import { loadConfig, startProxy } from 'spendgate/server';
 * const proxy = await startProxy({ config: await loadConfig({ env: process.env }) });
 * ```
 */
export { loadConfig, type LoadConfigOptions } from '../config/load-config.js';
export { CONFIG_NAMES, type ProxyConfig, type ProxyConfigInput } from '../config/schema.js';
export { createStore, type CreateStoreOptions } from '../store/create-store.js';
export { MemoryStore } from '../store/memory-store.js';
export { SqliteStore, type SqliteStoreOptions } from '../store/sqlite-store.js';
export type * from '../store/types.js';
export { startSandboxProxy, type StartSandboxProxyOptions } from './sandbox.js';
export { startProxy, type RunningProxy, type StartProxyOptions } from './start.js';
