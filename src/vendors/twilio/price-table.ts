import type { Micros } from '../../money.js';

/**
 * The built-in Twilio price table: what the proxy reserves per outbound message, in USD micro-dollars, keyed by
 * E.164 prefix. Longest prefix wins; `null` marks a prefix the table deliberately does not price (the
 * destination is then treated as unlisted: refused unless a configured entry or default price covers it).
 *
 * These are RESERVATION CEILINGS, not Twilio's rates, and they are meant to be overridden per account. Each is
 * at or above Twilio's published pay-as-you-go list price for the destination as of 2026, and rounded up where
 * that price was uncertain or varies by network: reserving too little lets an agent spend past its cap, while
 * reserving too much only holds (and, when Twilio's response states no price, charges) more of the budget. Twilio
 * bills carrier pass-through fees (US 10DLC, toll-free) on top; they are not included. Put your own rates in
 * `smsPerSegmentByPrefix` / `SPENDGATE_TWILIO_SMS_PRICES` (and the MMS equivalents); the Pricing API gives the
 * current ones for an account: `GET https://pricing.twilio.com/v1/Messaging/Countries/{ISO}`.
 *
 * Sources (2026): Twilio's pricing pages, https://www.twilio.com/en-us/sms/pricing/us (long code $0.0083 per
 * segment, MMS $0.0220) and https://www.twilio.com/en-us/sms/pricing/{iso} for the others (GB about $0.0524;
 * EU states mostly $0.04–$0.12). The UK and EU values below were not copied from those pages: they are ceilings
 * set 20–50% above the list price as best known, so re-check them against the Pricing API when updating this
 * table.
 */
export type PriceTable = Readonly<Record<string, Micros | null>>;

/**
 * +1 is the whole North American Numbering Plan, not just the US and Canada. These area codes are other
 * countries (the Caribbean, Bermuda), which Twilio prices as international destinations, at many times the US
 * rate: they must never fall under the +1 (US) price. US territories (+1 340, 670, 671, 684, 787, 939) are billed
 * at the US rate and stay under +1.
 */
export const NANP_OUTSIDE_US_AND_CANADA: readonly string[] = [
  '+1242', // Bahamas
  '+1246', // Barbados
  '+1264', // Anguilla
  '+1268', // Antigua and Barbuda
  '+1284', // British Virgin Islands
  '+1345', // Cayman Islands
  '+1441', // Bermuda
  '+1473', // Grenada
  '+1649', // Turks and Caicos Islands
  '+1658', // Jamaica
  '+1664', // Montserrat
  '+1721', // Sint Maarten
  '+1758', // Saint Lucia
  '+1767', // Dominica
  '+1784', // Saint Vincent and the Grenadines
  '+1809', // Dominican Republic
  '+1829', // Dominican Republic
  '+1849', // Dominican Republic
  '+1868', // Trinidad and Tobago
  '+1869', // Saint Kitts and Nevis
  '+1876', // Jamaica
];

const UNPRICED_NANP: PriceTable = Object.fromEntries(NANP_OUTSIDE_US_AND_CANADA.map((p) => [p, null]));

/** Per-segment outbound SMS ceilings. */
export const BUILT_IN_SMS_PER_SEGMENT: PriceTable = {
  // US and Canada (and the US territories): the US long-code list price, $0.0083. +1 cannot tell Canada from the
  // US; Canada is listed at the same rate as far as known (check yours with the Pricing API).
  '+1': 8_300,
  ...UNPRICED_NANP,
  // United Kingdom, list about $0.0524; the ceiling also covers Guernsey, Jersey and the Isle of Man numbers
  // that share +44.
  '+44': 70_000,
  // The 27 EU member states.
  '+43': 140_000, // Austria
  '+32': 130_000, // Belgium
  '+359': 190_000, // Bulgaria
  '+385': 140_000, // Croatia
  '+357': 80_000, // Cyprus
  '+420': 100_000, // Czechia
  '+45': 80_000, // Denmark
  '+372': 120_000, // Estonia
  '+358': 140_000, // Finland
  '+33': 110_000, // France
  '+49': 140_000, // Germany
  '+30': 90_000, // Greece
  '+36': 150_000, // Hungary
  '+353': 110_000, // Ireland
  '+39': 120_000, // Italy
  '+371': 110_000, // Latvia
  '+370': 90_000, // Lithuania
  '+352': 100_000, // Luxembourg
  '+356': 80_000, // Malta
  '+31': 160_000, // Netherlands
  '+48': 60_000, // Poland
  '+351': 70_000, // Portugal
  '+40': 110_000, // Romania
  '+421': 130_000, // Slovakia
  '+386': 150_000, // Slovenia
  '+34': 110_000, // Spain
  '+46': 100_000, // Sweden
};

/** Per-message outbound MMS ceilings: only the US and Canada, where Twilio sends MMS natively. */
export const BUILT_IN_MMS_PER_MESSAGE: PriceTable = {
  // US and Canada: the US list price, $0.0220 per MMS (the same caveat for Canada).
  '+1': 22_000,
  ...UNPRICED_NANP,
};
