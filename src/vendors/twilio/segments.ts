/**
 * How many SMS segments Twilio bills for a message body.
 *
 * Twilio picks the most compact encoding: GSM-7 when every character is in the GSM 03.38 basic set or its
 * extension table, otherwise UCS-2 for the whole message. A single GSM-7 message holds 160 septets and each part
 * of a multi-part one 153 (the rest is the concatenation header); UCS-2 holds 70 and 67 UTF-16 code units.
 * Extension characters take two septets (an escape plus the character); characters outside the Basic
 * Multilingual Plane (most emoji) take two UTF-16 code units.
 *
 * Real splitting never breaks an escape pair or a surrogate pair across parts, so right at a part boundary the
 * real count can be one higher than this one. Sources: https://www.twilio.com/docs/glossary/what-sms-character-limit,
 * https://www.twilio.com/docs/glossary/what-is-ucs-2-character-encoding
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
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  readonly units: number;
  readonly segments: number;
}

const LIMITS: Readonly<Record<SmsEncoding, { readonly single: number; readonly multi: number }>> = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
};

/** Encoding, length in encoding units, and segment count of an SMS body. An empty body is one segment. */
export function countSmsSegments(body: string): SegmentCount {
  let septets = 0;
  for (const char of body) {
    if (BASIC.has(char)) septets += 1;
    else if (EXTENSION.has(char)) septets += 2;
    else return withSegments('UCS-2', body.length);
  }
  return withSegments('GSM-7', septets);
}

/** Just the segment count; see {@link countSmsSegments}. */
export function smsSegments(body: string): number {
  return countSmsSegments(body).segments;
}

/** True when every character of the body is GSM-7 (basic or extension). */
export function isGsm7(body: string): boolean {
  return countSmsSegments(body).encoding === 'GSM-7';
}

function withSegments(encoding: SmsEncoding, units: number): SegmentCount {
  const { single, multi } = LIMITS[encoding];
  return { encoding, units, segments: units <= single ? 1 : Math.ceil(units / multi) };
}
