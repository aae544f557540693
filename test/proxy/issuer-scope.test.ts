/**
 * Issuer tokens (`it_…`) through the real proxy: an issuer is scoped to its budget's subtree and to its
 * ceilings (vendors, max_key_usd_cap, max_ttl, allowed_endpoints). Every refusal is checked to have created
 * nothing, by counting what the admin lists hold before and after. The tree used throughout:
 *
 *   root ($1000) ── parentA ($500) ─┬─ mine ($100)     ← the issuer's budget
 *                                   └─ sibling ($100)  ← out of scope
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropSchema, pgTestUrl, uniqueSchema } from '../helpers/postgres.js';
import { ADMIN_TOKEN, type TestResponse } from '../helpers/proxy.js';
import { startStripeStack, type StripeStack } from '../helpers/stripe-stack.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const CHARGE_1 = 'amount=100&currency=usd';
const CHARGE_10 = 'amount=1000&currency=usd';
const CEILING = ['POST /v1/payment_intents', 'POST /v1/customers/*', 'GET /v1/payment_intents/*'];
const PAY = ['POST /v1/payment_intents'];

/** Every store the proxy runs on: PostgreSQL too when SPENDGATE_TEST_PG_URL names a database. */
const pg = pgTestUrl();
const LEDGERS: Array<{ name: string; db: string; schema?: string }> = [
  { name: 'SQLite', db: ':memory:' },
  { name: 'memory', db: 'memory' },
  ...(pg === undefined ? [] : [{ name: 'PostgreSQL', db: pg, schema: uniqueSchema() }]),
];

describe.each(LEDGERS)('issuer tokens on the $name ledger', (ledger) => {
  let skew = 0;
  let s: StripeStack;
  const ids = { root: '', parentA: '', mine: '', sibling: '', issuer: '' };
  let issuerToken = '';

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  /** An admin-API request made with some token other than the admin token. */
  const as = (token: string, method: string, path: string, body?: unknown) =>
    s.t.admin(method, path, body, bearer(token));
  const asIssuer = (method: string, path: string, body?: unknown) => as(issuerToken, method, path, body);

  /** The refusal's code, status and `error` object, for one assertion each. */
  const refusal = (res: TestResponse) => ({
    status: res.status,
    code: res.json?.code as unknown,
    error: res.json?.error as Record<string, unknown> | undefined,
  });

  function expectScope(res: TestResponse, limit: string): void {
    expect(res.status, res.text).toBe(403);
    expect(res.json).toMatchObject({ code: 'issuer_scope', error: { code: 'issuer_scope', limit } });
  }

  function expectNotFound(res: TestResponse, param?: string): void {
    expect(res.status, res.text).toBe(404);
    expect(res.json.code).toBe('not_found');
    if (param !== undefined) expect(res.json.error.param).toBe(param);
  }

  /** Every item of an admin list, following the cursor. */
  async function all(path: string, token = ADMIN_TOKEN): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    const sep = path.includes('?') ? '&' : '?';
    do {
      const res = await as(token, 'GET', `${path}${sep}limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, res.text).toBe(200);
      out.push(...(res.json.data as Array<Record<string, unknown>>));
      cursor = res.json.next_cursor as string | null;
    } while (cursor !== null);
    return out;
  }

  /** How many keys, budgets, issuers and approvals the ledger holds (admin view). */
  async function census() {
    return {
      keys: (await all('/v1/keys')).length,
      budgets: (await all('/v1/budgets')).length,
      issuers: (await all('/v1/issuers')).length,
      approvals: (await all('/v1/approvals')).length,
    };
  }

  const adminBudget = async (body: Record<string, unknown>) => {
    const res = await s.t.admin('POST', '/v1/budgets', body);
    expect(res.status, res.text).toBe(201);
    return res.json.id as string;
  };

  const adminIssuer = async (body: Record<string, unknown>) => {
    const res = await s.t.admin('POST', '/v1/issuers', body);
    expect(res.status, res.text).toBe(201);
    return { id: res.json.id as string, token: res.json.token as string };
  };

  /** A key the issuer issues, expected to succeed. */
  const issuerKey = async (body: Record<string, unknown> = {}, token = issuerToken) => {
    const res = await as(token, 'POST', '/v1/keys', {
      vendor: 'stripe',
      usd_cap: 10,
      allowed_endpoints: PAY,
      expires_in: '30m',
      ...body,
    });
    expect(res.status, res.text).toBe(201);
    return { id: res.json.id as string, token: res.json.token as string, view: res.json };
  };

  /** A key the admin issues outside the issuer's subtree (under `sibling` unless told). */
  const foreignKey = (body: Record<string, unknown> = {}) =>
    s.t.issue({
      vendor: 'stripe',
      usd_cap: 10,
      budget_id: ids.sibling,
      allowed_endpoints: PAY,
      expires_in: '30m',
      ...body,
    });

  const keyStatus = async (id: string) => (await s.t.admin('GET', `/v1/keys/${id}`)).json.status as string;

  beforeAll(async () => {
    s = await startStripeStack({
      overrides: {
        SPENDGATE_LOG_LEVEL: 'warn',
        SPENDGATE_MAX_TTL: '24h',
        SPENDGATE_DB: ledger.db,
        ...(ledger.schema ? { SPENDGATE_DB_SCHEMA: ledger.schema } : {}),
      },
      now: () => Date.now() + skew,
    });
    ids.root = await adminBudget({ usd_cap: 1000, expires_in: '12h', label: 'is-root' });
    ids.parentA = await adminBudget({ parent_id: ids.root, usd_cap: 500, expires_in: '10h', label: 'is-A' });
    ids.mine = await adminBudget({
      parent_id: ids.parentA,
      usd_cap: 100,
      expires_in: '8h',
      label: 'is-mine',
    });
    ids.sibling = await adminBudget({
      parent_id: ids.parentA,
      usd_cap: 100,
      expires_in: '8h',
      label: 'is-sibling',
    });
    const issuer = await adminIssuer({
      budget_id: ids.mine,
      label: 'is-issuer',
      vendors: ['stripe'],
      max_key_usd_cap: 20,
      max_ttl: '1h',
      allowed_endpoints: CEILING,
    });
    ids.issuer = issuer.id;
    issuerToken = issuer.token;
  });
  afterAll(async () => {
    await s.close();
    if (ledger.schema) await dropSchema(ledger.db, ledger.schema);
  });
  beforeEach(() => s.fake.reset());

  describe('issuer creation (admin token)', () => {
    it('returns an it_ token once and an issuer view without it', async () => {
      const created = await s.t.admin('POST', '/v1/issuers', {
        budget_id: ids.mine,
        label: 'shape',
        vendors: ['stripe'],
        max_key_usd_cap: 20,
        max_ttl: '1h',
        allowed_endpoints: CEILING,
        expires_in: '2h',
      });
      expect(created.status, created.text).toBe(201);
      expect(created.json).toMatchObject({
        budget_id: ids.mine,
        label: 'shape',
        vendors: ['stripe'],
        max_key_usd_cap: 20,
        max_ttl: 3600,
        allowed_endpoints: CEILING,
        status: 'active',
        revoked_at: null,
      });
      expect(created.json.id).toMatch(/^iss_/);
      expect(created.json.token).toMatch(/^it_/);
      const read = await s.t.admin('GET', `/v1/issuers/${created.json.id}`);
      expect(read.status).toBe(200);
      expect(read.text).not.toContain(created.json.token);
      expect(read.json).not.toHaveProperty('token');
      const listed = await all('/v1/issuers');
      expect(JSON.stringify(listed)).not.toContain(created.json.token);
    });
  });

  describe('issuer ceilings: each limit is 403 issuer_scope naming it, and nothing is created', () => {
    it('vendors: a Twilio or Resend key is refused', async () => {
      const before = await census();
      for (const vendor of ['twilio', 'resend']) {
        const res = await asIssuer('POST', '/v1/keys', {
          vendor,
          usd_cap: 5,
          allowed_endpoints: ['POST /v1/payment_intents'],
          expires_in: '30m',
        });
        expectScope(res, 'vendors');
      }
      expect(await census()).toEqual(before);
    });

    it('max_key_usd_cap: a usd_cap or daily_usd_cap above the ceiling is refused, at the ceiling admitted', async () => {
      const before = await census();
      for (const caps of [
        { usd_cap: 20.000001 },
        { usd_cap: '21' },
        { daily_usd_cap: 25 },
        { usd_cap: 10, daily_usd_cap: 30 },
        { usd_cap: 1_000_000 },
      ]) {
        const res = await asIssuer('POST', '/v1/keys', {
          vendor: 'stripe',
          allowed_endpoints: PAY,
          expires_in: '30m',
          ...caps,
        });
        expectScope(res, 'max_key_usd_cap');
      }
      expect(await census()).toEqual(before);
      const ok = await issuerKey({ usd_cap: 20, daily_usd_cap: 20 });
      expect(ok.view).toMatchObject({ usd_cap: 20, daily_usd_cap: 20, budget_id: ids.mine });
    });

    it('max_key_usd_cap: a key with no cap of its own is refused while a ceiling exists', async () => {
      const before = await census();
      // With and without an explicit budget_id: the budget caps it, but the issuer's per-key ceiling must hold.
      for (const extra of [{}, { budget_id: ids.mine }, { max_usd_per_call: 1 }]) {
        const res = await asIssuer('POST', '/v1/keys', {
          vendor: 'stripe',
          allowed_endpoints: PAY,
          expires_in: '30m',
          ...extra,
        });
        expectScope(res, 'max_key_usd_cap');
      }
      expect(await census()).toEqual(before);
    });

    it('max_ttl: a key living longer than max_ttl is refused, by expires_in or expires_at', async () => {
      const before = await census();
      const far = new Date(Date.now() + skew + 61 * 60_000).toISOString();
      for (const ttl of [
        { expires_in: '2h' },
        { expires_in: 3601 },
        { expires_in: '1h1s' },
        { expires_at: far },
      ]) {
        const res = await asIssuer('POST', '/v1/keys', {
          vendor: 'stripe',
          usd_cap: 5,
          allowed_endpoints: PAY,
          ...ttl,
        });
        expectScope(res, 'max_ttl');
      }
      expect(await census()).toEqual(before);
      // Exactly max_ttl, and the server's default TTL (1h) when no expiry is named, are admitted.
      await issuerKey({ expires_in: 3600 });
      const defaulted = await as(issuerToken, 'POST', '/v1/keys', {
        vendor: 'stripe',
        usd_cap: 5,
        allowed_endpoints: PAY,
      });
      expect(defaulted.status, defaulted.text).toBe(201);
    });

    it('max_ttl: a child budget living longer than max_ttl is refused', async () => {
      const before = await census();
      const far = new Date(Date.now() + skew + 3 * 3_600_000).toISOString();
      for (const ttl of [{ expires_in: '2h' }, { expires_in: 7200 }, { expires_at: far }]) {
        const res = await asIssuer('POST', '/v1/budgets', { usd_cap: 5, ...ttl });
        expectScope(res, 'max_ttl');
      }
      expect(await census()).toEqual(before);
      const ok = await asIssuer('POST', '/v1/budgets', { usd_cap: 5, expires_in: '30m' });
      expect(ok.status, ok.text).toBe(201);
      expect(ok.json.parent_id).toBe(ids.mine);
    });

    it('allowed_endpoints: wider globs, any-method entries and near misses are refused', async () => {
      const before = await census();
      for (const entry of [
        'POST /v1/**',
        '/v1/payment_intents',
        '/v1/**',
        '/**',
        'POST /**',
        'POST /v1/payment_intents/**',
        'POST /v1/payment_intents/*',
        'POST /v1/*',
        'GET /v1/payment_intents',
        'GET /v1/payment_intents/**',
        'DELETE /v1/customers/*',
        'POST /v1/customers',
        'POST /v1/customers/**',
        'POST /v1/customers/*/**',
        'POST /v1/customers/*/sources',
        'POST /v1/charges',
        'POST /v1/%2A%2A',
      ]) {
        const res = await asIssuer('POST', '/v1/keys', {
          vendor: 'stripe',
          usd_cap: 5,
          allowed_endpoints: [entry],
          expires_in: '30m',
        });
        expect(res.json?.error?.limit, `${entry}: ${res.text}`).toBe('allowed_endpoints');
        expectScope(res, 'allowed_endpoints');
      }
      // One entry outside the ceiling spoils the whole list.
      const mixed = await asIssuer('POST', '/v1/keys', {
        vendor: 'stripe',
        usd_cap: 5,
        allowed_endpoints: ['POST /v1/payment_intents', 'POST /v1/refunds'],
        expires_in: '30m',
      });
      expectScope(mixed, 'allowed_endpoints');
      expect(await census()).toEqual(before);
    });

    it('allowed_endpoints: entries inside the ceiling are admitted, * by * and literal by *', async () => {
      for (const endpoints of [
        ['POST /v1/customers/*'],
        ['POST /v1/customers/cus_1'],
        ['post /v1/payment_intents'],
        ['POST /v1/payment_intents', 'GET /v1/payment_intents/pi_1'],
      ]) {
        const { view } = await issuerKey({ allowed_endpoints: endpoints });
        expect(view.allowed_endpoints).toEqual(endpoints);
      }
    });
  });

  describe('the subtree: anything outside reads as 404 not_found', () => {
    it('a foreign key (under a sibling budget, or under none) is 404 on GET and DELETE', async () => {
      const sibling = await foreignKey({ label: 'foreign-read' });
      const loose = await s.t.issue({ vendor: 'stripe', usd_cap: 10, allowed_endpoints: PAY });
      for (const key of [sibling, loose]) {
        expectNotFound(await asIssuer('GET', `/v1/keys/${key.id}`));
        expectNotFound(await asIssuer('DELETE', `/v1/keys/${key.id}`));
        expectNotFound(await asIssuer('DELETE', `/vault/keys/${key.id}`));
        // Same answer as for a key that does not exist: existence does not leak.
        const missing = await asIssuer('GET', '/v1/keys/key_doesnotexist');
        expect((await asIssuer('GET', `/v1/keys/${key.id}`)).json.error.message).toBe(
          missing.json.error.message.replace('key_doesnotexist', key.id),
        );
        expect(await keyStatus(key.id)).toBe('active');
      }
      // The key still works: the issuer revoked nothing.
      const res = await s.t.call('POST', '/v1/payment_intents', {
        token: sibling.token,
        body: CHARGE_1,
        headers: FORM,
      });
      expect(res.status, res.text).toBe(200);
      // Its own key reads fine (positive control).
      const own = await issuerKey();
      expect((await asIssuer('GET', `/v1/keys/${own.id}`)).status).toBe(200);
    });

    it('a foreign budget (sibling, parent, root) is 404 on GET and DELETE; its own reads fine', async () => {
      for (const id of [ids.sibling, ids.parentA, ids.root]) {
        expectNotFound(await asIssuer('GET', `/v1/budgets/${id}`));
        expectNotFound(await asIssuer('DELETE', `/v1/budgets/${id}`));
        const admin = await s.t.admin('GET', `/v1/budgets/${id}`);
        expect(admin.json.status).toBe('active');
      }
      const own = await asIssuer('GET', `/v1/budgets/${ids.mine}`);
      expect(own.status).toBe(200);
      expect(own.json).toMatchObject({ id: ids.mine, parent_id: ids.parentA, depth: 3 });
    });

    it("a foreign key's approval is 404 on GET, approve and deny, and stays pending", async () => {
      const foreign = await foreignKey({ usd_cap: 20, approval_above_usd: 5, label: 'foreign-approval' });
      const asked = await s.t.call('POST', '/v1/payment_intents', {
        token: foreign.token,
        body: CHARGE_10,
        headers: FORM,
      });
      expect(asked.status, asked.text).toBe(403);
      const approvalId = asked.json.error.approval.id as string;
      expectNotFound(await asIssuer('GET', `/v1/approvals/${approvalId}`));
      expectNotFound(await asIssuer('POST', `/v1/approvals/${approvalId}/approve`));
      expectNotFound(await asIssuer('POST', `/v1/approvals/${approvalId}/deny`));
      expectNotFound(await asIssuer('POST', `/v1/approvals/${approvalId}/approve`, { note: 'ok' }));
      const listed = await asIssuer('GET', `/v1/approvals?key_id=${foreign.id}`);
      expect(listed.json.data).toEqual([]);
      const pending = await asIssuer('GET', '/v1/approvals?status=pending');
      expect(pending.json.data.map((a: { id: string }) => a.id)).not.toContain(approvalId);
      expect((await s.t.admin('GET', `/v1/approvals/${approvalId}`)).json.status).toBe('pending');

      // An approval of its own key is the issuer's to decide (positive control).
      const own = await issuerKey({ usd_cap: 20, approval_above_usd: 5 });
      const ownAsked = await s.t.call('POST', '/v1/payment_intents', {
        token: own.token,
        body: CHARGE_10,
        headers: FORM,
      });
      const ownId = ownAsked.json.error.approval.id as string;
      expect((await asIssuer('GET', '/v1/approvals?status=pending')).json.data).toEqual([
        expect.objectContaining({ id: ownId, key_id: own.id }),
      ]);
      const approved = await asIssuer('POST', `/v1/approvals/${ownId}/approve`);
      expect(approved.status, approved.text).toBe(200);
      expect(approved.json.grant).toMatch(/^apv_/);
      expect(s.fake.requests).toHaveLength(0);
    });

    it('cannot create, list, read or revoke issuers (403 issuer_scope), not even for its own budget', async () => {
      const before = await census();
      for (const body of [
        { budget_id: ids.mine },
        { budget_id: ids.mine, max_key_usd_cap: 1000 },
        { budget_id: ids.root },
      ]) {
        const res = await asIssuer('POST', '/v1/issuers', body);
        expect(refusal(res)).toMatchObject({ status: 403, code: 'issuer_scope' });
      }
      for (const [method, path] of [
        ['GET', '/v1/issuers'],
        ['GET', `/v1/issuers?budget_id=${ids.mine}`],
        ['GET', `/v1/issuers/${ids.issuer}`],
        ['DELETE', `/v1/issuers/${ids.issuer}`],
        ['GET', '/v1/issuers/iss_doesnotexist'],
      ] as const) {
        const res = await asIssuer(method, path);
        expect(refusal(res), `${method} ${path}`).toMatchObject({ status: 403, code: 'issuer_scope' });
      }
      expect(await census()).toEqual(before);
      expect((await s.t.admin('GET', `/v1/issuers/${ids.issuer}`)).json.status).toBe('active');
    });

    it('cannot reach a sibling subtree or above: budget_id / parent_id out of scope are 404', async () => {
      const before = await census();
      for (const budgetId of [ids.sibling, ids.parentA, ids.root, 'bud_doesnotexist']) {
        const key = await asIssuer('POST', '/v1/keys', {
          vendor: 'stripe',
          usd_cap: 5,
          budget_id: budgetId,
          allowed_endpoints: PAY,
          expires_in: '30m',
        });
        expectNotFound(key, 'budget_id');
        const alias = await asIssuer('POST', '/vault/keys', {
          vendor: 'stripe',
          usd_cap: 5,
          budget_id: budgetId,
          allowed_endpoints: PAY,
          expires_in: '30m',
        });
        expectNotFound(alias, 'budget_id');
        const budget = await asIssuer('POST', '/v1/budgets', {
          usd_cap: 5,
          parent_id: budgetId,
          expires_in: '30m',
        });
        expectNotFound(budget, 'parent_id');
      }
      // A root budget is never the issuer's to make: null is not "no parent".
      const root = await asIssuer('POST', '/v1/budgets', { usd_cap: 5, parent_id: null, expires_in: '30m' });
      expect(refusal(root)).toMatchObject({ status: 400, code: 'bad_request' });
      expect(await census()).toEqual(before);
      // Omitted, both default to the issuer's own budget.
      const key = await issuerKey();
      expect(key.view.budget_id).toBe(ids.mine);
      const child = await asIssuer('POST', '/v1/budgets', { expires_in: '30m' });
      expect(child.status, child.text).toBe(201);
      expect(child.json).toMatchObject({ parent_id: ids.mine, depth: 4, usd_cap: null });
      // A grandchild of its own budget is in scope.
      const grandKey = await issuerKey({ budget_id: child.json.id, expires_in: '20m' });
      expect(grandKey.view.budget_id).toBe(child.json.id);
    });

    it('cannot reach /v1/reservations or /metrics (403 issuer_scope)', async () => {
      for (const [method, path, body] of [
        ['GET', '/v1/reservations', undefined],
        ['GET', `/v1/reservations?status=uncertain`, undefined],
        ['POST', '/v1/reservations/res_x/resolve', { outcome: 'released' }],
        ['GET', '/metrics', undefined],
      ] as const) {
        const res = await asIssuer(method, path, body);
        expect(refusal(res), `${method} ${path}: ${res.text}`).toMatchObject({
          status: 403,
          code: 'issuer_scope',
        });
        expect(res.text).not.toContain('spendgate_calls_total');
      }
    });
  });

  describe('lists, audit and bulk revoke only see the subtree', () => {
    it('lists keys of its subtree only, whatever the filters or cursor', async () => {
      const own = [
        await issuerKey({ label: 'lst-shared-own-1' }),
        await issuerKey({ label: 'lst-shared-own-2' }),
      ];
      const child = await asIssuer('POST', '/v1/budgets', { expires_in: '30m', label: 'lst-child' });
      own.push(await issuerKey({ label: 'lst-shared-own-3', budget_id: child.json.id, expires_in: '20m' }));
      const foreign = [
        await foreignKey({ label: 'lst-shared-foreign' }),
        await foreignKey({ label: 'lst-shared-foreign', budget_id: ids.parentA }),
        await s.t.issue({
          vendor: 'stripe',
          usd_cap: 5,
          label: 'lst-shared-foreign',
          allowed_endpoints: PAY,
        }),
      ];
      const ownIds = own.map((k) => k.id).sort();
      const foreignIds = foreign.map((k) => k.id);
      const idsOf = (rows: Array<Record<string, unknown>>) => rows.map((r) => r.id as string);

      const everything = idsOf(await all('/v1/keys', issuerToken));
      expect(everything).toEqual(expect.arrayContaining(ownIds));
      for (const id of foreignIds) expect(everything).not.toContain(id);
      // Every key it sees hangs under its budget or a child of it.
      const scope = idsOf(await all('/v1/budgets', issuerToken));
      const keys = await all('/v1/keys', issuerToken);
      expect(keys.every((k) => scope.includes(k.budget_id as string))).toBe(true);

      expect(idsOf(await all('/v1/keys?label=lst-shared-foreign', issuerToken))).toEqual([]);
      expect(idsOf(await all('/v1/keys?label_prefix=lst-shared-', issuerToken)).sort()).toEqual(ownIds);
      expect(idsOf(await all('/v1/keys?vendor=stripe&status=active', issuerToken))).not.toContain(
        foreignIds[0],
      );
      // Cursor games: a huge cursor, an admin page's cursor, and pages of one.
      const huge = await asIssuer('GET', '/v1/keys?cursor=999999999999&limit=500');
      expect(huge.status).toBe(200);
      for (const id of foreignIds) expect(idsOf(huge.json.data)).not.toContain(id);
      const adminPage = await s.t.admin('GET', '/v1/keys?limit=1');
      const fromAdminCursor = await asIssuer(
        'GET',
        `/v1/keys?limit=500&cursor=${adminPage.json.next_cursor}`,
      );
      for (const id of foreignIds) expect(idsOf(fromAdminCursor.json.data)).not.toContain(id);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await asIssuer(
          'GET',
          `/v1/keys?label_prefix=lst-shared-&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        paged.push(...idsOf(page.json.data));
        cursor = page.json.next_cursor;
      } while (cursor !== null);
      expect(paged.sort()).toEqual(ownIds);
    });

    it('lists budgets of its subtree only (parent_id, label and cursor filters included)', async () => {
      const idsOf = (rows: Array<Record<string, unknown>>) => rows.map((r) => r.id as string);
      const seen = idsOf(await all('/v1/budgets', issuerToken));
      expect(seen).toContain(ids.mine);
      for (const id of [ids.root, ids.parentA, ids.sibling]) expect(seen).not.toContain(id);
      const underSibling = await adminBudget({
        parent_id: ids.sibling,
        expires_in: '1h',
        label: 'bl-foreign',
      });
      expect(idsOf(await all(`/v1/budgets?parent_id=${ids.sibling}`, issuerToken))).toEqual([]);
      expect(idsOf(await all(`/v1/budgets?parent_id=${ids.root}`, issuerToken))).toEqual([]);
      // Its own budget hangs under parentA, so that filter shows it, and only it.
      expect(idsOf(await all(`/v1/budgets?parent_id=${ids.parentA}`, issuerToken))).toEqual([ids.mine]);
      expect(idsOf(await all('/v1/budgets?label=is-sibling', issuerToken))).toEqual([]);
      expect(idsOf(await all('/v1/budgets?label_prefix=is-', issuerToken))).toEqual([ids.mine]);
      expect(idsOf(await all('/v1/budgets?label=bl-foreign', issuerToken))).toEqual([]);
      const huge = await asIssuer('GET', '/v1/budgets?cursor=999999999999&limit=500');
      expect(idsOf(huge.json.data)).not.toContain(underSibling);
      for (const id of [ids.root, ids.parentA, ids.sibling]) expect(idsOf(huge.json.data)).not.toContain(id);
    });

    it("reads only its subtree's audit rows, even when asking for a foreign key_id or label", async () => {
      const own = await issuerKey({ label: 'aud-shared-own' });
      const foreign = await foreignKey({ label: 'aud-shared-foreign' });
      const loose = await s.t.issue({
        vendor: 'stripe',
        usd_cap: 5,
        label: 'aud-shared-loose',
        allowed_endpoints: PAY,
      });
      for (const token of [own.token, foreign.token, loose.token]) {
        const res = await s.t.call('POST', '/v1/payment_intents', { token, body: CHARGE_1, headers: FORM });
        expect(res.status, res.text).toBe(200);
      }
      // A denied call by an unknown key (no key id) must not show either.
      await s.t.call('POST', '/v1/payment_intents', { token: 'vk_unknown', body: CHARGE_1, headers: FORM });

      const rows = await all('/v1/audit', issuerToken);
      const scopeKeys = (await all('/v1/keys', issuerToken)).map((k) => k.id);
      expect(rows.map((r) => r.key_id)).toContain(own.id);
      expect(rows.every((r) => scopeKeys.includes(r.key_id as string))).toBe(true);
      expect(await all(`/v1/audit?key_id=${foreign.id}`, issuerToken)).toEqual([]);
      expect(await all(`/v1/audit?key_id=${loose.id}`, issuerToken)).toEqual([]);
      expect(await all('/v1/audit?label=aud-shared-foreign', issuerToken)).toEqual([]);
      const prefixed = await all('/v1/audit?label_prefix=aud-shared-', issuerToken);
      expect(prefixed.map((r) => r.key_id)).toEqual([own.id]);
      const huge = await asIssuer('GET', '/v1/audit?cursor=999999999999&limit=500');
      expect(huge.json.data.map((r: { key_id: string }) => r.key_id)).not.toContain(foreign.id);
      // The admin sees all three (the rows exist).
      expect((await all('/v1/audit?label_prefix=aud-shared-')).length).toBe(3);
    });

    it('bulk revoke by label, label_prefix or metadata revokes only keys of its subtree', async () => {
      const make = async (n: string) => {
        const metadata = { tenant: `t-bulk-${n}` };
        const label = `bulk-${n}-shared`;
        const own = [await issuerKey({ label, metadata }), await issuerKey({ label, metadata })];
        const foreign = [
          await foreignKey({ label, metadata }),
          await foreignKey({ label, metadata, budget_id: ids.parentA }),
          await s.t.issue({ vendor: 'stripe', usd_cap: 5, label, metadata, allowed_endpoints: PAY }),
        ];
        return { own, foreign, label, metadata };
      };
      for (const [n, body] of [
        ['a', (x: { label: string }) => ({ label: x.label })],
        ['b', () => ({ label_prefix: 'bulk-b' })],
        ['c', (x: { metadata: Record<string, string> }) => ({ metadata: x.metadata })],
      ] as const) {
        const set = await make(n);
        const res = await asIssuer('POST', '/v1/keys/revoke', body(set));
        expect(res.status, res.text).toBe(200);
        expect(res.json).toEqual({ revoked: 2 });
        for (const key of set.own) expect(await keyStatus(key.id)).toBe('revoked');
        for (const key of set.foreign) expect(await keyStatus(key.id)).toBe('active');
      }
      // A prefix that matches every label in the ledger still stays in the subtree.
      const wide = await asIssuer('POST', '/v1/keys/revoke', { label_prefix: 'b' });
      expect(wide.status).toBe(200);
      const activeForeign = (await all('/v1/keys?label_prefix=bulk-&status=active')).length;
      expect(activeForeign).toBe(9);
    });
  });

  describe('tokens', () => {
    it('a vault key is 403 admin_token_required on every admin route, and changes nothing', async () => {
      const own = await issuerKey({ label: 'vk-admin' });
      const admins = await s.t.issue({
        vendor: 'stripe',
        usd_cap: 5,
        allowed_endpoints: PAY,
        label: 'vk-admin',
      });
      const victim = await foreignKey({ label: 'vk-victim' });
      const before = await census();
      for (const token of [own.token, admins.token]) {
        for (const [method, path, body] of adminRoutes({
          key: victim.id,
          budget: ids.sibling,
          issuer: ids.issuer,
        })) {
          const res = await as(token, method, path, body);
          expect(refusal(res), `${method} ${path}: ${res.text}`).toMatchObject({
            status: 403,
            code: 'admin_token_required',
          });
        }
      }
      expect(await census()).toEqual(before);
      expect(await keyStatus(victim.id)).toBe('active');
      expect((await s.t.admin('GET', `/v1/budgets/${ids.sibling}`)).json.status).toBe('active');
      expect((await s.t.admin('GET', `/v1/issuers/${ids.issuer}`)).json.status).toBe('active');
    });

    it('a revoked issuer token is 401 issuer_revoked on every route right after the revoke', async () => {
      const issuer = await adminIssuer({ budget_id: ids.mine, label: 'to-revoke' });
      const key = await issuerKey({}, issuer.token);
      expect((await as(issuer.token, 'GET', '/v1/keys')).status).toBe(200);
      const revoked = await s.t.admin('DELETE', `/v1/issuers/${issuer.id}`);
      expect(revoked.status).toBe(200);
      // The keys its token issued go with it: they may be in the same hands as a leaked token.
      expect(revoked.json).toMatchObject({ id: issuer.id, status: 'revoked', revoked_keys: 1 });
      const before = await census();
      for (const [method, path, body] of adminRoutes({ key: key.id, budget: ids.mine, issuer: issuer.id })) {
        const res = await as(issuer.token, method, path, body);
        expect(refusal(res), `${method} ${path}: ${res.text}`).toMatchObject({
          status: 401,
          code: 'issuer_revoked',
        });
      }
      expect(await census()).toEqual(before);
      expect(await keyStatus(key.id)).toBe('revoked');
      expect((await s.t.admin('GET', `/v1/budgets/${ids.mine}`)).json.status).toBe('active');
    });

    it('an expired issuer token is 401 issuer_expired; an unknown it_ token is 401 unauthorized', async () => {
      const issuer = await adminIssuer({ budget_id: ids.mine, label: 'to-expire', expires_in: '1s' });
      expect((await as(issuer.token, 'GET', '/v1/keys')).status).toBe(200);
      skew += 1500;
      const before = await census();
      for (const [method, path, body] of [
        ['GET', '/v1/keys', undefined],
        ['POST', '/v1/keys', { vendor: 'stripe', usd_cap: 1, allowed_endpoints: PAY, expires_in: '5m' }],
        ['POST', '/v1/budgets', { expires_in: '5m' }],
      ] as const) {
        const expired = await as(issuer.token, method, path, body);
        expect(refusal(expired)).toMatchObject({ status: 401, code: 'issuer_expired' });
        const unknown = await as(`it_${'A'.repeat(32)}`, method, path, body);
        expect(refusal(unknown)).toMatchObject({ status: 401, code: 'unauthorized' });
      }
      expect(await census()).toEqual(before);
      expect((await s.t.admin('GET', `/v1/issuers/${issuer.id}`)).json.status).toBe('expired');
    });

    it('an issuer token is never accepted as a vault key on a vendor path', async () => {
      const basic = `Basic ${Buffer.from(`${issuerToken}:`).toString('base64')}`;
      for (const [path, headers] of [
        ['/v1/payment_intents', bearer(issuerToken)],
        ['/stripe/v1/payment_intents', bearer(issuerToken)],
        ['/v1/payment_intents', { authorization: basic }],
        ['/stripe/v1/customers', bearer(issuerToken)],
      ] as const) {
        const res = await s.t.call('POST', path, { body: CHARGE_1, headers: { ...FORM, ...headers } });
        expect(refusal(res), `${path}: ${res.text}`).toMatchObject({ status: 401, code: 'key_invalid' });
      }
      const sdk = s.sdk(issuerToken);
      await expect(sdk.paymentIntents.create({ amount: 100, currency: 'usd' })).rejects.toMatchObject({
        statusCode: 401,
        code: 'key_invalid',
      });
      expect(s.fake.requests).toHaveLength(0);
    });
  });

  describe('secrets', () => {
    it('the issuer token never shows in a view, a list, an audit row or a log line', async () => {
      await asIssuer('GET', '/v1/keys');
      await asIssuer('POST', '/v1/issuers', { budget_id: ids.mine });
      await s.t.call('POST', '/v1/payment_intents', {
        body: CHARGE_1,
        headers: { ...FORM, ...bearer(issuerToken) },
      });
      const texts = [
        (await s.t.admin('GET', `/v1/issuers/${ids.issuer}`)).text,
        JSON.stringify(await all('/v1/issuers')),
        JSON.stringify(await all('/v1/audit')),
        ...s.t.logs,
      ];
      for (const text of texts) expect(text).not.toContain(issuerToken.slice(3));
    });
  });

  describe('trying to escape', () => {
    it('a budget_id or parent_id in its subtree that is revoked is 400 parent_inactive; nothing created', async () => {
      const child = await asIssuer('POST', '/v1/budgets', { expires_in: '30m', label: 'esc-revoked' });
      expect((await asIssuer('DELETE', `/v1/budgets/${child.json.id}`)).status).toBe(200);
      // A revoked sibling budget is still out of scope: 404 first, so its state does not leak either.
      const gone = await adminBudget({ parent_id: ids.sibling, expires_in: '30m' });
      await s.t.admin('DELETE', `/v1/budgets/${gone}`);
      const before = await census();
      const key = await asIssuer('POST', '/v1/keys', {
        vendor: 'stripe',
        usd_cap: 5,
        budget_id: child.json.id,
        allowed_endpoints: PAY,
        expires_in: '10m',
      });
      expect(refusal(key)).toMatchObject({
        status: 400,
        code: 'parent_inactive',
        error: { param: 'budget_id' },
      });
      const budget = await asIssuer('POST', '/v1/budgets', { parent_id: child.json.id, expires_in: '10m' });
      expect(refusal(budget)).toMatchObject({
        status: 400,
        code: 'parent_inactive',
        error: { param: 'parent_id' },
      });
      expectNotFound(
        await asIssuer('POST', '/v1/keys', {
          vendor: 'stripe',
          usd_cap: 5,
          budget_id: gone,
          allowed_endpoints: PAY,
          expires_in: '10m',
        }),
        'budget_id',
      );
      expect(await census()).toEqual(before);
    });

    it('expires_at far in the future and a huge max_ttl never pass the server maximum or the budget', async () => {
      const before = await census();
      const year3000 = '3000-01-01T00:00:00Z';
      const key = await asIssuer('POST', '/v1/keys', {
        vendor: 'stripe',
        usd_cap: 5,
        allowed_endpoints: PAY,
        expires_at: year3000,
      });
      expect(key.status).toBeGreaterThanOrEqual(400);
      expect(['ttl_too_long', 'issuer_scope', 'outlives_parent']).toContain(key.json.code);
      const budget = await asIssuer('POST', '/v1/budgets', { expires_at: year3000 });
      expect(budget.status).toBeGreaterThanOrEqual(400);

      // An issuer the admin gave an enormous max_ttl is still bounded by SPENDGATE_MAX_TTL and its budget.
      const wide = await adminIssuer({ budget_id: ids.mine, max_ttl: '52w', label: 'huge-ttl' });
      const tooLong = await as(wide.token, 'POST', '/v1/keys', {
        vendor: 'stripe',
        usd_cap: 5,
        allowed_endpoints: PAY,
        expires_in: '25h',
      });
      expect(refusal(tooLong)).toMatchObject({ status: 400, code: 'ttl_too_long' });
      const outlives = await as(wide.token, 'POST', '/v1/keys', {
        vendor: 'stripe',
        usd_cap: 5,
        allowed_endpoints: PAY,
        expires_in: '9h',
      });
      expect(refusal(outlives)).toMatchObject({
        status: 400,
        code: 'outlives_parent',
        error: { param: 'budget_id' },
      });
      const childTooLong = await as(wide.token, 'POST', '/v1/budgets', { expires_in: '9h' });
      expect(refusal(childTooLong)).toMatchObject({ status: 400, code: 'outlives_parent' });
      expect(await census()).toEqual({ ...before, issuers: before.issuers + 1 });
    });

    it('cannot spend past its budget through keys or child budgets it creates', async () => {
      // A child budget with a cap above its parent's still shares what the parent has left.
      const child = await asIssuer('POST', '/v1/budgets', {
        usd_cap: 1_000_000,
        expires_in: '30m',
        label: 'esc-big',
      });
      expect(child.status, child.text).toBe(201);
      const view = await asIssuer('GET', `/v1/budgets/${child.json.id}`);
      const mine = await asIssuer('GET', `/v1/budgets/${ids.mine}`);
      expect(view.json.remaining_usd).toBe(mine.json.remaining_usd);
      expect(view.json.remaining_usd).toBeLessThanOrEqual(100);
      const key = await issuerKey({ usd_cap: 20, budget_id: child.json.id, expires_in: '20m' });
      const keyView = await asIssuer('GET', `/v1/keys/${key.id}`);
      expect(keyView.json.remaining_usd).toBeLessThanOrEqual(20);
    });

    it('an issuer whose own budget was revoked can no longer issue anything', async () => {
      const budget = await adminBudget({ parent_id: ids.parentA, usd_cap: 10, expires_in: '2h' });
      const issuer = await adminIssuer({ budget_id: budget });
      await s.t.admin('DELETE', `/v1/budgets/${budget}`);
      const before = await census();
      const key = await as(issuer.token, 'POST', '/v1/keys', {
        vendor: 'stripe',
        usd_cap: 5,
        allowed_endpoints: PAY,
        expires_in: '10m',
      });
      expect(refusal(key)).toMatchObject({ status: 400, code: 'parent_inactive' });
      const child = await as(issuer.token, 'POST', '/v1/budgets', { expires_in: '10m' });
      expect(refusal(child)).toMatchObject({ status: 400, code: 'parent_inactive' });
      expect(await census()).toEqual(before);
    });
  });
});

/** Every admin route, with the ids to aim at; bodies are valid so that only the credential decides. */
function adminRoutes(target: {
  key: string;
  budget: string;
  issuer: string;
}): Array<readonly [string, string, unknown]> {
  const keyBody = { vendor: 'stripe', usd_cap: 1, allowed_endpoints: PAY, expires_in: '5m' };
  return [
    ['POST', '/v1/keys', keyBody],
    ['POST', '/vault/keys', keyBody],
    ['GET', '/v1/keys', undefined],
    ['GET', `/v1/keys/${target.key}`, undefined],
    ['DELETE', `/v1/keys/${target.key}`, undefined],
    ['DELETE', `/vault/keys/${target.key}`, undefined],
    ['POST', '/v1/keys/revoke', { label_prefix: 'v' }],
    ['GET', '/v1/audit', undefined],
    ['GET', '/v1/reservations', undefined],
    ['POST', '/v1/reservations/res_x/resolve', { outcome: 'released' }],
    ['GET', '/v1/approvals', undefined],
    ['GET', '/v1/approvals/apr_x', undefined],
    ['POST', '/v1/approvals/apr_x/approve', undefined],
    ['POST', '/v1/approvals/apr_x/deny', undefined],
    ['POST', '/v1/budgets', { expires_in: '5m' }],
    ['GET', '/v1/budgets', undefined],
    ['GET', `/v1/budgets/${target.budget}`, undefined],
    ['DELETE', `/v1/budgets/${target.budget}`, undefined],
    ['POST', '/v1/issuers', { budget_id: target.budget }],
    ['GET', '/v1/issuers', undefined],
    ['GET', `/v1/issuers/${target.issuer}`, undefined],
    ['DELETE', `/v1/issuers/${target.issuer}`, undefined],
    ['GET', '/metrics', undefined],
  ];
}
