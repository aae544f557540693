import { parseDecimal, type Micros } from '../../money.js';
import type { CostEstimate, VendorRequest } from '../types.js';
import { BUILT_IN_MMS_PER_MESSAGE, BUILT_IN_SMS_PER_SEGMENT, type PriceTable } from './price-table.js';
import { countSmsSegments } from './segments.js';

/**
 * What Twilio messages cost, in USD micro-dollars. A built-in table (`price-table.ts`) holds reservation ceilings
 * for the US and Canada, the UK and the EU states; these options extend and override it. A destination nothing
 * prices is refused (`cost_unknown`): charging one flat price to every other country is an explicit opt-in,
 * because message prices differ tenfold between countries.
 */
export interface TwilioPricing {
  /**
   * Per-segment SMS price for destinations no prefix entry (configured or built-in) prices. Default `null`:
   * refuse them. Setting it opts in to charging this price to every such country.
   */
  readonly defaultSmsPerSegment?: Micros | null;
  /**
   * Per-segment SMS prices keyed by E.164 prefix, with or without `+` (`{ '+44': 52_400, '+1876': 120_000 }`).
   * They extend the built-in table: the longest prefix matching `To` wins across both, and for the same prefix
   * the configured price beats the built-in one.
   */
  readonly smsPerSegmentByPrefix?: Readonly<Record<string, Micros>>;
  /**
   * Per-message MMS price (a `MediaUrl`, or `SendAsMms`) for destinations no prefix entry prices. Default `null`:
   * refuse them.
   */
  readonly defaultMmsPerMessage?: Micros | null;
  /** Per-message MMS prices keyed by E.164 prefix, merged with the built-in table like the SMS ones. */
  readonly mmsPerMessageByPrefix?: Readonly<Record<string, Micros>>;
}

const OPTION_NAMES = new Set<string>([
  'defaultSmsPerSegment',
  'smsPerSegmentByPrefix',
  'defaultMmsPerMessage',
  'mmsPerMessageByPrefix',
]);

/** A message create: `/2010-04-01/Accounts/{sid}/Messages.json`. */
const MESSAGES = /^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/;
/** Update (redact or cancel a scheduled message) or fetch/delete: `/…/Messages/{MessageSid}.json`. */
const MESSAGE = /^\/2010-04-01\/Accounts\/[^/]+\/Messages\/[^/]+\.json$/;
const E164 = /^\+[1-9]\d{1,14}$/;
const PREFIX = /^\+?([1-9]\d{0,14})$/;

const FREE: CostEstimate = { kind: 'priced', amount: 0 };

/** `[digits, price]`, longest prefix first; a `null` price means "not priced here", as if unlisted. */
type Table = ReadonlyArray<readonly [string, Micros | null]>;

export interface TwilioPriceList {
  readonly smsDefault: Micros | null;
  readonly sms: Table;
  readonly mmsDefault: Micros | null;
  readonly mms: Table;
}

/**
 * Validates the options and merges each configured prefix table over the built-in one. Throws a `TypeError`
 * naming the field for an unknown option, a malformed prefix, a prefix given twice, or a price that is not a
 * non-negative integer number of micro-dollars.
 */
export function resolveTwilioPricing(options: TwilioPricing = {}): TwilioPriceList {
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) throw new TypeError(`TwilioPricing has no option "${name}"`);
  }
  const smsDefault = options.defaultSmsPerSegment ?? null;
  const mmsDefault = options.defaultMmsPerMessage ?? null;
  if (smsDefault !== null) checkPrice(smsDefault, 'defaultSmsPerSegment');
  if (mmsDefault !== null) checkPrice(mmsDefault, 'defaultMmsPerMessage');
  return {
    smsDefault,
    mmsDefault,
    sms: mergeTables(BUILT_IN_SMS_PER_SEGMENT, options.smsPerSegmentByPrefix, 'smsPerSegmentByPrefix'),
    mms: mergeTables(BUILT_IN_MMS_PER_MESSAGE, options.mmsPerMessageByPrefix, 'mmsPerMessageByPrefix'),
  };
}

/** True for the one call that sends (and so costs): POST …/Messages.json. */
export function isMessageCreate(request: VendorRequest): boolean {
  return request.method === 'POST' && MESSAGES.test(request.path);
}

/**
 * Prices a Twilio call. Reads and deletes are free; a message create costs segments × the destination's
 * per-segment price (SMS) or one MMS price when it carries media or `SendAsMms`. Any other POST may spend
 * (calls, verifications, lookups) and is refused, so nothing unpriced goes through for free; so is a create
 * from a content template (`ContentSid`), whose text the proxy cannot count.
 */
export function estimateTwilioCost(request: VendorRequest, prices: TwilioPriceList): CostEstimate {
  const { method, path } = request;
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE') return FREE;
  // Updating an existing message only redacts its body or cancels a scheduled send; it cannot send one.
  if (method === 'POST' && MESSAGE.test(path)) return FREE;
  if (!isMessageCreate(request)) return refused(`${method} ${path} is not priced`);

  const params = (request.params ?? {}) as Readonly<Record<string, unknown>>;
  const to = params.To;
  if (typeof to !== 'string' || !E164.test(to)) {
    return refused('This message needs a `To` number in E.164 form (+15551234567) to be priced');
  }
  if (params.ContentSid !== undefined) {
    return refused(
      'Messages from a content template (`ContentSid`) are not priced: the proxy cannot see their text, ' +
        'length or channel. Send the text in `Body` instead',
    );
  }
  const kind = messageKind(params);
  if (kind === 'MMS') return mmsCost(prices, to);
  const sms = smsCost(prices, to, params.Body);
  if (kind === 'SMS' || sms.kind !== 'priced') return sms;
  // An unclear SendAsMms: the dearer of the two, and refused if either is.
  const mms = mmsCost(prices, to);
  return mms.kind === 'priced' ? { kind: 'priced', amount: Math.max(sms.amount, mms.amount) } : mms;
}

/**
 * The cost a message-create response states: Twilio's `price` is a negative decimal string (`"-0.00750"`) once
 * the message is priced, `null` before. Parsed exactly; `null` when absent, not USD or unparsable.
 */
export function twilioResponseCost(request: VendorRequest, json: unknown): Micros | null {
  // A fetched message also carries a price, but the fetch itself is free: only the create is settled by it.
  if (!isMessageCreate(request) || typeof json !== 'object' || json === null) return null;
  const { price, price_unit: unit } = json as { price?: unknown; price_unit?: unknown };
  if (typeof price !== 'string' || (unit !== undefined && unit !== null && unit !== 'USD')) return null;
  try {
    return parseDecimal(price.trim().replace(/^-/, ''), 6, 'price');
  } catch {
    return null;
  }
}

/**
 * Twilio bills a create as MMS when it has a `MediaUrl`, or `SendAsMms` is true (then even without media).
 * `SendAsMms` is read as false only when it clearly is (`false`, any case); any other value than a clear `true`
 * is priced as whichever of SMS and MMS costs more, so a misread never reserves too little.
 */
function messageKind(params: Readonly<Record<string, unknown>>): 'SMS' | 'MMS' | 'SMS or MMS' {
  if (params.MediaUrl !== undefined) return 'MMS';
  const flag = params.SendAsMms;
  if (flag === undefined || isLiteral(flag, false)) return 'SMS';
  return isLiteral(flag, true) ? 'MMS' : 'SMS or MMS';
}

function isLiteral(value: unknown, literal: boolean): boolean {
  return value === literal || (typeof value === 'string' && value.trim().toLowerCase() === String(literal));
}

function mmsCost(prices: TwilioPriceList, to: string): CostEstimate {
  const { prefix, price } = lookup(prices.mms, prices.mmsDefault, to);
  return price === null ? unpriced('MMS', prefix) : { kind: 'priced', amount: price };
}

function smsCost(prices: TwilioPriceList, to: string, body: unknown): CostEstimate {
  if (body !== undefined && typeof body !== 'string')
    return refused('`Body` must be a single string to be priced');
  const { prefix, price } = lookup(prices.sms, prices.smsDefault, to);
  if (price === null) return unpriced('SMS', prefix);
  return { kind: 'priced', amount: countSmsSegments(body ?? '').segments * price };
}

/** The longest prefix entry matching `to`; the default when none does or the entry is `null`. */
function lookup(table: Table, fallback: Micros | null, to: string): { prefix: string; price: Micros | null } {
  const digits = to.slice(1);
  const entry = table.find(([prefix]) => digits.startsWith(prefix));
  return { prefix: `+${entry?.[0] ?? digits.slice(0, 3)}`, price: entry?.[1] ?? fallback };
}

function unpriced(kind: 'SMS' | 'MMS', prefix: string): CostEstimate {
  const setting = kind === 'SMS' ? 'SPENDGATE_TWILIO_SMS' : 'SPENDGATE_TWILIO_MMS';
  return refused(
    `No ${kind} price is configured for the destination ${prefix}…: add one for its prefix ` +
      `(${setting}_PRICES) or set ${setting}_USD to price every destination the price table does not list`,
  );
}

function refused(message: string): CostEstimate {
  return { kind: 'refused', message };
}

function mergeTables(
  builtIn: PriceTable,
  configured: Readonly<Record<string, Micros>> | undefined,
  field: string,
): Table {
  const merged = new Map<string, Micros | null>();
  for (const [prefix, price] of Object.entries(builtIn))
    merged.set(prefixDigits(prefix, 'built-in table'), price);
  const seen = new Set<string>();
  for (const [prefix, price] of Object.entries(configured ?? {})) {
    const digits = prefixDigits(prefix, field);
    if (seen.has(digits)) throw new TypeError(`${field}: the prefix +${digits} is given twice`);
    seen.add(digits);
    checkPrice(price, `${field}["${prefix}"]`);
    merged.set(digits, price);
  }
  return [...merged].sort((a, b) => b[0].length - a[0].length);
}

function prefixDigits(prefix: string, field: string): string {
  const digits = PREFIX.exec(prefix)?.[1];
  if (digits === undefined) throw new TypeError(`${field}: "${prefix}" is not an E.164 prefix such as "+44"`);
  return digits;
}

function checkPrice(value: Micros, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${field} must be a non-negative integer number of micro-dollars`);
  }
}
