import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpendgateError } from '../../src/errors/index.js';
import { countRecipients, createResendVendor } from '../../src/vendors/resend/index.js';
import type { CostEstimate, VendorRequest } from '../../src/vendors/types.js';

const context = { fxRates: {} };

function request(overrides: Partial<VendorRequest> = {}): VendorRequest {
  return {
    method: 'POST',
    path: '/emails',
    query: '',
    headers: {},
    params: null,
    body: Buffer.alloc(0),
    contentType: null,
    ...overrides,
  };
}

const priced = (amount: number): CostEstimate => ({ kind: 'priced', amount });
const vendor = createResendVendor();
const email = (params: unknown, v = vendor) => v.estimateCost(request({ params }), context);
const batch = (params: unknown, v = vendor) =>
  v.estimateCost(request({ path: '/emails/batch', params }), context);

const base = { from: 'Acme <a@acme.io>', subject: 'hi', html: '<b>x</b>' };
const addresses = fc.array(fc.emailAddress(), { maxLength: 50 });
const recipientField = fc.oneof(fc.constant(undefined), fc.emailAddress(), addresses);

describe('Resend vendor: pricing', () => {
  it('charges $0.0009 per recipient by default', () => {
    expect(email({ ...base, to: 'a@x.io' })).toEqual(priced(900));
    expect(email({ ...base, to: ['a@x.io', 'b@x.io', 'c@x.io'] })).toEqual(priced(2_700));
    expect(email({ ...base, to: ['a@x.io'], cc: 'b@x.io', bcc: ['c@x.io', 'd@x.io'] })).toEqual(
      priced(3_600),
    );
    expect(email({ ...base, to: Array.from({ length: 50 }, (_, i) => `u${i}@x.io`) })).toEqual(
      priced(45_000),
    );
  });

  it('counts at least one recipient', () => {
    expect(email({ ...base })).toEqual(priced(900));
    expect(email({ ...base, to: [] })).toEqual(priced(900));
    expect(email({ ...base, to: null })).toEqual(priced(900));
  });

  it('refuses recipients of another shape, and bodies that are not objects', () => {
    expect(email({ ...base, to: 42 })).toMatchObject({ kind: 'refused' });
    expect(email({ ...base, to: ['a@x.io', 7] })).toMatchObject({ kind: 'refused' });
    expect(email({ ...base, to: 'a@x.io', cc: { a: 1 } })).toMatchObject({ kind: 'refused' });
    expect(email(null)).toMatchObject({ kind: 'refused' });
    expect(email([{ ...base, to: 'a@x.io' }])).toMatchObject({ kind: 'refused' });
  });

  it('takes a configured price per email', () => {
    const pro = createResendVendor({ pricePerEmail: 400 });
    expect(email({ ...base, to: ['a@x.io', 'b@x.io'] }, pro)).toEqual(priced(800));
    expect(email({ ...base, to: 'a@x.io' }, createResendVendor({ pricePerEmail: 0 }))).toEqual(priced(0));
    expect(() => createResendVendor({ pricePerEmail: -1 })).toThrow(TypeError);
    expect(() => createResendVendor({ pricePerEmail: 0.5 })).toThrow(TypeError);
  });

  it('sums a batch over its emails', () => {
    expect(
      batch([
        { ...base, to: 'a@x.io' },
        { ...base, to: ['b@x.io', 'c@x.io'], bcc: 'd@x.io' },
      ]),
    ).toEqual(priced(3_600));
    expect(batch(Array.from({ length: 100 }, () => ({ ...base, to: 'a@x.io' })))).toEqual(priced(90_000));
    expect(batch([])).toEqual(priced(0));
  });

  it('refuses a batch that is not an array or has a malformed email', () => {
    expect(batch({ ...base, to: 'a@x.io' })).toMatchObject({ kind: 'refused' });
    expect(batch([{ ...base, to: 'a@x.io' }, 'nope'])).toMatchObject({ kind: 'refused' });
    expect(
      batch([
        { ...base, to: 'a@x.io' },
        { ...base, to: 5 },
      ]),
    ).toMatchObject({
      kind: 'refused',
      message: expect.stringContaining('Email 1') as unknown,
    });
  });

  it('prices any email at max(1, to + cc + bcc) × price, and a batch at the sum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ to: recipientField, cc: recipientField, bcc: recipientField }), {
          maxLength: 20,
        }),
        fc.integer({ min: 0, max: 100_000 }),
        (emails, price) => {
          const v = createResendVendor({ pricePerEmail: price });
          const size = (field: string | string[] | undefined) =>
            field === undefined ? 0 : typeof field === 'string' ? 1 : field.length;
          const counts = emails.map((e) => Math.max(1, size(e.to) + size(e.cc) + size(e.bcc)));
          emails.forEach((e, i) => {
            expect(countRecipients(e)).toBe(counts[i]);
            expect(email({ ...base, ...e }, v)).toEqual(priced((counts[i] ?? 0) * price));
          });
          expect(
            batch(
              emails.map((e) => ({ ...base, ...e })),
              v,
            ),
          ).toEqual(priced(counts.reduce((a, b) => a + b, 0) * price));
        },
      ),
    );
  });

  it('makes reads, deletes and cancelling a scheduled email free, and refuses other writes', () => {
    const estimate = (method: string, path: string) =>
      vendor.estimateCost(request({ method, path }), context);
    expect(estimate('GET', '/emails/4ef9a417')).toEqual(priced(0));
    expect(estimate('GET', '/domains')).toEqual(priced(0));
    expect(estimate('DELETE', '/domains/d1')).toEqual(priced(0));
    expect(estimate('POST', '/emails/4ef9a417/cancel')).toEqual(priced(0));
    expect(estimate('POST', '/broadcasts/b1/send')).toMatchObject({ kind: 'refused' });
    expect(estimate('POST', '/domains')).toMatchObject({ kind: 'refused' });
    expect(estimate('PATCH', '/emails/4ef9a417')).toMatchObject({ kind: 'refused' });
  });

  it('settles to the estimate', () => {
    expect(vendor.actualCost(request(), { status: 200, json: { id: 'e1' } }, 2_700, context)).toBe(2_700);
  });
});

describe('Resend vendor: wire', () => {
  it('forwards with the real Bearer key and the same path', () => {
    const up = vendor.upstream(request({ path: '/emails/batch' }), { apiKey: 're_real' });
    expect(up).toEqual({ path: '/emails/batch', headers: { authorization: 'Bearer re_real' } });
  });

  it('accepts JSON only, byte for byte', () => {
    const raw = Buffer.from('{"to":"a@x.io","from":"b@x.io","subject":"s"}');
    const parsed = vendor.parseBody({ contentType: 'application/json', raw });
    expect(parsed).toEqual({
      params: { to: 'a@x.io', from: 'b@x.io', subject: 's' },
      body: raw,
      contentType: 'application/json',
    });
    expect(vendor.parseBody({ contentType: undefined, raw: Buffer.alloc(0) }).params).toBeNull();
    let thrown: unknown;
    try {
      vendor.parseBody({ contentType: 'application/json', raw: Buffer.from('{nope') });
    } catch (err) {
      thrown = err;
    }
    expect(SpendgateError.isInstance(thrown) && thrown.code).toBe('invalid_json');
  });

  it('uses the Idempotency-Key header on POST only', () => {
    expect(vendor.idempotencyKey(request({ headers: { 'idempotency-key': 'welcome/1' } }))).toBe('welcome/1');
    expect(vendor.idempotencyKey(request())).toBeNull();
    expect(vendor.idempotencyKey(request({ headers: { 'idempotency-key': '' } }))).toBeNull();
    expect(vendor.idempotencyKey(request({ method: 'GET', headers: { 'idempotency-key': 'k' } }))).toBeNull();
  });

  it('reports the email id as the vendor request id, and creates no covered object', () => {
    expect(vendor.vendorRequestId({}, { id: '49a3999c' })).toBe('49a3999c');
    expect(vendor.vendorRequestId({ 'x-request-id': 'r1' }, { id: '49a3999c' })).toBe('r1');
    expect(vendor.vendorRequestId({}, { data: [] })).toBeNull();
    expect(vendor.createdObjectId(request(), { status: 200, json: { id: 'e' } })).toBeNull();
    expect(vendor).toMatchObject({ name: 'resend', defaultBaseUrl: 'https://api.resend.com' });
    expect(vendor.secretNames).toEqual(['apiKey']);
  });
});
