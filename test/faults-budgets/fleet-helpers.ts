import { expect } from 'vitest';
import type { FakeVendor } from '../../src/testing/index.js';
import type { HttpClient, ProxyProcess } from '../multi-instance/helpers.js';

export const PRICE_CENTS = 500;
export const PRICE_USD = PRICE_CENTS / 100;

export interface Level {
  readonly id: string;
  readonly capUsd: number | null;
  readonly parent: string | null;
}

export interface Tree {
  /** Every budget, root first. */
  readonly levels: Level[];
  /** Keys: id, token, and the budget path (root first) each draws from. */
  readonly keys: Array<{ id: string; token: string; budgetId: string; path: string[] }>;
}

export const stripeKey = (fields: Record<string, unknown>) => ({
  vendor: 'stripe',
  allowed_endpoints: ['POST /v1/payment_intents'],
  expires_in: '30m',
  ...fields,
});

/**
 * Builds a budget tree through `proxy`. `spec` lists budgets as [name, parent name | null, usd cap | null]
 * and keys as the names of the budgets they draw from.
 */
export async function buildTree(
  http: HttpClient,
  proxy: ProxyProcess,
  spec: { budgets: Array<[string, string | null, number | null]>; keys: string[] },
): Promise<Tree & { byName: Record<string, string> }> {
  const byName: Record<string, string> = {};
  const paths: Record<string, string[]> = {};
  const levels: Level[] = [];
  let ttl = 60;
  for (const [name, parent, cap] of spec.budgets) {
    const parentId = parent === null ? null : byName[parent];
    const res = await http.admin(proxy.url, 'POST', '/v1/budgets', {
      ...(cap === null ? {} : { usd_cap: cap }),
      ...(parentId ? { parent_id: parentId } : {}),
      expires_in: `${ttl}m`,
      label: `fb-${name}`,
    });
    ttl -= 1;
    expect(res.status, res.text).toBe(201);
    const id = res.json.id as string;
    byName[name] = id;
    paths[name] = [...(parent === null ? [] : (paths[parent] ?? [])), id];
    levels.push({ id, capUsd: cap, parent: parentId ?? null });
  }
  const keys: Tree['keys'] = [];
  for (const name of spec.keys) {
    const budgetId = byName[name] ?? '';
    const key = await http.issueKey(proxy.url, stripeKey({ budget_id: budgetId, label: `fb-key-${name}` }));
    keys.push({ ...key, budgetId, path: paths[name] ?? [] });
  }
  return { levels, keys, byName };
}

/** Probes look like `{prefix}-{keyIndex}-{n}`: which key paid for each upstream request. */
export function upstreamByKey(fake: FakeVendor, prefix: string, keyCount: number): number[] {
  const counts = Array.from({ length: keyCount }, () => 0);
  for (const r of fake.requests) {
    if (r.method !== 'POST' || r.path !== '/v1/payment_intents') continue;
    const probe = new URLSearchParams(r.body.toString('utf8')).get('metadata[probe]') ?? '';
    if (!probe.startsWith(`${prefix}-`)) continue;
    const index = Number(probe.slice(prefix.length + 1).split('-')[0]);
    if (Number.isInteger(index) && index >= 0 && index < keyCount) counts[index] = (counts[index] ?? 0) + 1;
  }
  return counts;
}

/** How many upstream payments each level's subtree made. */
export function upstreamByLevel(tree: Tree, perKey: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const level of tree.levels) out[level.id] = 0;
  tree.keys.forEach((key, i) => {
    for (const id of key.path) out[id] = (out[id] ?? 0) + (perKey[i] ?? 0);
  });
  return out;
}

export interface BudgetView {
  id: string;
  spent_usd: number;
  reserved_usd: number;
  uncertain_usd: number;
  usd_cap: number | null;
}

export async function budgetViews(
  http: HttpClient,
  proxy: ProxyProcess,
  tree: Tree,
): Promise<Record<string, BudgetView>> {
  const out: Record<string, BudgetView> = {};
  for (const level of tree.levels) {
    const res = await http.admin(proxy.url, 'GET', `/v1/budgets/${level.id}`);
    expect(res.status, res.text).toBe(200);
    out[level.id] = res.json as BudgetView;
  }
  return out;
}

/**
 * The promise's money rules per level, after the fact: nothing that reached the vendor was given back
 * (committed covers every upstream payment below the level), and no level passed its cap, by the ledger
 * or by what the vendor saw.
 */
export function levelFindings(
  tree: Tree,
  views: Record<string, BudgetView>,
  upstream: Record<string, number>,
): string[] {
  const findings: string[] = [];
  for (const level of tree.levels) {
    const view = views[level.id];
    const seen = upstream[level.id] ?? 0;
    if (!view) continue;
    const committedUsd = view.spent_usd + view.reserved_usd;
    if (committedUsd + 1e-9 < seen * PRICE_USD)
      findings.push(
        `level ${level.id}: committed $${committedUsd} < $${seen * PRICE_USD} the vendor was asked for (${seen} calls)`,
      );
    if (level.capUsd !== null && seen * PRICE_USD > level.capUsd)
      findings.push(`level ${level.id}: the vendor saw $${seen * PRICE_USD}, past its cap $${level.capUsd}`);
    if (level.capUsd !== null && committedUsd > level.capUsd + 1e-9)
      findings.push(`level ${level.id}: committed $${committedUsd} past its cap $${level.capUsd}`);
  }
  return findings;
}
