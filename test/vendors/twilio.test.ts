import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { microsToUsd, parseDecimal, usdToMicros } from '../../src/money.js';
import { createTwilioVendor, type TwilioPricing } from '../../src/vendors/twilio/index.js';
import {
  countSmsSegments,
  GSM7_BASIC,
  GSM7_EXTENSION,
  smsSegments,
} from '../../src/vendors/twilio/segments.js';
import type { CostEstimate, VendorRequest } from '../../src/vendors/types.js';
import { encodeForm } from '../../src/wire/form.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const MESSAGES = `/2010-04-01/Accounts/${SID}/Messages.json`;
const context = { fxRates: {} };

function request(overrides: Partial<VendorRequest> = {}): VendorRequest {
  return {
    method: 'POST',
    path: MESSAGES,
    query: '',
    headers: {},
    params: null,
    body: Buffer.alloc(0),
    contentType: null,
    ...overrides,
  };
}

function sms(params: Record<string, unknown>, vendor = createTwilioVendor()): CostEstimate {
  return vendor.estimateCost(request({ params }), context);
}

const priced = (amount: number): CostEstimate => ({ kind: 'priced', amount });

// --- segment counting --------------------------------------------------------------------------------------

const BASIC_CHARS = [...GSM7_BASIC];
const EXTENSION_CHARS = [...GSM7_EXTENSION];
const GSM = new Set([...BASIC_CHARS, ...EXTENSION_CHARS]);

const gsmBasicString = (maxLength = 700) =>
  fc.array(fc.constantFrom(...BASIC_CHARS), { maxLength }).map((chars) => chars.join(''));
const gsmString = (maxLength = 700) =>
  fc.array(fc.constantFrom(...BASIC_CHARS, ...EXTENSION_CHARS), { maxLength }).map((chars) => chars.join(''));
/** One character outside GSM-7: from the BMP, or an astral one (emoji, two UTF-16 code units). */
const nonGsmChar = fc.oneof(
  fc
    .integer({ min: 0x80, max: 0xffff })
    .filter((cp) => (cp < 0xd800 || cp > 0xdfff) && !GSM.has(String.fromCharCode(cp)))
    .map((cp) => String.fromCharCode(cp)),
  fc.integer({ min: 0x1f300, max: 0x1faff }).map((cp) => String.fromCodePoint(cp)),
);
const anyString = fc.oneof(gsmString(400), fc.string({ maxLength: 400, unit: 'binary' }));

const gsmRule = (septets: number) => (septets <= 160 ? 1 : Math.ceil(septets / 153));
const ucsRule = (units: number) => (units <= 70 ? 1 : Math.ceil(units / 67));

describe('SMS segments: examples at the boundaries', () => {
  it('has the GSM 03.38 tables from vendors.md §2.4, without duplicates', () => {
    expect(new Set(BASIC_CHARS).size).toBe(BASIC_CHARS.length);
    expect(BASIC_CHARS).toHaveLength(127);
    expect(EXTENSION_CHARS).toEqual(['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\f']);
    expect(BASIC_CHARS.filter((c) => GSM7_EXTENSION.includes(c))).toEqual([]);
  });

  it.each([
    ['empty', '', 'GSM-7', 0, 1],
    ['1 char', 'a', 'GSM-7', 1, 1],
    ['160 GSM', 'a'.repeat(160), 'GSM-7', 160, 1],
    ['161 GSM', 'a'.repeat(161), 'GSM-7', 161, 2],
    ['306 GSM (2 × 153)', 'a'.repeat(306), 'GSM-7', 306, 2],
    ['307 GSM', 'a'.repeat(307), 'GSM-7', 307, 3],
    ['459 GSM (3 × 153)', 'a'.repeat(459), 'GSM-7', 459, 3],
    ['460 GSM', 'a'.repeat(460), 'GSM-7', 460, 4],
    ['1530 GSM (10 × 153)', 'a'.repeat(1530), 'GSM-7', 1530, 10],
    ['€ + 158 = 160 septets', `€${'a'.repeat(158)}`, 'GSM-7', 160, 1],
    ['€ + 159 = 161 septets', `€${'a'.repeat(159)}`, 'GSM-7', 161, 2],
    ['80 × { = 160 septets', '{'.repeat(80), 'GSM-7', 160, 1],
    ['81 × { = 162 septets', '{'.repeat(81), 'GSM-7', 162, 2],
    ['extension at the end tips it over', `${'a'.repeat(159)}^`, 'GSM-7', 161, 2],
    ['form feed counts 2', `${'a'.repeat(159)}\f`, 'GSM-7', 161, 2],
    ['GSM accents stay GSM', 'èéùìòÇØøÅåÄÖÑÜäöñüà', 'GSM-7', 19, 1],
    ['Greek capitals are GSM', 'ΔΦΓΛΩΠΨΣΘΞ', 'GSM-7', 10, 1],
    ['70 UCS-2', 'ж'.repeat(70), 'UCS-2', 70, 1],
    ['71 UCS-2', 'ж'.repeat(71), 'UCS-2', 71, 2],
    ['134 UCS-2 (2 × 67)', 'ж'.repeat(134), 'UCS-2', 134, 2],
    ['135 UCS-2', 'ж'.repeat(135), 'UCS-2', 135, 3],
    ['ç (lower case) is not GSM', 'ç', 'UCS-2', 1, 1],
    ['one non-GSM char switches 100 GSM chars', `${'a'.repeat(100)}ж`, 'UCS-2', 101, 2],
    ['emoji is 2 code units', '😀', 'UCS-2', 2, 1],
    ['35 emoji = 70 units', '😀'.repeat(35), 'UCS-2', 70, 1],
    ['36 emoji = 72 units', '😀'.repeat(36), 'UCS-2', 72, 2],
    ['69 + emoji = 71 units', `${'a'.repeat(69)}😀`, 'UCS-2', 71, 2],
    ['68 + emoji = 70 units', `${'a'.repeat(68)}😀`, 'UCS-2', 70, 1],
    ['curly quotes are not GSM', '“hi”', 'UCS-2', 4, 1],
  ])('%s', (_name, body, encoding, units, segments) => {
    expect(countSmsSegments(body)).toEqual({ encoding, units, segments });
    expect(smsSegments(body)).toBe(segments);
  });

  it('gives k segments for 153·k GSM septets and k+1 for one more (k ≥ 2)', () => {
    for (let k = 2; k <= 11; k += 1) {
      expect(smsSegments('a'.repeat(153 * k))).toBe(k);
      expect(smsSegments('a'.repeat(153 * k + 1))).toBe(k + 1);
      expect(smsSegments('ж'.repeat(67 * k))).toBe(k);
      expect(smsSegments('ж'.repeat(67 * k + 1))).toBe(k + 1);
    }
  });
});

describe('SMS segments: properties', () => {
  it('GSM basic strings of length n follow the 160/153 rule', () => {
    fc.assert(
      fc.property(gsmBasicString(), (body) => {
        expect(countSmsSegments(body)).toEqual({
          encoding: 'GSM-7',
          units: body.length,
          segments: gsmRule(body.length),
        });
      }),
    );
  });

  it('extension characters count two septets each, and an escape pair is never split across parts', () => {
    fc.assert(
      fc.property(gsmString(), (body) => {
        const extensions = [...body].filter((c) => GSM7_EXTENSION.includes(c)).length;
        const septets = body.length + extensions;
        const { encoding, units, segments } = countSmsSegments(body);
        expect({ encoding, units }).toEqual({ encoding: 'GSM-7', units: septets });
        // At most one septet of each part goes unused (an escape pair that would straddle the boundary).
        expect(segments).toBeGreaterThanOrEqual(gsmRule(septets));
        expect(segments).toBeLessThanOrEqual(septets <= 160 ? 1 : Math.ceil(septets / 152));
      }),
    );
  });

  it('any non-GSM character forces UCS-2 limits over the whole message, in UTF-16 code units', () => {
    fc.assert(
      fc.property(gsmString(300), nonGsmChar, gsmString(300), (before, odd, after) => {
        const body = before + odd + after;
        const { encoding, units, segments } = countSmsSegments(body);
        expect({ encoding, units }).toEqual({ encoding: 'UCS-2', units: body.length });
        // One character wider than a code unit can push one part boundary back: one more segment at most.
        expect(segments - ucsRule(body.length)).toBeGreaterThanOrEqual(0);
        expect(segments - ucsRule(body.length)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is monotone: appending GSM characters never lowers the count', () => {
    fc.assert(
      fc.property(anyString, gsmString(200), (body, tail) => {
        expect(smsSegments(body + tail)).toBeGreaterThanOrEqual(smsSegments(body));
      }),
    );
  });

  it('is monotone under appending any character, even one that switches to UCS-2', () => {
    fc.assert(
      fc.property(anyString, fc.oneof(nonGsmChar, fc.constantFrom(...GSM)), (body, char) => {
        expect(smsSegments(body + char)).toBeGreaterThanOrEqual(smsSegments(body));
      }),
    );
  });

  it('is never below units ÷ part size, and wastes less than half of each part', () => {
    fc.assert(
      fc.property(anyString, (body) => {
        const { encoding, units, segments } = countSmsSegments(body);
        const rule = encoding === 'GSM-7' ? gsmRule : ucsRule;
        expect(segments).toBeGreaterThanOrEqual(rule(units));
        expect(segments).toBeLessThanOrEqual(Math.max(1, rule(2 * units)));
      }),
    );
  });
});

// --- money parsing ----------------------------------------------------------------------------------------

describe('money parsing used for settlement', () => {
  it('parses "0.1" as exactly 100000 micros, from a string and from a number', () => {
    expect(usdToMicros('0.1')).toBe(100_000);
    expect(usdToMicros(0.1)).toBe(100_000);
    expect(usdToMicros(0.0083)).toBe(8_300);
    expect(parseDecimal('0.00750', 6, 'price')).toBe(7_500);
    expect(parseDecimal('0.0166', 6, 'price')).toBe(16_600);
    expect(usdToMicros('0.000001')).toBe(1);
    expect(usdToMicros('12')).toBe(12_000_000);
  });

  it('rejects negatives, junk and more than six decimals', () => {
    for (const bad of ['-0.1', 'abc', '1.2.3', '0.0000001', '', '1e3']) {
      expect(() => usdToMicros(bad)).toThrow();
    }
    expect(usdToMicros('0.1000000')).toBe(100_000);
  });

  it('round-trips every integer number of micros through microsToUsd (below $1e9)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999_999_999 }), (micros) => {
        expect(usdToMicros(microsToUsd(micros))).toBe(micros);
      }),
    );
  });

  it('reads any decimal with up to six places exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 6 }),
        (whole, fraction) => {
          const expected = whole * 1_000_000 + Number(fraction.padEnd(6, '0'));
          expect(usdToMicros(`${whole}.${fraction}`)).toBe(expected);
          expect(parseDecimal(`${whole}.${fraction}`, 6, 'x')).toBe(expected);
        },
      ),
    );
  });

  it('gives the same micros for a JSON number as for its decimal text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999 }), (cents) => {
        const text = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
        expect(usdToMicros(Number(text))).toBe(usdToMicros(text));
        expect(usdToMicros(text)).toBe(cents * 10_000);
      }),
    );
  });
});

// --- pricing ----------------------------------------------------------------------------------------------

describe('Twilio vendor: pricing', () => {
  it('prices a US SMS at segments × $0.0083, the built-in US rate', () => {
    expect(sms({ To: '+15558675310', From: '+15017122661', Body: 'hi' })).toEqual(priced(8_300));
    expect(sms({ To: '+15558675310', From: '+1501', Body: 'a'.repeat(161) })).toEqual(priced(16_600));
    expect(sms({ To: '+15558675310', From: '+1501', Body: '😀'.repeat(36) })).toEqual(priced(16_600));
    expect(sms({ To: '+15558675310', From: '+1501', Body: 'a'.repeat(1530) })).toEqual(priced(83_000));
  });

  it('matches the segment module for any body', () => {
    const vendor = createTwilioVendor();
    fc.assert(
      fc.property(anyString, (body) => {
        expect(sms({ To: '+15558675310', From: '+1501', Body: body }, vendor)).toEqual(
          priced(smsSegments(body) * 8_300),
        );
      }),
    );
  });

  it('uses the longest matching E.164 prefix, with or without +', () => {
    const vendor = createTwilioVendor({
      smsPerSegmentByPrefix: { '+44': 40_000, '4479': 50_000, '+1': 7_000, '+1876': 90_000 },
    });
    expect(sms({ To: '+447911123456', Body: 'x' }, vendor)).toEqual(priced(50_000));
    expect(sms({ To: '+442071838750', Body: 'x' }, vendor)).toEqual(priced(40_000));
    expect(sms({ To: '+15558675310', Body: 'x' }, vendor)).toEqual(priced(7_000));
    expect(sms({ To: '+18765550000', Body: 'x'.repeat(161) }, vendor)).toEqual(priced(180_000));
    // France is not configured: the built-in table prices it.
    expect(sms({ To: '+33612345678', Body: 'x' }, vendor)).toEqual(priced(110_000));
  });

  it('charges the default price per segment only to destinations nothing else prices', () => {
    const vendor = createTwilioVendor({ defaultSmsPerSegment: 79_000 });
    expect(sms({ To: '+81312345678', Body: 'x' }, vendor)).toEqual(priced(79_000));
    expect(sms({ To: '+33612345678', Body: 'x' }, vendor)).toEqual(priced(110_000));
    expect(sms({ To: '+15558675310', Body: 'x' }, vendor)).toEqual(priced(8_300));
  });

  it('refuses destinations no entry prices, by default', () => {
    for (const vendor of [createTwilioVendor(), createTwilioVendor({ defaultSmsPerSegment: null })]) {
      expect(sms({ To: '+15558675310', Body: 'x' }, vendor)).toEqual(priced(8_300));
      expect(sms({ To: '+81312345678', Body: 'x' }, vendor)).toMatchObject({ kind: 'refused' });
    }
  });

  it('prices MMS per message when MediaUrl is present, whatever the body length', () => {
    expect(sms({ To: '+15558675310', MediaUrl: 'https://x/a.png' })).toEqual(priced(22_000));
    expect(sms({ To: '+15558675310', MediaUrl: ['a', 'b'], Body: 'a'.repeat(1000) })).toEqual(priced(22_000));
    // The built-in table has MMS prices for the US and Canada only.
    expect(sms({ To: '+447911123456', MediaUrl: 'a' })).toMatchObject({ kind: 'refused' });
    const vendor = createTwilioVendor({
      mmsPerMessageByPrefix: { '+1': 20_000 },
      defaultMmsPerMessage: null,
    });
    expect(sms({ To: '+15558675310', MediaUrl: 'a' }, vendor)).toEqual(priced(20_000));
    expect(sms({ To: '+447911123456', MediaUrl: 'a' }, vendor)).toMatchObject({ kind: 'refused' });
    // SMS pricing is unaffected by the MMS table.
    expect(sms({ To: '+447911123456', Body: 'x' }, vendor)).toEqual(priced(70_000));
    expect(
      sms({ To: '+447911123456', MediaUrl: 'a' }, createTwilioVendor({ defaultMmsPerMessage: 90_000 })),
    ).toEqual(priced(90_000));
  });

  it('refuses a missing or malformed To', () => {
    for (const To of [
      undefined,
      '',
      '5558675310',
      '+0123',
      'whatsapp:+15558675310',
      ' 15558675310',
      ['+1555', '+1556'],
    ]) {
      expect(sms({ To, Body: 'x' })).toMatchObject({ kind: 'refused' });
    }
  });

  it('refuses a repeated Body and content templates it cannot count', () => {
    expect(sms({ To: '+15558675310', Body: ['a', 'b'] })).toMatchObject({ kind: 'refused' });
    expect(sms({ To: '+15558675310', ContentSid: 'HX123' })).toMatchObject({ kind: 'refused' });
    expect(sms({ To: '+15558675310', ContentSid: 'HX123', Body: 'hi' })).toMatchObject({ kind: 'refused' });
  });

  it('prices a message without a body as one segment (Twilio rejects it; the reservation is released)', () => {
    expect(sms({ To: '+15558675310', From: '+1501' })).toEqual(priced(8_300));
  });

  it('makes reads, deletes and message updates free, and refuses other POSTs', () => {
    const vendor = createTwilioVendor();
    const estimate = (method: string, path: string) =>
      vendor.estimateCost(request({ method, path }), context);
    expect(estimate('GET', MESSAGES)).toEqual(priced(0));
    expect(estimate('GET', `/2010-04-01/Accounts/${SID}/Messages/SM1.json`)).toEqual(priced(0));
    expect(estimate('DELETE', `/2010-04-01/Accounts/${SID}/Messages/SM1.json`)).toEqual(priced(0));
    expect(estimate('POST', `/2010-04-01/Accounts/${SID}/Messages/SM1.json`)).toEqual(priced(0));
    expect(estimate('POST', `/2010-04-01/Accounts/${SID}/Calls.json`)).toMatchObject({ kind: 'refused' });
    expect(estimate('POST', '/v2/Services/VA1/Verifications')).toMatchObject({ kind: 'refused' });
    expect(estimate('PUT', MESSAGES)).toMatchObject({ kind: 'refused' });
  });

  it('rejects invalid price configuration', () => {
    expect(() => createTwilioVendor({ defaultSmsPerSegment: -1 })).toThrow(TypeError);
    expect(() => createTwilioVendor({ defaultSmsPerSegment: 0.5 })).toThrow(TypeError);
    expect(() => createTwilioVendor({ smsPerSegmentByPrefix: { UK: 1 } })).toThrow(TypeError);
    expect(() => createTwilioVendor({ mmsPerMessageByPrefix: { '+1': Number.NaN } })).toThrow(TypeError);
    expect(() => createTwilioVendor({ defaultMmsPerMessage: -5 })).toThrow(/defaultMmsPerMessage/);
    expect(() => createTwilioVendor({ smsPerSegmentByPrefix: { '+0': 1 } })).toThrow(/not an E.164 prefix/);
    expect(() => createTwilioVendor({ smsPerSegmentByPrefix: { '+44': 1, '44': 2 } })).toThrow(/given twice/);
    const typo = { defaultSmsPrice: 8_300 } as unknown as TwilioPricing;
    expect(() => createTwilioVendor(typo)).toThrow(/no option "defaultSmsPrice"/);
  });
});

describe('Twilio vendor: settlement', () => {
  const vendor = createTwilioVendor();
  const create = request({ params: { To: '+15558675310', Body: 'x' } });
  const settle = (json: unknown, req = create) =>
    vendor.actualCost(req, { status: 201, json }, 8_300, context);

  it('settles to the absolute value of a stated price, exactly', () => {
    expect(settle({ price: '-0.00750', price_unit: 'USD' })).toBe(7_500);
    expect(settle({ price: '-0.0166', price_unit: 'USD' })).toBe(16_600);
    expect(settle({ price: '-0.00790' })).toBe(7_900);
    expect(settle({ price: '0.00830', price_unit: 'USD' })).toBe(8_300);
    expect(settle({ price: '-0.00000', price_unit: 'USD' })).toBe(0);
  });

  it('settles to the estimate when no usable price is stated', () => {
    expect(settle({ price: null, price_unit: 'USD' })).toBe(8_300);
    expect(settle({})).toBe(8_300);
    expect(settle(undefined)).toBe(8_300);
    expect(settle({ price: 'n/a' })).toBe(8_300);
    expect(settle({ price: '-0.0000001' })).toBe(8_300);
    expect(settle({ price: -0.0075 })).toBe(8_300);
    expect(settle({ price: '-0.00750', price_unit: 'EUR' })).toBe(8_300);
  });

  it('never charges a fetch for the price of the message it reads', () => {
    const fetch = request({ method: 'GET', path: `/2010-04-01/Accounts/${SID}/Messages/SM1.json` });
    expect(vendor.actualCost(fetch, { status: 200, json: { price: '-0.00830' } }, 0, context)).toBe(0);
  });

  it('round-trips any price in micros through Twilio’s negative decimal form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (micros) => {
        const text = `-${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
        expect(settle({ price: text, price_unit: 'USD' })).toBe(micros);
      }),
    );
  });
});

describe('Twilio vendor: wire', () => {
  const vendor = createTwilioVendor();
  const secrets = { accountSid: SID, authToken: 'tok' };

  it('forwards with the real Basic credentials and the real AccountSid in the path', () => {
    const up = vendor.upstream(
      request({ path: '/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json' }),
      secrets,
    );
    expect(up.path).toBe(MESSAGES);
    expect(up.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:tok`).toString('base64')}`);
    expect(vendor.upstream(request({ path: '/2010-04-01/Accounts/vk_test_abc.json' }), secrets).path).toBe(
      `/2010-04-01/Accounts/${SID}.json`,
    );
    expect(
      vendor.upstream(request({ path: '/2010-04-01/Accounts/ACx/Messages/SM1/Media.json' }), secrets).path,
    ).toBe(`/2010-04-01/Accounts/${SID}/Messages/SM1/Media.json`);
    expect(vendor.upstream(request({ path: '/2010-04-01/Accounts' }), secrets).path).toBe(
      '/2010-04-01/Accounts',
    );
  });

  it('parses form bodies with repeated keys and re-encodes JSON the way the SDK does', () => {
    const form = vendor.parseBody({
      contentType: 'application/x-www-form-urlencoded',
      raw: Buffer.from('To=%2B1555&MediaUrl=a&MediaUrl=b'),
    });
    expect(form.params).toEqual({ To: '+1555', MediaUrl: ['a', 'b'] });
    const json = vendor.parseBody({
      contentType: 'application/json',
      raw: Buffer.from(JSON.stringify({ To: '+1555', MediaUrl: ['a', 'b'] })),
    });
    expect(json.body.toString()).toBe(
      encodeForm({ To: '+1555', MediaUrl: ['a', 'b'] }, { arrayFormat: 'repeat' }),
    );
    expect(json.body.toString()).toBe('To=%2B1555&MediaUrl=a&MediaUrl=b');
  });

  it('has no idempotency key, no created object, and reads Twilio-Request-Id', () => {
    expect(vendor.idempotencyKey(request({ headers: { 'idempotency-key': 'k' } }))).toBeNull();
    expect(vendor.createdObjectId(request(), { status: 201, json: { sid: 'SM1' } })).toBeNull();
    expect(vendor.vendorRequestId({ 'twilio-request-id': 'RQ1' }, {})).toBe('RQ1');
    expect(vendor.vendorRequestId({}, {})).toBeNull();
    expect(vendor).toMatchObject({ name: 'twilio', defaultBaseUrl: 'https://api.twilio.com' });
    expect(vendor.secretNames).toEqual(['accountSid', 'authToken']);
  });
});
