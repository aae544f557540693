import type * as AiSdk from 'ai';
import { importPeer } from '../../src/run/peer-import.js';

/**
 * The AI SDK, loaded with a dynamic import so that a missing install fails with the package to install
 * instead of Node's bare ERR_MODULE_NOT_FOUND (a static import fails before any of this module runs).
 */
export const ai: typeof AiSdk = await importPeer(() => import('ai'), {
  entry: 'spendgate/ai-sdk',
  packages: ['ai'],
  install: 'ai',
});
