import type { PeerSpec } from '../run/peer-import.js';

/**
 * The proxy's own dependencies. `spendgate` names them as optional peers, so that installing it for the agent
 * tools pulls in no native module and no HTTP server; `@spendgate/proxy` depends on them all.
 */
export const PROXY_PEERS: PeerSpec = {
  entry: 'The spendgate proxy',
  packages: ['fastify', 'pino', 'prom-client', 'undici', 'better-sqlite3'],
  install: 'fastify pino prom-client undici better-sqlite3 (or start it with: npx @spendgate/proxy serve)',
};
