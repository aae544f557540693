import type { Micros } from '../money.js';
import { chainRefusal } from './budget-chain.js';
import {
  hasStatus,
  MAX_BUDGET_DEPTH,
  type BudgetQuery,
  type BudgetRecord,
  type BudgetRefusal,
  type IssueBudgetResult,
  type IssuerQuery,
  type IssuerRecord,
  type NewBudget,
  type NewIssuer,
} from './budget-types.js';
import { utcDay } from './clock.js';
import type { Page } from './types.js';

interface MutableBudget {
  readonly budget: NewBudget;
  readonly path: readonly string[];
  readonly seq: number;
  status: 'active' | 'revoked';
  revokedAt: number | null;
  committed: number;
  reserved: number;
  uncertain: number;
  day: string;
  dayCommitted: number;
}

interface MutableIssuer {
  readonly issuer: NewIssuer;
  readonly seq: number;
  status: 'active' | 'revoked';
  revokedAt: number | null;
}

/** How a reservation's end moves money between a budget's totals (the same moves as on its key). */
export interface BudgetMove {
  readonly day: string;
  readonly committed?: number;
  readonly reserved?: number;
  readonly uncertain?: number;
}

/**
 * The memory store's budgets and issuers. Nothing here awaits, so a chain check and the increment after it
 * run in one turn of the event loop, atomic with respect to every other store call.
 */
export class MemoryBudgets {
  readonly #budgets = new Map<string, MutableBudget>();
  readonly #issuers = new Map<string, MutableIssuer>();
  readonly #issuerByHash = new Map<string, string>();
  #seq = 0;

  constructor(
    private readonly now: () => number,
    /** Keys directly under a budget, for its view. */
    private readonly keysUnder: (budgetId: string) => number,
  ) {}

  issue(budget: NewBudget): IssueBudgetResult {
    const parent = budget.parentId === null ? undefined : this.#budgets.get(budget.parentId);
    if (budget.parentId !== null) {
      if (!parent) return { ok: false, reason: 'parent_not_found', parent: null };
      const view = this.#view(parent);
      if (parent.status !== 'active' || parent.budget.expiresAt <= this.now())
        return { ok: false, reason: 'parent_inactive', parent: view };
      if (budget.expiresAt > parent.budget.expiresAt)
        return { ok: false, reason: 'outlives_parent', parent: view };
      if (parent.path.length >= MAX_BUDGET_DEPTH) return { ok: false, reason: 'too_deep', parent: view };
    }
    const row: MutableBudget = {
      budget: { ...budget, metadata: { ...budget.metadata } },
      path: [...(parent?.path ?? []), budget.id],
      seq: ++this.#seq,
      status: 'active',
      revokedAt: null,
      committed: 0,
      reserved: 0,
      uncertain: 0,
      day: utcDay(budget.createdAt),
      dayCommitted: 0,
    };
    this.#budgets.set(budget.id, row);
    return { ok: true, budget: this.#view(row) };
  }

  /** The path a key issued under `budgetId` records; throws for an unknown budget (the proxy checked it). */
  pathOf(budgetId: string): readonly string[] {
    const row = this.#budgets.get(budgetId);
    if (!row) throw new Error(`no budget ${budgetId}`);
    return row.path;
  }

  get(id: string): BudgetRecord | null {
    const row = this.#budgets.get(id);
    return row ? this.#view(row) : null;
  }

  list(query: BudgetQuery): Page<BudgetRecord> {
    const before = query.cursor === undefined ? Infinity : Number(query.cursor);
    const matches = [...this.#budgets.values()]
      .filter((row) => row.seq < before && budgetMatches(row, query, this.now()))
      .sort((a, b) => b.seq - a.seq);
    const page = matches.slice(0, query.limit);
    const last = page.at(-1);
    return {
      data: page.map((row) => this.#view(row)),
      nextCursor: matches.length > query.limit && last ? String(last.seq) : null,
    };
  }

  /** Marks the subtree revoked; returns the ids now revoked, or null when there is no such budget. */
  revokeSubtree(id: string): { root: MutableBudget; revoked: number } | null {
    const root = this.#budgets.get(id);
    if (!root) return null;
    const now = this.now();
    let revoked = 0;
    for (const row of this.#budgets.values()) {
      if (!row.path.includes(id) || row.status === 'revoked') continue;
      row.status = 'revoked';
      row.revokedAt = now;
      revoked += 1;
    }
    return { root, revoked };
  }

  view(row: MutableBudget): BudgetRecord {
    return this.#view(row);
  }

  /** The first level of `path` that refuses `amount` (see `chainRefusal`). */
  refusal(path: readonly string[], amount: Micros, now: number): BudgetRefusal | null {
    const levels = path.flatMap((id) => {
      const row = this.#budgets.get(id);
      return row
        ? [
            {
              id,
              status: row.status,
              expiresAt: row.budget.expiresAt,
              committed: row.committed,
              day: row.day,
              dayCommitted: row.dayCommitted,
              usdCap: row.budget.usdCap,
              dailyUsdCap: row.budget.dailyUsdCap,
              maxUsdPerCall: row.budget.maxUsdPerCall,
            },
          ]
        : [];
    });
    return chainRefusal({ ids: path, levels, amount, now, today: utcDay(now) });
  }

  /** Adds a new reservation to every level; call only after `refusal` returned null in the same turn. */
  hold(path: readonly string[], amount: Micros, today: string): void {
    for (const id of path) {
      const row = this.#budgets.get(id);
      if (!row) continue;
      row.dayCommitted = (row.day === today ? row.dayCommitted : 0) + amount;
      row.day = today;
      row.committed += amount;
      row.reserved += amount;
    }
  }

  move(path: readonly string[], move: BudgetMove): void {
    for (const id of path) {
      const row = this.#budgets.get(id);
      if (!row) continue;
      const committed = move.committed ?? 0;
      row.committed += committed;
      row.reserved += move.reserved ?? 0;
      row.uncertain += move.uncertain ?? 0;
      if (row.day === move.day) row.dayCommitted = Math.max(0, row.dayCommitted + committed);
    }
  }

  createIssuer(issuer: NewIssuer): IssuerRecord {
    if (this.#issuers.has(issuer.id) || this.#issuerByHash.has(issuer.tokenHash))
      throw new Error('duplicate issuer id or token');
    const row: MutableIssuer = { issuer: { ...issuer }, seq: ++this.#seq, status: 'active', revokedAt: null };
    this.#issuers.set(issuer.id, row);
    this.#issuerByHash.set(issuer.tokenHash, issuer.id);
    return this.#issuerView(row);
  }

  getIssuer(id: string): IssuerRecord | null {
    const row = this.#issuers.get(id);
    return row ? this.#issuerView(row) : null;
  }

  findIssuer(tokenHash: string): IssuerRecord | null {
    return this.getIssuer(this.#issuerByHash.get(tokenHash) ?? '');
  }

  listIssuers(query: IssuerQuery): Page<IssuerRecord> {
    const before = query.cursor === undefined ? Infinity : Number(query.cursor);
    const matches = [...this.#issuers.values()]
      .filter(
        (row) =>
          row.seq < before &&
          (query.budgetId === undefined || row.issuer.budgetId === query.budgetId) &&
          (query.status === undefined ||
            hasStatus({ status: row.status, expiresAt: row.issuer.expiresAt }, query.status, this.now())),
      )
      .sort((a, b) => b.seq - a.seq);
    const page = matches.slice(0, query.limit);
    const last = page.at(-1);
    return {
      data: page.map((row) => this.#issuerView(row)),
      nextCursor: matches.length > query.limit && last ? String(last.seq) : null,
    };
  }

  revokeIssuer(id: string): IssuerRecord | null {
    const row = this.#issuers.get(id);
    if (!row) return null;
    if (row.status !== 'revoked') {
      row.status = 'revoked';
      row.revokedAt = this.now();
    }
    return this.#issuerView(row);
  }

  #issuerView(row: MutableIssuer): IssuerRecord {
    return {
      ...row.issuer,
      vendors: row.issuer.vendors && [...row.issuer.vendors],
      allowedEndpoints: row.issuer.allowedEndpoints && [...row.issuer.allowedEndpoints],
      status: row.status,
      revokedAt: row.revokedAt,
      budgetPath: this.#budgets.get(row.issuer.budgetId)?.path ?? [row.issuer.budgetId],
    };
  }

  #view(row: MutableBudget): BudgetRecord {
    const today = utcDay(this.now());
    let childBudgets = 0;
    for (const other of this.#budgets.values())
      if (other.budget.parentId === row.budget.id) childBudgets += 1;
    return {
      ...row.budget,
      approvalAboveUsd: row.budget.approvalAboveUsd ?? null,
      metadata: { ...row.budget.metadata },
      path: [...row.path],
      status: row.status,
      revokedAt: row.revokedAt,
      spent: row.committed - row.reserved,
      reserved: row.reserved,
      uncertain: row.uncertain,
      spentToday: row.day === today ? row.dayCommitted : 0,
      keys: this.keysUnder(row.budget.id),
      childBudgets,
    };
  }
}

function budgetMatches(row: MutableBudget, query: BudgetQuery, now: number): boolean {
  const { budget } = row;
  if (query.label !== undefined && budget.label !== query.label) return false;
  if (query.labelPrefix !== undefined && !(budget.label ?? '\u0000').startsWith(query.labelPrefix))
    return false;
  if (query.parentId !== undefined && budget.parentId !== query.parentId) return false;
  if (
    query.status !== undefined &&
    !hasStatus({ status: row.status, expiresAt: row.budget.expiresAt }, query.status, now)
  )
    return false;
  if (query.within !== undefined && !row.path.includes(query.within)) return false;
  return true;
}
