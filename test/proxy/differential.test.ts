import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import qs from 'qs';
import { loadConfig } from '../../src/config/load-config.js';
import { createFakeResend, createFakeStripe, createFakeTwilio, serveFake } from '../../src/testing/index.js';
import type { FakeRequest, FakeVendor } from '../../src/testing/fakes/types.js';
import { buildVendors } from '../../src/vendors/registry.js';
import type { Vendor, VendorRequest } from '../../src/vendors/types.js';
import { ADMIN_TOKEN, startTestProxy, type TestProxy } from '../helpers/proxy.js';

/**
 * The differential test of "the vendor receives exactly what was priced". Hostile requests go through the
 * real proxy; every request the fake vendor received is parsed again by an independent parser of the
 * vendor's own kind (`qs` as Stripe's Rack-style parser, `URLSearchParams` for Twilio, `JSON.parse` for
 * Resend), priced again, and checked against what was reserved, the endpoint's closed schema and the header
 * allow-list.
 */
const SID = 'AC0123456789abcdef0123456789abcdef';
const SECRETS = {
  STRIPE_SECRET_KEY: 'sk_test_differential_000000',
  TWILIO_ACCOUNT_SID: SID,
  TWILIO_AUTH_TOKEN: 'twilio_auth_differential',
  RESEND_API_KEY: 're_differential_000',
};
const RUNS = 150;
/** Headers every forwarded request carries besides the vendor's allow-list. */
const TRANSPORT = new Set([
  'host',
  'connection',
  'content-length',
  'content-type',
  'accept-encoding',
  'authorization',
]);

interface Probe {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly body: string;
  readonly json: boolean;
  readonly headers: Record<string, string>;
}

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const value = fc.oneof(
  pick([
    '50',
    '100',
    '500000',
    '0',
    '-5',
    '1e9',
    'usd',
    'eur',
    'jpy',
    'true',
    '',
    '+15551234567',
    '+447700900123',
  ]),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
/** Percent-encodes a key or value one of the ways real (and hostile) clients do. */
const spell = (text: string, style: number) =>
  style === 0
    ? encodeURIComponent(text)
    : style === 1
      ? encodeURIComponent(text).replace(/%5B|%5D/g, (m) => (m === '%5B' ? '[' : ']'))
      : text;
const formBody = (keys: readonly string[]) =>
  fc
    .array(fc.tuple(pick(keys), value, fc.integer({ min: 0, max: 2 })), { maxLength: 8 })
    .map((pairs) =>
      pairs.map(([k, v, style]) => `${spell(k, style)}=${spell(v, style === 2 ? 0 : style)}`).join('&'),
    );

/** Mostly well-formed bodies, so that many probes are forwarded and the re-parse has something to check. */
const plausible = (base: string, keys: readonly string[]) =>
  fc
    .tuple(formBody(keys), fc.boolean())
    .map(([extra, add]) => (add && extra !== '' ? `${base}&${extra}` : base));
const STRIPE_BASE = fc.oneof(
  fc.nat({ max: 100_000 }).map((n) => `amount=${n}&currency=usd&metadata[run]=r%201`),
  fc.nat({ max: 100_000 }).map((n) => `amount=${n}&currency=jpy`),
  fc.constantFrom('email=a%40b.c&name=Ada', 'description=x', 'payment_method=pm_card_visa', ''),
);

const STRIPE_KEYS = [
  'amount',
  'currency',
  'customer',
  'description',
  'confirm',
  'payment_method',
  'metadata[k]',
  'metadata[a b]',
  'amount]',
  '[amount]',
  'amount[]',
  'amount[0]',
  'balance',
  'transfer_data[destination]',
  'transfer_data[amount]',
  'application_fee_amount',
  'payment_method_options[card][request_overcapture]',
  'charge',
  'payment_intent',
  'amount_to_capture',
  'expand[]',
  'expand[0]',
  'email',
  'name',
  'metadata',
  'metadata[k][x]',
  '__proto__[x]',
  'invoice_now',
  'destination',
  'on_behalf_of',
];
const TWILIO_KEYS = [
  'To',
  'From',
  'Body',
  'MediaUrl',
  'SendAsMms',
  'ContentSid',
  'To]',
  'Status',
  'MaxPrice',
  'Price',
];
const HEADERS = fc
  .dictionary(
    pick([
      'stripe-account',
      'stripe-context',
      'x-http-method-override',
      'cookie',
      'forwarded',
      'x-forwarded-host',
      'user-agent',
      'stripe-version',
      'idempotency-key',
      'x-batch-validation',
      'accept',
      'x-anything',
      'expect',
    ]),
    pick(['acct_ok', 'acct_victim', 'DELETE', 'a=b', 'permissive', 'strict', 'x', '100-continue']),
    { maxKeys: 3 },
  )
  .map((h) => (h.expect === undefined ? h : { ...h, expect: '100-continue' }));

function stripeProbe(intents: readonly string[]): fc.Arbitrary<Probe> {
  const id = pick([...intents, 'pi_unknown']);
  return fc.record({
    method: pick(['POST', 'POST', 'POST', 'GET', 'DELETE']),
    path: fc.oneof(
      pick([
        '/v1/payment_intents',
        '/v1/charges',
        '/v1/refunds',
        '/v1/customers',
        '/v1/payouts',
        '/v1/transfers',
      ]),
      id.map((i) => `/v1/payment_intents/${i}`),
      id.map((i) => `/v1/payment_intents/${i}/confirm`),
      id.map((i) => `/v1/payment_intents/${i}/capture`),
      pick(['/v1/customers/cus_1', '/v1/subscriptions/sub_1', '/v1/invoices']),
    ),
    query: fc.oneof(fc.constant(''), fc.constant(''), formBody(STRIPE_KEYS)),
    body: fc.oneof(
      formBody(STRIPE_KEYS),
      STRIPE_BASE.chain((base) => plausible(base, STRIPE_KEYS)),
    ),
    json: fc.boolean(),
    headers: HEADERS,
  });
}

function twilioProbe(): fc.Arbitrary<Probe> {
  return fc.record({
    method: pick(['POST', 'POST', 'GET', 'DELETE']),
    path: pick([
      `/2010-04-01/Accounts/${SID}/Messages.json`,
      `/2010-04-01/Accounts/${SID}/Messages/SM1.json`,
      `/2010-04-01/Accounts/${SID}/Calls.json`,
    ]),
    query: fc.oneof(fc.constant(''), fc.constant(''), formBody(TWILIO_KEYS)),
    body: fc.oneof(
      formBody(TWILIO_KEYS),
      pick(['%2B15551234567', '%2B447700900123', '%2B33612345678']).chain((to) =>
        plausible(`To=${to}&From=%2B15017122661&Body=hello`, TWILIO_KEYS),
      ),
    ),
    json: fc.boolean(),
    headers: HEADERS,
  });
}

function resendProbe(): fc.Arbitrary<Probe> {
  const address = pick(['a@example.com', 'b@example.com', 'c@example.com']);
  const recipients = fc.oneof(address, fc.array(address, { maxLength: 4 }), fc.constant({ all: true }));
  const email = fc.record(
    {
      from: address,
      to: recipients,
      cc: recipients,
      bcc: recipients,
      subject: fc.string(),
      text: fc.string(),
      fanout: fc.nat(),
    },
    { requiredKeys: [] },
  );
  return fc.record({
    method: pick(['POST', 'POST', 'GET']),
    path: pick(['/emails', '/emails/batch', '/emails/em_1/cancel', '/broadcasts']),
    query: fc.constant(''),
    body: fc.oneof(
      email.map((e) => JSON.stringify(e)),
      fc.array(email, { maxLength: 3 }).map((e) => JSON.stringify(e)),
    ),
    json: fc.constant(true),
    headers: HEADERS,
  });
}

/** A form body as its vendor's own kind of parser reads it. */
function independentParams(vendor: string, seen: FakeRequest): unknown {
  const body = seen.body.toString('utf8');
  if (vendor === 'resend') return body === '' ? null : JSON.parse(body);
  if (vendor === 'stripe') {
    const options = { depth: 100, arrayLimit: 1000, parameterLimit: 100_000, allowPrototypes: true };
    // Stripe reads a POST's query string as parameters too; the proxy must never have forwarded one.
    return { ...qs.parse(seen.query, options), ...qs.parse(body, options) };
  }
  const params: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prior = params[k];
    params[k] = prior === undefined ? v : [...(Array.isArray(prior) ? prior : [prior]), v];
  }
  return params;
}

describe('differential: what the vendor received is exactly what was priced', () => {
  const forwardedCount: Record<string, number> = { stripe: 0, twilio: 0, resend: 0 };
  const fakes: Record<string, FakeVendor> = {
    stripe: createFakeStripe({ secretKey: SECRETS.STRIPE_SECRET_KEY }),
    twilio: createFakeTwilio({ accountSid: SID, authToken: SECRETS.TWILIO_AUTH_TOKEN }),
    resend: createFakeResend({ apiKey: SECRETS.RESEND_API_KEY }),
  };
  let t: TestProxy;
  let vendors: Map<string, Vendor>;
  const tokens: Record<string, { id: string; token: string }> = {};
  const intents: string[] = [];
  let closeAll: () => Promise<void>;

  beforeAll(async () => {
    const served = await Promise.all(Object.values(fakes).map((fake) => serveFake(fake)));
    const overrides = {
      ...SECRETS,
      SPENDGATE_STRIPE_BASE_URL: served[0]?.url,
      SPENDGATE_TWILIO_BASE_URL: served[1]?.url,
      SPENDGATE_RESEND_BASE_URL: served[2]?.url,
      SPENDGATE_TWILIO_SMS_PRICES: '+1=0.0083,+44=0.06',
      SPENDGATE_LOG_LEVEL: 'silent',
    };
    t = await startTestProxy({ overrides });
    const config = await loadConfig({ overrides: { ...overrides, SPENDGATE_ADMIN_TOKEN: ADMIN_TOKEN } });
    vendors = new Map([...buildVendors(config)].map(([name, v]) => [name, v.vendor]));
    for (const vendor of ['stripe', 'twilio', 'resend']) {
      tokens[vendor] = await t.issue({
        vendor,
        usd_cap: 1_000_000,
        allowed_endpoints: ['/**'],
        ...(vendor === 'stripe' ? { connected_accounts: ['acct_ok'] } : {}),
      });
    }
    for (let i = 0; i < 3; i += 1) {
      const res = await t.call('POST', '/v1/payment_intents', {
        token: tokens.stripe?.token,
        body: 'amount=100&currency=usd',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      intents.push(res.json.id as string);
    }
    closeAll = async () => {
      await t.close();
      await Promise.all(served.map((s) => s.close()));
    };
  });
  afterAll(async () => closeAll());

  async function check(vendorName: string, probe: Probe): Promise<void> {
    const vendor = vendors.get(vendorName) as Vendor;
    const fake = fakes[vendorName] as FakeVendor;
    const before = fake.requests.length;
    const prefix = vendorName === 'stripe' ? '' : `/${vendorName}`;
    let body = probe.body;
    let type = probe.json ? 'application/json' : 'application/x-www-form-urlencoded';
    if (probe.json && vendorName !== 'resend')
      body = JSON.stringify(Object.fromEntries(new URLSearchParams(body)));
    if (vendorName === 'resend') type = 'application/json';
    const sendsBody = probe.method === 'POST' && body !== '';
    // An HTTP request line holds no spaces or raw non-ASCII: escape just those, keep every other trick.
    const query = probe.query.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
    const res = await t.call(probe.method, `${prefix}${probe.path}${query ? `?${query}` : ''}`, {
      token: tokens[vendorName]?.token,
      headers: { ...probe.headers, 'content-type': type },
      ...(sendsBody ? { body } : {}),
    });
    const forwarded = fake.requests.slice(before);
    expect(forwarded.length, res.text).toBeLessThanOrEqual(1);
    const seen = forwarded[0];
    if (!seen) {
      // Refused before forwarding: a 4xx with a stable code, and nothing reached the vendor.
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(typeof res.json?.code, res.text).toBe('string');
      return;
    }
    forwardedCount[vendorName] = (forwardedCount[vendorName] ?? 0) + 1;
    // No query string on a write, no header outside the allow-list, no account the key was not given.
    if (seen.method !== 'GET') expect(seen.query).toBe('');
    for (const name of Object.keys(seen.headers)) {
      expect(
        TRANSPORT.has(name) || vendor.forwardHeaders.has(name) || vendor.accountHeaders.has(name),
        name,
      ).toBe(true);
    }
    if (seen.headers['stripe-account'] !== undefined) expect(seen.headers['stripe-account']).toBe('acct_ok');
    const params = independentParams(vendorName, seen);
    const request: VendorRequest = {
      method: seen.method,
      path: probe.path,
      query: seen.query,
      headers: seen.headers,
      params,
      body: seen.body,
      contentType: seen.headers['content-type'] ?? null,
    };
    // The bytes the vendor read are inside the endpoint's closed schema...
    expect(() => vendor.checkParams(request)).not.toThrow();
    // ...and cost no more than was reserved for them.
    const estimate = vendor.estimateCost(request, { fxRates: {} });
    const audit = await t.admin('GET', `/v1/audit?key_id=${tokens[vendorName]?.id}&limit=1`);
    const row = audit.json.data[0];
    expect(row.request_id).toBe(res.headers.get('spendgate-request-id'));
    const reserved = Math.round(Number(row.cost_usd_reserved) * 1_000_000);
    if (estimate.kind === 'priced') expect(estimate.amount).toBeLessThanOrEqual(reserved);
    else if (estimate.kind === 'covered') expect(intents).toContain(estimate.objectId);
    else throw new Error(`forwarded a call the vendor's own parse cannot price: ${estimate.message}`);
  }

  it('Stripe: every forwarded request re-parses (qs) to a priced, in-schema request', async () => {
    await fc.assert(
      fc.asyncProperty(stripeProbe(intents), (probe) => check('stripe', probe)),
      { numRuns: RUNS },
    );
  });

  it('Twilio: every forwarded request re-parses (URLSearchParams) to a priced, in-schema request', async () => {
    await fc.assert(
      fc.asyncProperty(twilioProbe(), (probe) => check('twilio', probe)),
      { numRuns: RUNS },
    );
  });

  it('Resend: every forwarded request re-parses (JSON.parse) to a priced, in-schema request', async () => {
    await fc.assert(
      fc.asyncProperty(resendProbe(), (probe) => check('resend', probe)),
      { numRuns: RUNS },
    );
  });
});
