import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpendgateClient, SpendgateError, type SpendgateClient } from '../../src/client/index.js';
import { ADMIN_TOKEN, startTestProxy, type TestProxy } from '../helpers/proxy.js';

let proxy: TestProxy;
let client: SpendgateClient;

beforeAll(async () => {
  proxy = await startTestProxy({ overrides: { SPENDGATE_SANDBOX: true } });
  client = createSpendgateClient({ baseUrl: proxy.url, adminToken: ADMIN_TOKEN });
});

afterAll(async () => {
  await proxy.close();
});

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const CHARGE = ['POST /v1/payment_intents'];

/** Runs `fn`, expecting a SpendgateError, and returns it. */
async function refusal(fn: () => Promise<unknown>): Promise<SpendgateError> {
  try {
    await fn();
  } catch (err) {
    expect(SpendgateError.isInstance(err)).toBe(true);
    return err as SpendgateError;
  }
  throw new Error('expected a SpendgateError');
}

/** A root budget with a child under it, and a Stripe key under the child. */
async function tree(label: string) {
  const root = await client.createBudget({ usdCap: 100, expiresIn: '2h', label: `${label}-root` });
  const child = await client.createBudget({ parentId: root.id, usdCap: 20, expiresIn: '1h', label });
  const key = await client.issueKey({
    vendor: 'stripe',
    budgetId: child.id,
    allowedEndpoints: CHARGE,
    expiresIn: '30m',
  });
  return { root, child, key };
}

describe('budgets through the admin client', () => {
  it('creates a tree, in camelCase with dates, and keys carry their budgetId', async () => {
    const { root, child, key } = await tree('bc-tree');
    expect(root).toMatchObject({
      parentId: null,
      usdCap: 100,
      dailyUsdCap: null,
      maxUsdPerCall: null,
      status: 'active',
      depth: 1,
      label: 'bc-tree-root',
      metadata: {},
      revokedAt: null,
      spentUsd: 0,
      remainingUsd: 100,
    });
    expect(root.id).toMatch(/^bud_/);
    expect(root.expiresAt.getTime() - root.createdAt.getTime()).toBe(2 * 3_600_000);
    expect(child).toMatchObject({ parentId: root.id, depth: 2, usdCap: 20, remainingUsd: 20 });
    expect(key.budgetId).toBe(child.id);
    expect(key.usdCap).toBeNull();
    expect((await client.getKey(key.id)).budgetId).toBe(child.id);
    const plain = await client.issueKey({ vendor: 'stripe', usdCap: 1, allowedEndpoints: CHARGE });
    expect(plain.budgetId).toBeNull();
  });

  it('reads the spend of the keys below a budget, up the tree', async () => {
    const { root, child, key } = await tree('bc-spend');
    const res = await proxy.call('POST', '/stripe/v1/payment_intents', {
      token: key.token,
      body: 'amount=800&currency=usd',
      headers: FORM,
    });
    expect(res.status, res.text).toBe(200);
    const readChild = await client.getBudget(child.id);
    expect(readChild).toMatchObject({
      spentUsd: 8,
      spentTodayUsd: 8,
      reservedUsd: 0,
      uncertainUsd: 0,
      remainingUsd: 12,
      keys: 1,
      childBudgets: 0,
    });
    expect(readChild.createdAt).toBeInstanceOf(Date);
    expect(await client.getBudget(root.id)).toMatchObject({ spentUsd: 8, remainingUsd: 92, childBudgets: 1 });
    // The least left anywhere up the tree: a child with a bigger cap than its parent's remainder.
    const wide = await client.createBudget({ parentId: root.id, usdCap: 500, expiresIn: '1h' });
    expect(wide.remainingUsd).toBe(92);
  });

  it('lists the children of one budget, a page at a time', async () => {
    const root = await client.createBudget({ usdCap: 10, expiresIn: '2h', label: 'bc-root-list' });
    for (const n of [1, 2, 3]) await client.createBudget({ parentId: root.id, label: `bc-list-${n}` });
    const first = await client.listBudgets({ parentId: root.id, limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await client.listBudgets({ parentId: root.id, limit: 2, cursor: first.nextCursor ?? '' });
    expect(second.data).toHaveLength(1);
    const all = [...first.data, ...second.data];
    expect(all.every((b) => b.parentId === root.id)).toBe(true);
    expect(all.map((b) => b.label).sort()).toEqual(['bc-list-1', 'bc-list-2', 'bc-list-3']);
    const byPrefix = await client.listBudgets({ labelPrefix: 'bc-list-', status: 'active' });
    expect(byPrefix.data).toHaveLength(3);
  });

  it('revokes a whole subtree and its keys', async () => {
    const { root, child, key } = await tree('bc-revoke');
    const grandchild = await client.createBudget({ parentId: child.id, usdCap: 5, expiresIn: '10m' });
    await client.issueKey({
      vendor: 'stripe',
      budgetId: grandchild.id,
      allowedEndpoints: CHARGE,
      expiresIn: '5m',
    });
    const revoked = await client.revokeBudget(child.id);
    expect(revoked).toMatchObject({ id: child.id, status: 'revoked', revokedKeys: 2, revokedBudgets: 2 });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect((await client.getBudget(grandchild.id)).status).toBe('revoked');
    expect((await client.getKey(key.id)).status).toBe('revoked');
    expect((await client.getBudget(root.id)).status).toBe('active');
  });

  it('refuses with the contract’s codes', async () => {
    await expect(refusal(() => client.createBudget({ label: 'bc-nocap' }))).resolves.toMatchObject({
      code: 'cap_required',
      status: 400,
    });
    const unknown = await refusal(() => client.createBudget({ parentId: 'bud_doesnotexist', usdCap: 1 }));
    expect(unknown).toMatchObject({ code: 'not_found', status: 404 });
    expect(unknown.details.param).toBe('parent_id');
    const short = await client.createBudget({ usdCap: 5, expiresIn: '10m' });
    await expect(
      refusal(() =>
        client.issueKey({ vendor: 'stripe', budgetId: short.id, allowedEndpoints: CHARGE, expiresIn: '1h' }),
      ),
    ).resolves.toMatchObject({ code: 'outlives_parent', status: 400 });
    // Eight levels are allowed, a ninth is not; each child a little shorter-lived than its parent.
    let parentId = (await client.createBudget({ usdCap: 5, expiresIn: 3600 })).id;
    for (let depth = 2; depth <= 8; depth++) {
      parentId = (await client.createBudget({ parentId, expiresIn: 3600 - depth * 10 })).id;
    }
    expect((await client.getBudget(parentId)).depth).toBe(8);
    const tooDeep = await refusal(() => client.createBudget({ parentId, expiresIn: 60 }));
    expect(tooDeep).toMatchObject({ code: 'bad_request', status: 400 });
    await expect(refusal(() => client.getBudget('bud_doesnotexist'))).resolves.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('issuers through the admin client', () => {
  it('creates, reads, lists and revokes an issuer', async () => {
    const budget = await client.createBudget({ usdCap: 50, expiresIn: '2h', label: 'bc-issuer' });
    const issuer = await client.createIssuer({
      budgetId: budget.id,
      label: 'bc-issuer',
      vendors: ['stripe'],
      maxKeyUsdCap: 10,
      maxTtl: '1h',
      allowedEndpoints: CHARGE,
      expiresIn: 3600,
    });
    expect(issuer.id).toMatch(/^iss_/);
    expect(issuer.token).toMatch(/^it_/);
    expect(issuer).toMatchObject({
      budgetId: budget.id,
      label: 'bc-issuer',
      vendors: ['stripe'],
      maxKeyUsdCap: 10,
      maxTtl: 3600,
      allowedEndpoints: CHARGE,
      status: 'active',
      revokedAt: null,
    });
    expect(issuer.expiresAt?.getTime()).toBe(issuer.createdAt.getTime() + 3_600_000);
    const read = await client.getIssuer(issuer.id);
    expect(read).toMatchObject({ id: issuer.id, budgetId: budget.id });
    expect(read).not.toHaveProperty('token');
    const open = await client.createIssuer({ budgetId: budget.id });
    expect(open).toMatchObject({ vendors: null, maxKeyUsdCap: null, maxTtl: null, expiresAt: null });
    const page = await client.listIssuers({ budgetId: budget.id });
    expect(page.data.map((i) => i.id).sort()).toEqual([issuer.id, open.id].sort());
    const revoked = await client.revokeIssuer(issuer.id);
    expect(revoked).toMatchObject({ id: issuer.id, status: 'revoked' });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    const active = await client.listIssuers({ budgetId: budget.id, status: 'active' });
    expect(active.data.map((i) => i.id)).toEqual([open.id]);
    const scoped = createSpendgateClient({ baseUrl: proxy.url, adminToken: issuer.token });
    await expect(refusal(() => scoped.getBudget(budget.id))).resolves.toMatchObject({
      code: 'issuer_revoked',
      status: 401,
    });
  });

  it('an issuer token as adminToken works inside its subtree only', async () => {
    const mine = await client.createBudget({ usdCap: 50, expiresIn: '2h', label: 'bc-scope-mine' });
    const other = await client.createBudget({ usdCap: 50, expiresIn: '2h', label: 'bc-scope-other' });
    const { token } = await client.createIssuer({ budgetId: mine.id, maxKeyUsdCap: 10, maxTtl: '1h' });
    const scoped = createSpendgateClient({ baseUrl: proxy.url, adminToken: token });

    const child = await scoped.createBudget({ parentId: mine.id, usdCap: 10, expiresIn: '30m' });
    expect(child).toMatchObject({ parentId: mine.id, depth: 2 });
    // Within the issuer's max_key_usd_cap: the ceiling applies to a key under a budget too.
    const key = await scoped.issueKey({
      vendor: 'stripe',
      budgetId: child.id,
      usdCap: 5,
      allowedEndpoints: CHARGE,
      expiresIn: '10m',
    });
    expect(key).toMatchObject({ budgetId: child.id, usdCap: 5, status: 'active' });
    expect((await scoped.getBudget(child.id)).keys).toBe(1);

    await expect(refusal(() => scoped.getBudget(other.id))).resolves.toMatchObject({
      code: 'not_found',
      status: 404,
    });
    await expect(
      refusal(() => scoped.createBudget({ parentId: other.id, usdCap: 1, expiresIn: '10m' })),
    ).resolves.toMatchObject({ code: 'not_found' });
    await expect(refusal(() => scoped.createIssuer({ budgetId: mine.id }))).resolves.toMatchObject({
      code: 'issuer_scope',
      status: 403,
    });
  });
});
