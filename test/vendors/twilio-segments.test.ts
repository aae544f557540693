import fc from 'fast-check';
import { SegmentedMessage } from 'sms-segments-calculator';
import { describe, expect, it } from 'vitest';
import {
  countSmsSegments,
  graphemeClusters,
  GSM7_BASIC,
  GSM7_EXTENSION,
  smsSegments,
} from '../../src/vendors/twilio/segments.js';

/**
 * Twilio's own segment counter (npm `sms-segments-calculator`, the code behind
 * https://twiliodeved.github.io/message-segment-calculator/) is the oracle: our count must never be lower. It
 * detects the encoding the same way, splits the body into grapheme clusters (grapheme-splitter, Unicode 10
 * rules, CR LF as two), and packs them greedily into 140-octet parts, moving whatever would straddle a
 * boundary into the next part.
 */
const oracle = (body: string): number => new SegmentedMessage(body).segmentsCount;

const BASIC = [...GSM7_BASIC];
const EXTENSION = [...GSM7_EXTENSION];
const GSM = new Set([...BASIC, ...EXTENSION]);

const bmpNonGsm = fc
  .integer({ min: 0x80, max: 0xffff })
  .filter((cp) => (cp < 0xd800 || cp > 0xdfff) && !GSM.has(String.fromCharCode(cp)))
  .map((cp) => String.fromCharCode(cp));
const emoji = fc.integer({ min: 0x1f300, max: 0x1faff }).map((cp) => String.fromCodePoint(cp));
const astral = fc.integer({ min: 0x10000, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp));
const combining = fc
  .oneof(
    fc.integer({ min: 0x300, max: 0x36f }),
    // ZWJ, VS-16, skin tones, keycap, Devanagari virama and vowel sign, Thai SARA AM (a SpacingMark).
    fc.constantFrom(0x200d, 0xfe0f, 0x1f3fb, 0x1f3fd, 0x20e3, 0x94d, 0x93f, 0xe33),
  )
  .map((cp) => String.fromCodePoint(cp));
/** Characters where grapheme rules disagree between Unicode versions (see segments.ts). */
const tricky = fc.constantFrom(
  ...['🇺', '🇸', '👨', '👩', '👦', '❤', '♀', '\u200d', '\r', '\n', '\r\n', '\t', 'क', '가', 'ᄀ', 'ᅡ', 'ᆨ'],
  ...['\u0600', '\u{11A3A}', '\u{13430}', '\u1CF2', '\u{11720}', '👍🏽', '🏳️‍🌈', '👨‍👩‍👧'],
);
const char = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...BASIC) },
  { weight: 2, arbitrary: fc.constantFrom(...EXTENSION) },
  { weight: 2, arbitrary: bmpNonGsm },
  { weight: 2, arbitrary: emoji },
  { weight: 1, arbitrary: astral },
  { weight: 2, arbitrary: combining },
  { weight: 2, arbitrary: tricky },
);
/** A run of one-unit characters ending near a part boundary (153·k or 67·k units), so the tail lands on it. */
const nearBoundary = fc.oneof(
  fc.constant(''),
  fc
    .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: -6, max: 2 }))
    .map(([k, d]) => 'a'.repeat(Math.max(0, 153 * k + d))),
  fc
    .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: -4, max: 2 }))
    .map(([k, d]) => 'ж'.repeat(Math.max(0, 67 * k + d))),
);
const body = fc
  .tuple(nearBoundary, fc.array(char, { maxLength: 120 }), nearBoundary)
  .map(([head, middle, tail]) => head + middle.join('') + tail);

describe('SMS segments against Twilio’s counter (sms-segments-calculator)', () => {
  it('never counts fewer segments than the oracle, and the same encoding', () => {
    fc.assert(
      fc.property(body, (text) => {
        const ours = countSmsSegments(text);
        const theirs = new SegmentedMessage(text);
        expect(ours.encoding).toBe(theirs.encodingName);
        expect(ours.segments).toBeGreaterThanOrEqual(theirs.segmentsCount);
      }),
      { numRuns: 1_000 },
    );
  }, 60_000);

  it('agrees exactly on GSM-7 bodies and on UCS-2 bodies without multi-character clusters', () => {
    const simple = fc.oneof(
      fc.constantFrom(...BASIC, ...EXTENSION),
      bmpNonGsm.filter((c) => /^[\p{L}\p{N}\p{P}\p{S}\p{Zs}]$/u.test(c)),
      emoji.filter((c) => /^\p{Extended_Pictographic}$/u.test(c) && !/\p{Emoji_Modifier}/u.test(c)),
    );
    fc.assert(
      fc.property(nearBoundary, fc.array(simple, { maxLength: 200 }), (head, chars) => {
        const text = head + chars.join('');
        expect(smsSegments(text)).toBe(oracle(text));
      }),
      { numRuns: 800 },
    );
  }, 60_000);

  it('never splits where the oracle keeps characters together (our clusters are never smaller)', () => {
    const ends = (clusters: readonly string[]) => {
      let offset = 0;
      return clusters.map((cluster) => (offset += cluster.length));
    };
    fc.assert(
      fc.property(fc.array(fc.oneof(tricky, combining, char), { maxLength: 40 }), (chars) => {
        const text = chars.join('');
        const theirs = new Set(ends(new SegmentedMessage(text).graphemes));
        for (const end of ends(graphemeClusters(text))) expect(theirs.has(end)).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  }, 60_000);

  // Where they legitimately differ, ours is higher: current Unicode (Intl.Segmenter) joins more than the
  // oracle's Unicode 10 rules, e.g. a skin-tone modifier after any character, and we keep those together too.
  it('counts one more than the oracle where current Unicode joins a skin tone the oracle splits off', () => {
    // 134 units. The oracle: [66 ж + a] [🏻 + 65 ж]. Ours keeps a🏻 (3 units) whole: [66 ж] [a🏻 + 64 ж] [ж].
    const text = `${'ж'.repeat(66)}a🏻${'ж'.repeat(65)}`;
    expect(oracle(text)).toBe(2);
    expect(smsSegments(text)).toBe(3);
  });
});

describe('SMS segments: nothing straddles a part boundary', () => {
  const a = (n: number) => 'a'.repeat(n);
  const zh = (n: number) => 'ж'.repeat(n);
  // [name, body, encoding, units, units ÷ part size rounded up, segments]
  it.each([
    // GSM-7 parts hold 153 septets; an escape pair (2 septets) that would need septets 153–154 opens the next.
    ['€ at septets 153–154', `${a(152)}€${a(152)}`, 'GSM-7', 306, 2, 3],
    ['€ at septets 152–153 fits', `${a(151)}€${a(153)}`, 'GSM-7', 306, 2, 2],
    ['{ at septets 306–307', `${a(305)}{${a(152)}`, 'GSM-7', 459, 3, 4],
    ['153 × { = 306 septets', '{'.repeat(153), 'GSM-7', 306, 2, 3],
    ['one part is 160 septets, pair or not', `${a(152)}€${a(6)}`, 'GSM-7', 160, 1, 1],
    // UCS-2 parts hold 67 code units; a surrogate pair that would need units 67–68 opens the next.
    ['😀 at units 67–68', `${zh(66)}😀${zh(66)}`, 'UCS-2', 134, 2, 3],
    ['😀 at units 66–67 fits', `${zh(65)}😀${zh(67)}`, 'UCS-2', 134, 2, 2],
    ['67 × 😀 = 134 units', '😀'.repeat(67), 'UCS-2', 134, 2, 3],
    // A grapheme cluster stays whole: 👍🏽 and 🇬🇧 are 4 units, e + U+0301 is 2.
    ['👍🏽 across units 66–69', `${zh(65)}👍🏽${zh(65)}`, 'UCS-2', 134, 2, 3],
    ['🇬🇧 across units 133–136', `${zh(132)}🇬🇧${zh(65)}`, 'UCS-2', 201, 3, 4],
    ['e + U+0301 across units 67–68', `${zh(66)}e\u0301${zh(66)}`, 'UCS-2', 134, 2, 3],
  ])('%s', (_name, text, encoding, units, naive, segments) => {
    expect(countSmsSegments(text)).toEqual({ encoding, units, segments });
    const part = encoding === 'GSM-7' ? 153 : 67;
    expect(units <= (encoding === 'GSM-7' ? 160 : 70) ? 1 : Math.ceil(units / part)).toBe(naive);
    expect(oracle(text)).toBe(segments);
  });

  it('splits a cluster too big for any part between code points, starting a new part', () => {
    const zalgo = `a${'\u0301'.repeat(99)}`; // one grapheme of 100 units
    expect(graphemeClusters(zalgo)).toHaveLength(1);
    expect(smsSegments(zalgo)).toBe(2);
    expect(smsSegments(`${zh(10)}${zalgo}`)).toBe(3);
    expect(smsSegments(zalgo)).toBeGreaterThanOrEqual(oracle(zalgo));
  });

  it('counts CR LF as two characters, like the oracle', () => {
    expect(graphemeClusters('a\r\nb')).toEqual(['a', '\r', '\n', 'b']);
    expect(countSmsSegments(`ж\r\n`)).toEqual({ encoding: 'UCS-2', units: 3, segments: 1 });
  });
});
