import type * as CallbacksBase from '@langchain/core/callbacks/base';
import type * as LangGraph from '@langchain/langgraph';
import type * as LangChain from 'langchain';
import { importPeer, type PeerSpec } from '../../src/run/peer-import.js';

const spec: PeerSpec = {
  entry: 'spendgate/langchain',
  packages: ['langchain', '@langchain/core', '@langchain/langgraph'],
  install: 'langchain @langchain/core',
};

/**
 * LangChain, its core and LangGraph (a dependency of `langchain`; approvals pause the graph with its
 * `interrupt()`), loaded with dynamic imports so that a missing install fails with the packages to install
 * instead of Node's bare ERR_MODULE_NOT_FOUND (a static import fails before any of this module runs).
 * `langchain` loads first, so an app without it is told to install it rather than whichever import of the
 * three happened to fail first.
 */
export const lc: typeof LangChain = await importPeer(() => import('langchain'), spec);
export const [callbacks, graph]: [typeof CallbacksBase, typeof LangGraph] = await Promise.all([
  importPeer(() => import('@langchain/core/callbacks/base'), spec),
  importPeer(() => import('@langchain/langgraph'), spec),
]);
