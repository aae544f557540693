import type { BudgetRecord, Store } from '../store/types.js';
import { ledger } from './ledger.js';

/** The budgets of a path (root first), as they are now; a level that is gone is left out. */
export async function readChain(store: Store, path: readonly string[]): Promise<BudgetRecord[]> {
  const levels = await ledger(() => Promise.all(path.map((id) => store.getBudget(id))));
  return levels.filter((budget): budget is BudgetRecord => budget !== null);
}
