import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import qs from 'qs';
import { checkJsonLimits, decodeForm, encodeForm, FormError } from '../src/wire/form.js';
import { canonicalQuery, parseFormOrJsonBody } from '../src/vendors/shared/body.js';

const strict = (body: string, arrayFormat: 'indices' | 'repeat' = 'indices') =>
  decodeForm(body, { strict: true, arrayFormat });
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; kind?: string; param?: string; message: string };
  }
  throw new Error('expected a refusal');
};

describe('strict form decoding (the proxy)', () => {
  it('refuses names a Rails-style parser could read as another parameter', () => {
    for (const body of ['amount]=1', '[amount]=1', 'a[b=1', 'a]b[=1', '=1', 'a[][b]=1', 'a[b]c=1']) {
      expect(
        refusal(() => strict(body)),
        body,
      ).toMatchObject({ kind: 'invalid' });
    }
  });

  it('refuses a name used as a value and as an object, in either order', () => {
    expect(refusal(() => strict('a=1&a[b]=2'))).toMatchObject({ kind: 'invalid', param: 'a[b]' });
    expect(refusal(() => strict('a[b]=2&a=1'))).toMatchObject({ kind: 'invalid', param: 'a' });
  });

  it('refuses a repeated scalar under indices, and makes an array of it under repeat', () => {
    expect(refusal(() => strict('amount=1&amount=2'))).toMatchObject({ kind: 'invalid', param: 'amount' });
    expect(strict('MediaUrl=a&MediaUrl=b', 'repeat')).toEqual({ MediaUrl: ['a', 'b'] });
    expect(strict('expand[]=a&expand[]=b')).toEqual({ expand: ['a', 'b'] });
  });

  it('refuses malformed percent-encoding instead of passing it through', () => {
    expect(refusal(() => strict('a=%E0%A4%A'))).toMatchObject({ kind: 'invalid', param: 'a' });
    expect(decodeForm('a=%E0%A4%A')).toEqual({ a: '%E0%A4%A' });
  });

  it('caps depth and count, naming the limit', () => {
    expect(refusal(() => strict(`a${'[b]'.repeat(20)}=1`))).toMatchObject({ kind: 'limit' });
    expect(strict(`a${'[b]'.repeat(19)}=1`)).toBeTypeOf('object');
    expect(
      refusal(() => strict(Array.from({ length: 10_001 }, (_, i) => `k${i}=1`).join('&'))),
    ).toMatchObject({
      kind: 'limit',
    });
    expect(refusal(() => checkJsonLimits(JSON.parse(`${'['.repeat(25)}${']'.repeat(25)}`)))).toBeInstanceOf(
      FormError,
    );
  });

  it('appends a[] in constant time: 200,000 appends decode well inside the test timeout', () => {
    const body = 'a[]=x&'.repeat(200_000);
    const decoded = decodeForm(body, { strict: true, limits: { maxDepth: 20, maxParams: 200_000 } });
    expect((decoded.a as string[]).length).toBe(200_000);
  });

  it('re-encodes canonically: what is forwarded decodes, with qs as the oracle, to what was parsed', () => {
    const parsed = parseFormOrJsonBody(
      {
        contentType: 'application/x-www-form-urlencoded',
        raw: Buffer.from('a+b=c+d&m%5Bk%5D=v&e[]=1&e[]=2'),
      },
      'indices',
    );
    expect(parsed.body.toString()).toBe('a%20b=c%20d&m[k]=v&e[0]=1&e[1]=2');
    expect(qs.parse(parsed.body.toString())).toEqual(parsed.params);
    expect(canonicalQuery('limit=3&created%5Bgte%5D=1', 'indices').query).toBe('limit=3&created[gte]=1');
  });

  it('property: for any strict-decodable form, qs reads the canonical bytes exactly as spendgate parsed them', () => {
    const segment = fc.stringMatching(/^[a-z_]{1,6}$/);
    const pair = fc.tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.string({ maxLength: 10 }));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 12 }), (pairs) => {
        const body = pairs
          .map(
            ([path, v]) =>
              `${path[0]}${path
                .slice(1)
                .map((p) => `[${p}]`)
                .join('')}=${encodeURIComponent(v)}`,
          )
          .join('&');
        let params: ReturnType<typeof strict>;
        try {
          params = strict(body);
        } catch (err) {
          if (err instanceof FormError) return;
          throw err;
        }
        const canonical = encodeForm(params);
        expect(qs.parse(canonical, { depth: 20, allowPrototypes: true, arrayLimit: 100 })).toEqual(params);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses JSON that cannot be form-encoded as it reads (a lone surrogate, bracketed keys)', () => {
    const parse = (json: string) =>
      parseFormOrJsonBody({ contentType: 'application/json', raw: Buffer.from(json) }, 'indices');
    expect(refusal(() => parse('{"description":"\\ud800"}'))).toMatchObject({ code: 'param_invalid' });
    expect(refusal(() => parse('{"metadata":{"a]":"x"}}'))).toMatchObject({ code: 'param_invalid' });
    expect(parse('{"amount":50,"metadata":{"k":"v"}}').body.toString()).toBe('amount=50&metadata[k]=v');
  });
});
