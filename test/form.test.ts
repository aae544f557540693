import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeForm, encodeForm } from '../src/wire/form.js';

describe('form encoding', () => {
  it('encodes nested objects and arrays the way the Stripe SDK does', () => {
    expect(
      encodeForm({
        amount: 2000,
        currency: 'usd',
        metadata: { order_id: '6735', 'a b': 'x&y' },
        payment_method_types: ['card'],
        automatic_payment_methods: { enabled: false },
        email: 'a@b.c',
        skip: undefined,
        description: null,
      }),
    ).toBe(
      'amount=2000&currency=usd&metadata[order_id]=6735&metadata[a%20b]=x%26y&payment_method_types[0]=card' +
        '&automatic_payment_methods[enabled]=false&email=a%40b.c&description=',
    );
  });

  it('repeats keys for arrays the way the Twilio SDK does', () => {
    expect(encodeForm({ To: '+1555', MediaUrl: ['a', 'b'] }, { arrayFormat: 'repeat' })).toBe(
      'To=%2B1555&MediaUrl=a&MediaUrl=b',
    );
  });

  it('decodes brackets, indices, + for space, encoded brackets and repeated keys', () => {
    expect(decodeForm('a[b][c]=1&items[0][price]=p&items[1][price]=q&x=a+b&m%5Bk%5D=v&r=1&r=2')).toEqual({
      a: { b: { c: '1' } },
      items: [{ price: 'p' }, { price: 'q' }],
      x: 'a b',
      m: { k: 'v' },
      r: ['1', '2'],
    });
    expect(decodeForm('')).toEqual({});
  });

  it('treats keys named like Object.prototype members as data, and never pollutes the prototype', () => {
    expect(decodeForm('toString=a&constructor[x]=b&hasOwnProperty=c')).toEqual({
      toString: 'a',
      constructor: { x: 'b' },
      hasOwnProperty: 'c',
    });
    const decoded = decodeForm('__proto__[polluted]=yes&a[__proto__][polluted]=yes');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__', 'a']);
  });

  it('round-trips any nested string data', () => {
    const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !/[[\]]/.test(k) && !/^\d+$/.test(k));
    const leaf = fc.string({ maxLength: 12 });
    const value = fc.oneof(
      leaf,
      fc.dictionary(key, leaf, { minKeys: 1, maxKeys: 3 }),
      fc.array(leaf, { minLength: 1, maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 }), (data) => {
        expect(decodeForm(encodeForm(data))).toEqual(data);
      }),
    );
  });
});
