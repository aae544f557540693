import type * as AgentsSdk from '@openai/agents';
import { importPeer } from '../../src/run/peer-import.js';

/**
 * The Agents SDK, loaded with a dynamic import so that a missing install fails with the package to install
 * instead of Node's bare ERR_MODULE_NOT_FOUND (a static import fails before any of this module runs).
 */
export const agents: typeof AgentsSdk = await importPeer(() => import('@openai/agents'), {
  entry: 'spendgate/openai-agents',
  packages: ['@openai/agents'],
  install: '@openai/agents',
});
