import type * as CallbacksBase from '@langchain/core/callbacks/base';
import type * as LangChain from 'langchain';
import { importPeer, type PeerSpec } from '../../src/run/peer-import.js';

const spec: PeerSpec = {
  entry: 'spendgate/langchain',
  packages: ['langchain', '@langchain/core', '@langchain/langgraph'],
  install: 'langchain @langchain/core',
};

/**
 * LangChain and its core, loaded with dynamic imports so that a missing install fails with the packages to
 * install instead of Node's bare ERR_MODULE_NOT_FOUND (a static import fails before any of this module runs).
 */
export const [lc, callbacks]: [typeof LangChain, typeof CallbacksBase] = await Promise.all([
  importPeer(() => import('langchain'), spec),
  importPeer(() => import('@langchain/core/callbacks/base'), spec),
]);
