import { parseDecimal, type Micros } from '../../money.js';
import type { CostEstimate, VendorRequest } from '../types.js';
import { countSmsSegments } from './segments.js';

/**
 * What Twilio messages cost, in USD micro-dollars. Prices differ a lot by destination (a UK SMS costs several
 * times a US one), so configure `smsPerSegmentByPrefix` for the countries an agent may text, or set
 * `defaultSmsPerSegment: null` to refuse every destination the table does not list.
 */
export interface TwilioPricing {
  /**
   * Per-segment SMS price for destinations no prefix entry matches; `null` refuses them (fail closed).
   * Default 8300 ($0.0083): Twilio's published US long-code rate, https://www.twilio.com/en-us/sms/pricing/us
   */
  readonly defaultSmsPerSegment?: Micros | null;
  /** Per-segment SMS prices keyed by E.164 prefix, with or without `+` (`{ '+44': 52000 }`). Longest prefix wins. */
  readonly smsPerSegmentByPrefix?: Readonly<Record<string, Micros>>;
  /**
   * Per-message MMS price (any `MediaUrl`) for destinations no prefix entry matches; `null` refuses them.
   * Default 22000 ($0.022, US outbound MMS, same source).
   */
  readonly defaultMmsPerMessage?: Micros | null;
  /** Per-message MMS prices keyed by E.164 prefix. Longest prefix wins. */
  readonly mmsPerMessageByPrefix?: Readonly<Record<string, Micros>>;
}

export const DEFAULT_SMS_PER_SEGMENT_MICROS: Micros = 8300;
export const DEFAULT_MMS_PER_MESSAGE_MICROS: Micros = 22000;

/** A message create: `/2010-04-01/Accounts/{sid}/Messages.json`. */
const MESSAGES = /^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/;
/** Update (redact or cancel a scheduled message) or fetch/delete: `/…/Messages/{MessageSid}.json`. */
const MESSAGE = /^\/2010-04-01\/Accounts\/[^/]+\/Messages\/[^/]+\.json$/;
const E164 = /^\+[1-9]\d{1,14}$/;

const FREE: CostEstimate = { kind: 'priced', amount: 0 };

type Table = ReadonlyArray<readonly [string, Micros]>;

export interface TwilioPriceList {
  readonly smsDefault: Micros | null;
  readonly sms: Table;
  readonly mmsDefault: Micros | null;
  readonly mms: Table;
}

/** Validates the options and sorts each prefix table longest first. Throws on a negative or fractional price. */
export function resolveTwilioPricing(options: TwilioPricing = {}): TwilioPriceList {
  const smsDefault =
    options.defaultSmsPerSegment === undefined
      ? DEFAULT_SMS_PER_SEGMENT_MICROS
      : options.defaultSmsPerSegment;
  const mmsDefault =
    options.defaultMmsPerMessage === undefined
      ? DEFAULT_MMS_PER_MESSAGE_MICROS
      : options.defaultMmsPerMessage;
  if (smsDefault !== null) checkPrice(smsDefault, 'defaultSmsPerSegment');
  if (mmsDefault !== null) checkPrice(mmsDefault, 'defaultMmsPerMessage');
  return {
    smsDefault,
    mmsDefault,
    sms: prefixTable(options.smsPerSegmentByPrefix ?? {}, 'smsPerSegmentByPrefix'),
    mms: prefixTable(options.mmsPerMessageByPrefix ?? {}, 'mmsPerMessageByPrefix'),
  };
}

/** True for the one call that sends (and so costs): POST …/Messages.json. */
export function isMessageCreate(request: VendorRequest): boolean {
  return request.method === 'POST' && MESSAGES.test(request.path);
}

/**
 * Prices a Twilio call. Reads and deletes are free; a message create costs segments × the destination's
 * per-segment price (SMS) or one MMS price when it carries media. Any other POST may spend (calls, verifications,
 * lookups) and is refused, so nothing unpriced goes through for free.
 */
export function estimateTwilioCost(request: VendorRequest, prices: TwilioPriceList): CostEstimate {
  const { method, path } = request;
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE') return FREE;
  // Updating an existing message only redacts its body or cancels a scheduled send; it cannot send one.
  if (method === 'POST' && MESSAGE.test(path)) return FREE;
  if (!isMessageCreate(request)) return { kind: 'refused', message: `${method} ${path} is not priced` };

  const params = (request.params ?? {}) as Readonly<Record<string, unknown>>;
  const to = params.To;
  if (typeof to !== 'string' || !E164.test(to)) {
    return {
      kind: 'refused',
      message: 'This message needs a `To` number in E.164 form (+15551234567) to be priced',
    };
  }
  if (params.MediaUrl !== undefined) {
    const price = lookup(prices.mms, prices.mmsDefault, to);
    return price === null ? unpricedDestination('MMS', to) : { kind: 'priced', amount: price };
  }
  const body = params.Body ?? '';
  if (typeof body !== 'string')
    return { kind: 'refused', message: '`Body` must be a single string to be priced' };
  if (params.Body === undefined && params.ContentSid !== undefined) {
    return { kind: 'refused', message: 'Content-template messages (ContentSid) are not priced' };
  }
  const price = lookup(prices.sms, prices.smsDefault, to);
  if (price === null) return unpricedDestination('SMS', to);
  return { kind: 'priced', amount: countSmsSegments(body).segments * price };
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

function lookup(table: Table, fallback: Micros | null, to: string): Micros | null {
  const digits = to.slice(1);
  return table.find(([prefix]) => digits.startsWith(prefix))?.[1] ?? fallback;
}

function unpricedDestination(kind: 'SMS' | 'MMS', to: string): CostEstimate {
  return {
    kind: 'refused',
    message: `No ${kind} price is configured for the destination ${to.slice(0, 4)}…`,
  };
}

function prefixTable(entries: Readonly<Record<string, Micros>>, field: string): Table {
  return Object.entries(entries)
    .map(([prefix, price]): readonly [string, Micros] => {
      const digits = prefix.replace(/^\+/, '');
      if (!/^\d{1,15}$/.test(digits)) throw new TypeError(`${field}: "${prefix}" is not an E.164 prefix`);
      checkPrice(price, `${field}["${prefix}"]`);
      return [digits, price];
    })
    .sort((a, b) => b[0].length - a[0].length);
}

function checkPrice(value: Micros, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${field} must be a non-negative integer number of micro-dollars`);
  }
}
