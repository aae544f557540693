import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { startStripeStack, type StripeStack } from '../helpers/stripe-stack.js';

/**
 * Each finding of the "forward only what was priced" review, replayed as a prompt-injected agent holding a
 * vault key would. Every refusal is checked three ways: its status and code, the vendor saw nothing, and the
 * ledger is as before.
 */
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('the proxy forwards only what it priced (Stripe)', () => {
  let s: StripeStack;
  beforeAll(async () => {
    s = await startStripeStack({ overrides: { SPENDGATE_LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => s.close());
  beforeEach(() => s.fake.reset());

  const key = (extra: Record<string, unknown> = {}) =>
    s.t.issue({ vendor: 'stripe', usd_cap: 1, allowed_endpoints: ['/v1/**'], ...extra });
  const post = (token: string, path: string, body: string, headers: Record<string, string> = {}) =>
    s.t.call('POST', path, { token, body, headers: { ...FORM, ...headers } });
  const spend = async (id: string) => (await s.t.admin('GET', `/v1/keys/${id}`)).json;

  it('refuses a query string on a POST: the $5,000 re-price of a $0.50 intent never reaches Stripe', async () => {
    const { id, token } = await key();
    const created = await post(
      token,
      '/v1/payment_intents',
      'amount=50&currency=usd&payment_method=pm_card_visa',
    );
    expect(created.status).toBe(200);
    const intent = created.json.id as string;
    const attack = await post(token, `/v1/payment_intents/${intent}?amount=500000`, 'description=x');
    expect(attack.status).toBe(400);
    expect(attack.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'amount' } });
    expect(attack.json.message).toContain('`amount`');
    expect(s.fake.requests).toHaveLength(1);
    const confirmed = await post(token, `/v1/payment_intents/${intent}/confirm`, '');
    expect(confirmed.json).toMatchObject({ status: 'succeeded', amount: 50 });
    expect(await spend(id)).toMatchObject({ spent_usd: 0.5, reserved_usd: 0, denied_calls: 1 });
  });

  it('refuses query strings on refunds and parameters on DELETE', async () => {
    const { token } = await key();
    const refund = await post(token, '/v1/refunds?charge=ch_foreign', 'payment_intent=pi_x');
    expect(refund.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'charge' } });
    const cancel = await s.t.call('DELETE', '/v1/subscriptions/sub_1?invoice_now=true', { token });
    expect(cancel.status).toBe(400);
    expect(cancel.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'invoice_now' } });
    const withBody = await s.t.call('DELETE', '/v1/customers/cus_1', {
      token,
      body: 'invoice_now=true',
      headers: FORM,
    });
    expect(withBody.json).toMatchObject({ code: 'param_not_allowed', error: { param: '(body)' } });
    expect(s.fake.requests).toHaveLength(0);
  });

  it("refuses to update, confirm or capture another key's PaymentIntent, and to change an amount", async () => {
    const owner = await key();
    const intruder = await key();
    const created = await post(owner.token, '/v1/payment_intents', 'amount=50&currency=usd');
    const intent = created.json.id as string;
    const update = await post(intruder.token, `/v1/payment_intents/${intent}`, 'description=mine');
    expect(update.status).toBe(400);
    expect(update.json).toMatchObject({ code: 'cost_unknown' });
    const reprice = await post(owner.token, `/v1/payment_intents/${intent}`, 'amount=500000');
    expect(reprice.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'amount' } });
    const own = await post(owner.token, `/v1/payment_intents/${intent}`, 'description=ok&metadata[k]=v');
    expect(own.status).toBe(200);
    expect(s.fake.requests.map((r) => r.path)).toEqual([
      '/v1/payment_intents',
      `/v1/payment_intents/${intent}`,
    ]);
  });

  it('closes the free money levers: customer balance, connected-account transfers, ambiguous refunds', async () => {
    const { id, token } = await key();
    const balance = await post(token, '/v1/customers', 'email=a%40b.c&balance=-10000000');
    expect(balance.status).toBe(400);
    expect(balance.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'balance' } });
    const fee = await post(
      token,
      '/v1/payment_intents',
      'amount=50&currency=usd&transfer_data[destination]=acct_1&transfer_data[amount]=50',
    );
    expect(fee.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'transfer_data' } });
    const overcapture = await post(
      token,
      '/v1/payment_intents',
      'amount=50&currency=usd&payment_method_options[card][request_overcapture]=if_available',
    );
    expect(overcapture.json).toMatchObject({ code: 'param_not_allowed' });
    const created = await post(token, '/v1/payment_intents', 'amount=50&currency=usd');
    const both = await post(token, '/v1/refunds', `payment_intent=${created.json.id}&charge=ch_someone_else`);
    expect(both.status).toBe(400);
    expect(both.json).toMatchObject({ code: 'cost_unknown' });
    expect(s.fake.requests).toHaveLength(1);
    expect(await spend(id)).toMatchObject({ spent_usd: 0.5, calls: 1, denied_calls: 4 });
  });

  it('refuses bracket tricks and repeated scalars, and forwards the canonical encoding', async () => {
    const { id, token } = await key();
    for (const body of [
      'amount]=500000&amount=50&currency=usd',
      '[amount]=500000&amount=50&currency=usd',
      'amount=50&amount=500000&currency=usd',
      'amount=50&currency=usd&metadata=x&metadata[k]=v',
      'amount=50&currency=usd&metadata[a][]=1&metadata[a][b]=2',
      'amount=50&currency=usd&description=%E0%A4%A',
    ]) {
      const res = await post(token, '/v1/payment_intents', body);
      expect(res.status, body).toBe(400);
      expect(res.json.code, body).toBe('param_invalid');
    }
    expect(s.fake.requests).toHaveLength(0);
    const ok = await post(
      token,
      '/v1/payment_intents',
      'currency=usd&amount=50&metadata%5Bnote%5D=a+b&description=x%21',
    );
    expect(ok.status).toBe(200);
    expect(s.fake.requests[0]?.body.toString()).toBe(
      'currency=usd&amount=50&metadata[note]=a%20b&description=x%21',
    );
    expect(await spend(id)).toMatchObject({ spent_usd: 0.5 });
  });

  it('forwards headers by allow-list and refuses another account or a method override', async () => {
    const { token } = await key();
    const foreign = await post(token, '/v1/payment_intents', 'amount=50&currency=usd', {
      'stripe-account': 'acct_victim',
    });
    expect(foreign.status).toBe(403);
    expect(foreign.json).toMatchObject({ code: 'account_not_allowed', error: { header: 'stripe-account' } });
    const context = await post(token, '/v1/payment_intents', 'amount=50&currency=usd', {
      'stripe-context': 'acct_victim',
    });
    expect(context.json).toMatchObject({ code: 'account_not_allowed' });
    const override = await post(token, '/v1/payment_intents', 'amount=50&currency=usd', {
      'x-http-method-override': 'DELETE',
    });
    expect(override.status).toBe(400);
    expect(override.json).toMatchObject({ code: 'header_not_allowed' });
    expect(s.fake.requests).toHaveLength(0);

    const allowed = await key({ connected_accounts: ['acct_partner'] });
    const res = await post(allowed.token, '/v1/payment_intents', 'amount=50&currency=usd', {
      'stripe-account': 'acct_partner',
      'stripe-version': '2026-10-28.endive',
      'idempotency-key': 'idem-hdr',
      forwarded: 'for=10.0.0.1',
      'x-forwarded-for': '10.0.0.1',
      cookie: 'session=abc',
      'x-custom': 'anything',
      'x-stripe-client-telemetry': '{}',
    });
    expect(res.status).toBe(200);
    const seen = s.fake.requests[0]?.headers ?? {};
    expect(Object.keys(seen).sort()).toEqual(
      [
        'accept-encoding',
        'authorization',
        'connection',
        'content-length',
        'content-type',
        'host',
        'idempotency-key',
        'stripe-account',
        'stripe-version',
      ].sort(),
    );
    const twilioKey = await s.t.admin('POST', '/v1/keys', {
      vendor: 'twilio',
      usd_cap: 1,
      allowed_endpoints: ['/**'],
      connected_accounts: ['acct_1'],
    });
    expect(twilioKey.status).toBe(400);
    expect(twilioKey.json).toMatchObject({ code: 'bad_request', error: { param: 'connected_accounts' } });
  });

  it('answers 409 idempotency_key_in_use to copies of an in-flight call, so none can overtake it', async () => {
    const { id, token } = await s.t.issue({
      vendor: 'stripe',
      usd_cap: 3,
      allowed_endpoints: ['POST /v1/payment_intents'],
    });
    s.fake.delayNext(300);
    const body = 'amount=100&currency=usd';
    const headers = { 'idempotency-key': 'same-op' };
    const first = post(token, '/v1/payment_intents', body, headers);
    await new Promise((r) => setTimeout(r, 50));
    const copies = await Promise.all(
      Array.from({ length: 4 }, () => post(token, '/v1/payment_intents', body, headers)),
    );
    for (const copy of copies) {
      expect(copy.status).toBe(409);
      expect(copy.json).toMatchObject({ code: 'idempotency_key_in_use', error: { retryable: true } });
      expect(copy.headers.get('stripe-should-retry')).toBe('true');
    }
    const original = await first;
    expect(original.status).toBe(200);
    expect(s.fake.requests).toHaveLength(1);
    const replay = await post(token, '/v1/payment_intents', body, headers);
    expect(replay.json.id).toBe(original.json.id);
    expect(await spend(id)).toMatchObject({ spent_usd: 1, reserved_usd: 0, calls: 1 });
  });

  it('the Stripe SDK retries the 409 into an ordinary replay', async () => {
    const { id, token } = await s.t.issue({ vendor: 'stripe', usd_cap: 3, allowed_endpoints: ['/v1/**'] });
    const stripe = s.sdk(token, { maxNetworkRetries: 3 });
    s.fake.delayNext(200);
    const params = { amount: 100, currency: 'usd' };
    const [a, b] = await Promise.all([
      stripe.paymentIntents.create(params, { idempotencyKey: 'sdk-op' }),
      new Promise((r) => setTimeout(r, 30)).then(() =>
        stripe.paymentIntents.create(params, { idempotencyKey: 'sdk-op' }),
      ),
    ]);
    expect(b.id).toBe(a.id);
    expect(s.fake.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    expect(await spend(id)).toMatchObject({ spent_usd: 1, calls: 1 });
  });

  it('keeps a vendor 409 as uncertain: something else with that key may have moved money', async () => {
    const { id, token } = await key();
    s.fake.failNext({ status: 409 });
    const res = await post(token, '/v1/payment_intents', 'amount=40&currency=usd');
    expect(res.status).toBe(409);
    expect(await spend(id)).toMatchObject({ spent_usd: 0.4, reserved_usd: 0 });
    const audit = await s.t.admin('GET', `/v1/audit?key_id=${id}`);
    expect(audit.json.data[0]).toMatchObject({ settlement: 'uncertain', upstream_status: 409 });
  });

  it('handles Expect: 100-continue itself and settles normally', async () => {
    const { id, token } = await key();
    const body = 'amount=60&currency=usd';
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(s.t.url);
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/payment_intents',
        headers: {
          authorization: `Bearer ${token}`,
          ...FORM,
          'content-length': String(body.length),
          expect: '100-continue',
        },
      });
      req.on('continue', () => req.end(body));
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
    expect(status).toBe(200);
    expect(s.fake.requests[0]?.headers.expect).toBeUndefined();
    expect(await spend(id)).toMatchObject({ spent_usd: 0.6, reserved_usd: 0 });
  });

  it('refuses deep nesting and too many parameters with a 400 naming the limit', async () => {
    const { token } = await key();
    const deep = await post(token, '/v1/customers', `metadata${'[a]'.repeat(20_000)}=x`);
    expect(deep.status).toBe(400);
    expect(deep.json).toMatchObject({ code: 'param_limit_exceeded' });
    expect(deep.json.message).toContain('nested more than 20 deep');
    const deepJson = await s.t.call('POST', '/v1/customers', {
      token,
      body: `{"metadata":${'{"a":'.repeat(20_000)}"x"${'}'.repeat(20_000)}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(deepJson.json).toMatchObject({ code: 'param_limit_exceeded' });
    const many = await post(
      token,
      '/v1/customers',
      Array.from({ length: 10_001 }, (_, i) => `metadata[k${i}]=v`).join('&'),
    );
    expect(many.json).toMatchObject({ code: 'param_limit_exceeded' });
    expect(many.json.message).toContain('more than 10000 parameters');
    expect(s.fake.requests).toHaveLength(0);
  });

  it('answers 415 to an empty Content-Type on vendor and admin routes', async () => {
    const { token } = await key();
    const vendor = await s.t.call('POST', '/v1/payment_intents', {
      token,
      body: 'amount=50&currency=usd',
      headers: { 'content-type': '' },
    });
    expect(vendor.status).toBe(415);
    expect(vendor.json).toMatchObject({ code: 'unsupported_media_type' });
    const admin = await s.t.admin('POST', '/v1/keys', '{}', { 'content-type': '' });
    expect(admin.status).toBe(415);
    expect(s.fake.requests).toHaveLength(0);
  });

  it('forwards a read with its query re-encoded, and refuses a body on a read', async () => {
    const { token } = await key();
    const list = await s.t.call(
      'GET',
      '/v1/payment_intents?limit=3&created%5Bgte%5D=1&expand[]=data.customer',
      {
        token,
      },
    );
    expect(list.status).toBe(200);
    expect(s.fake.requests[0]?.query).toBe('limit=3&created[gte]=1&expand[0]=data.customer');
    const withBody = await s.t.call('GET', '/v1/payment_intents', { token, body: 'amount=1', headers: FORM });
    expect(withBody.json).toMatchObject({ code: 'param_not_allowed' });
  });

  it("keeps each key to its own objects: no cancel, update or delete of another key's", async () => {
    const owner = await key();
    const other = await key();
    const intent = (await post(owner.token, '/v1/payment_intents', 'amount=50&currency=usd')).json
      .id as string;
    const customer = (await post(owner.token, '/v1/customers', 'email=a%40b.c')).json.id as string;
    const before = s.fake.requests.length;
    const cancel = await post(
      other.token,
      `/v1/payment_intents/${intent}/cancel`,
      'cancellation_reason=abandoned',
    );
    expect(cancel.json).toMatchObject({ code: 'cost_unknown' });
    const update = await post(other.token, `/v1/customers/${customer}`, 'email=evil%40x.y');
    expect(update.json).toMatchObject({ code: 'cost_unknown' });
    const del = await s.t.call('DELETE', `/v1/customers/${customer}`, { token: other.token });
    expect(del.json).toMatchObject({ code: 'cost_unknown' });
    expect(s.fake.requests).toHaveLength(before);
    expect((await post(owner.token, `/v1/customers/${customer}`, 'name=Ada')).status).toBe(200);
    expect((await post(owner.token, `/v1/payment_intents/${intent}/cancel`, '')).json).toMatchObject({
      status: 'canceled',
    });
  });

  it("scopes idempotency keys to the vault key, so one key can never take over another's saved answer", async () => {
    const victim = await key();
    const attacker = await key();
    const body = 'amount=50&currency=usd&payment_method=pm_card_visa&confirm=true';
    const headers = { 'idempotency-key': 'call-1' };
    const paid = await post(victim.token, '/v1/payment_intents', body, headers);
    const copy = await post(attacker.token, '/v1/payment_intents', body, headers);
    expect(copy.status).toBe(200);
    expect(copy.json.id).not.toBe(paid.json.id);
    // The client sees its own key; the vendor saw two different ones.
    expect(copy.headers.get('idempotency-key')).toBe('call-1');
    const sent = s.fake.requests.map((r) => r.headers['idempotency-key']);
    expect(new Set(sent).size).toBe(2);
    const refund = await post(attacker.token, '/v1/refunds', `payment_intent=${paid.json.id}`);
    expect(refund.json).toMatchObject({ code: 'cost_unknown' });
  });
});
