import type { BudgetRecord, Store } from '../store/types.js';
import { ledger } from './ledger.js';

/** Reads budget chains (root first) as they are now; a level that is gone is left out. */
export type ChainReader = (path: readonly string[]) => Promise<BudgetRecord[]>;

/**
 * A chain reader for one request: each budget is read once, however many chains of a page share it (the
 * keys of one run, the budgets of one tenant).
 */
export function chainReader(store: Store): ChainReader {
  const reads = new Map<string, Promise<BudgetRecord | null>>();
  const read = (id: string) => {
    let budget = reads.get(id);
    if (!budget) {
      budget = store.getBudget(id);
      reads.set(id, budget);
    }
    return budget;
  };
  return async (path) => {
    const levels = await ledger(() => Promise.all(path.map(read)));
    return levels.filter((budget): budget is BudgetRecord => budget !== null);
  };
}

/** One chain, read now. */
export function readChain(store: Store, path: readonly string[]): Promise<BudgetRecord[]> {
  return chainReader(store)(path);
}
