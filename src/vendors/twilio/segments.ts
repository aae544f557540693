/**
 * How many SMS segments Twilio bills for a message body.
 *
 * Twilio picks the most compact encoding: GSM-7 when every character is in the GSM 03.38 basic set or its
 * extension table, otherwise UCS-2 for the whole message. A single GSM-7 message holds 160 septets and each part
 * of a multi-part one 153 (the rest is the concatenation header); UCS-2 holds 70 and 67 UTF-16 code units.
 * Extension characters take two septets (an escape plus the character); characters outside the Basic
 * Multilingual Plane (most emoji) take two UTF-16 code units.
 *
 * Parts are packed greedily and nothing is ever split across two of them: not an escape pair, not a surrogate
 * pair, and (in UCS-2) not a grapheme cluster such as 👍🏽, 🇬🇧 or e + U+0301, as Twilio's own counter (npm
 * `sms-segments-calculator`) packs them. So right at a part boundary the count can be one more than
 * units ÷ 153 (or 67): an extension character or an emoji that would straddle the boundary opens a new part.
 * Where that counter's Unicode 10 grapheme rules and today's disagree, the bigger cluster is kept, so the count
 * may exceed the counter's (by one, around such a cluster) but is never below it.
 * Sources: https://www.twilio.com/docs/glossary/what-sms-character-limit,
 * https://www.twilio.com/docs/glossary/what-is-ucs-2-character-encoding,
 * https://github.com/TwilioDevEd/message-segment-calculator (the oracle of test/vendors/twilio-segments.test.ts).
 */

/** The GSM 03.38 basic character set, one septet each. */
export const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡' +
  'ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** The GSM 03.38 extension table (reached through an escape), two septets each. Includes form feed. */
export const GSM7_EXTENSION = '^{}\\[~]|€\f';

const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentCount {
  readonly encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) of the whole body. */
  readonly units: number;
  readonly segments: number;
}

interface Limits {
  /** Units a message that fits in one segment may have. */
  readonly single: number;
  /** Units each part of a concatenated message holds (the rest of the 140 octets is the header). */
  readonly multi: number;
}

const LIMITS: Readonly<Record<SmsEncoding, Limits>> = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
};

/** An item that closes the current part, if it has anything in it (see {@link ucs2Items}). */
const NEW_PART = 0;

/**
 * UTF-16 ranges (Latin, Greek, Cyrillic, general punctuation, CJK, kana) where every character is a grapheme
 * cluster on its own under both Unicode 10 and current rules: no mark, joiner, Hangul jamo, Prepend or regional
 * indicator is in them (checked against both segmenters for every code point in them).
 */
const ONE_UNIT_CLUSTER_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0000, 0x02ff],
  [0x0370, 0x0482],
  [0x048a, 0x052f],
  [0x2000, 0x200b],
  [0x2010, 0x205f],
  [0x3000, 0x3029],
  [0x3030, 0x3098],
  [0x309b, 0x30ff],
  [0x4e00, 0x9fff],
  [0xff01, 0xff9d],
];

/** Encoding, length in encoding units, and segment count of an SMS body. An empty body is one segment. */
export function countSmsSegments(body: string): SegmentCount {
  const septets = gsm7Items(body);
  const encoding: SmsEncoding = septets === null ? 'UCS-2' : 'GSM-7';
  const items = septets ?? ucs2Items(body);
  const units = items.reduce((sum, size) => sum + size, 0);
  return { encoding, units, segments: packParts(items, units, LIMITS[encoding]) };
}

/** Just the segment count; see {@link countSmsSegments}. */
export function smsSegments(body: string): number {
  return countSmsSegments(body).segments;
}

/** True when every character of the body is GSM-7 (basic or extension). */
export function isGsm7(body: string): boolean {
  return gsm7Items(body) !== null;
}

/** Septets per character (1, or 2 for an escape pair), or `null` when a character is not GSM-7. */
function gsm7Items(body: string): number[] | null {
  const items: number[] = [];
  for (const char of body) {
    if (BASIC.has(char)) items.push(1);
    else if (EXTENSION.has(char)) items.push(2);
    else return null;
  }
  return items;
}

/**
 * UTF-16 code units per grapheme cluster. A cluster too big for any part (a letter under dozens of combining
 * marks) cannot stay whole: it starts a new part and is split between code points, never inside a surrogate pair.
 */
function ucs2Items(body: string): number[] {
  // Cheap path for the common scripts, where each character is a cluster of one unit.
  if (allOneUnitClusters(body)) return new Array<number>(body.length).fill(1);
  const items: number[] = [];
  for (const cluster of graphemeClusters(body)) {
    if (cluster.length <= LIMITS['UCS-2'].multi) {
      items.push(cluster.length);
    } else {
      items.push(NEW_PART);
      for (const codePoint of cluster) items.push(codePoint.length);
    }
  }
  return items;
}

function allOneUnitClusters(body: string): boolean {
  for (let i = 0; i < body.length; i += 1) {
    const code = body.charCodeAt(i);
    if (!ONE_UNIT_CLUSTER_RANGES.some(([from, to]) => code >= from && code <= to)) return false;
  }
  return true;
}

/** Greedy packing: each item goes in the current part if it fits whole, otherwise it opens the next part. */
function packParts(items: readonly number[], units: number, { single, multi }: Limits): number {
  if (units <= single) return 1;
  let parts = 1;
  let used = 0;
  for (const size of items) {
    if (size === NEW_PART ? used > 0 : used + size > multi) {
      parts += 1;
      used = 0;
    }
    used += size;
  }
  return parts;
}

const GRAPHEMES = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Where Twilio's counter (grapheme-splitter, Unicode 10 rules) keeps characters together that today's rules
 * (`Intl.Segmenter`) separate. Found by comparing both over every code point; gluing these too means our clusters
 * are never smaller than either's, so no part of ours holds more than Twilio's would:
 * - ZWJ × the Unicode 10 Glue_After_Zwj and E_Base_GAZ characters (♀ ♂ ⚕ ⚖ ✈ ❤ 🌈 👦 👧 👨 👩 …), after any base;
 * - × U+1CF2, U+1CF3, U+11720, U+11721 (SpacingMark in Unicode 10);
 * - U+11A3A × (Prepend in Unicode 10);
 * - after a Prepend, a run of regional indicators is paired from its second one: keep the whole run together;
 * - Prepend × U+13430–U+1343F, and U+13430–U+1343F × Extend or SpacingMark (format controls that were
 *   unassigned in Unicode 10).
 */
const GLUED_AFTER_ZWJ =
  /^[\u2640\u2642\u2695\u2696\u2708\u2764\u{1F308}\u{1F33E}\u{1F373}\u{1F393}\u{1F3A4}\u{1F3A8}\u{1F3EB}\u{1F3ED}\u{1F466}-\u{1F469}\u{1F48B}\u{1F4BB}\u{1F4BC}\u{1F527}\u{1F52C}\u{1F5E8}\u{1F680}\u{1F692}]/u;
const OLD_SPACING_MARK = /^(?:\u1CF2|\u1CF3|\u{11720}|\u{11721})/u;
const OLD_PREPEND = /[\u{11A3A}]$/u;
/** A superset of the Prepend characters of Unicode 10 and today's. */
const PREPEND_CLASS =
  '[\\u0600-\\u0605\\u06DD\\u070F\\u0890\\u0891\\u08E2\\u0D4E\\u{110BD}\\u{110CD}\\u{111C2}\\u{111C3}\\u{1193F}\\u{11941}\\u{11A3A}\\u{11A84}-\\u{11A89}\\u{11D46}\\u{11F02}]';
const PREPEND = new RegExp(`${PREPEND_CLASS}$`, 'u');
const PREPEND_THEN_FLAGS = new RegExp(`${PREPEND_CLASS}\\p{RI}+$`, 'u');
const FLAG_FIRST = /^\p{RI}/u;
const EGYPTIAN_CONTROL_FIRST = /^[\u{13430}-\u{1343F}]/u;
const EGYPTIAN_CONTROL_LAST = /[\u{13430}-\u{1343F}]$/u;
/** Every rule below needs one of these in the body. */
const GLUE_TRIGGERS = new RegExp(
  `\\u200d|\\u1CF2|\\u1CF3|\\u{11720}|\\u{11721}|[\\u{13430}-\\u{1343F}]|${PREPEND_CLASS}`,
  'u',
);
const CONTROL_LAST = /\p{Cc}$/u;
const CONTROL_FIRST = /^\p{Cc}/u;

/** The body's grapheme clusters as Twilio's counter sees them: CR LF counts as two characters. */
export function graphemeClusters(body: string): string[] {
  const mayGlue = GLUE_TRIGGERS.test(body);
  const clusters: string[] = [];
  for (const { segment } of GRAPHEMES.segment(body)) {
    if (segment === '\r\n') {
      clusters.push('\r', '\n');
      continue;
    }
    const last = clusters.length - 1;
    const previous = clusters[last];
    if (mayGlue && previous !== undefined && glued(previous, segment)) clusters[last] = previous + segment;
    else clusters.push(segment);
  }
  return clusters;
}

function glued(previous: string, next: string): boolean {
  if (CONTROL_LAST.test(previous) || CONTROL_FIRST.test(next)) return false;
  return (
    (previous.endsWith('\u200d') && GLUED_AFTER_ZWJ.test(next)) ||
    OLD_SPACING_MARK.test(next) ||
    OLD_PREPEND.test(previous) ||
    (PREPEND.test(previous) && EGYPTIAN_CONTROL_FIRST.test(next)) ||
    (PREPEND_THEN_FLAGS.test(previous) && FLAG_FIRST.test(next)) ||
    (EGYPTIAN_CONTROL_LAST.test(previous) && extendsAnything(next))
  );
}

/** True when the cluster starts with a character that joins any letter before it (Extend, SpacingMark, ZWJ). */
function extendsAnything(cluster: string): boolean {
  const first = String.fromCodePoint(cluster.codePointAt(0) ?? 0);
  return [...GRAPHEMES.segment(`a${first}`)].length === 1;
}
