import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_MMS_PER_MESSAGE,
  BUILT_IN_SMS_PER_SEGMENT,
  NANP_OUTSIDE_US_AND_CANADA,
} from '../../src/vendors/twilio/price-table.js';
import { createTwilioVendor, type TwilioPricing } from '../../src/vendors/twilio/index.js';
import type { CostEstimate } from '../../src/vendors/types.js';
import { messageCreate } from '../helpers/twilio-request.js';

function estimate(params: Record<string, unknown>, options: TwilioPricing = {}): CostEstimate {
  return createTwilioVendor(options).estimateCost(messageCreate(params), { fxRates: {} });
}

const text = (To: string, Body = 'hi', options: TwilioPricing = {}) => estimate({ To, Body }, options);
const priced = (amount: number): CostEstimate => ({ kind: 'priced', amount });
const refusedSms = (prefix: string): CostEstimate => ({
  kind: 'refused',
  message:
    `No SMS price is configured for the destination ${prefix}…: add one for its prefix ` +
    '(SPENDGATE_TWILIO_SMS_PRICES) or set SPENDGATE_TWILIO_SMS_USD to price every destination the price ' +
    'table does not list',
});

/** Twilio's published list prices (2026) the table must be at or above, in micro-dollars per segment. */
const LIST_FLOORS: Readonly<Record<string, number>> = { '+1': 8_300, '+44': 52_400 };
const EU_STATES: Readonly<Record<string, string>> = {
  AT: '+43',
  BE: '+32',
  BG: '+359',
  HR: '+385',
  CY: '+357',
  CZ: '+420',
  DK: '+45',
  EE: '+372',
  FI: '+358',
  FR: '+33',
  DE: '+49',
  GR: '+30',
  HU: '+36',
  IE: '+353',
  IT: '+39',
  LV: '+371',
  LT: '+370',
  LU: '+352',
  MT: '+356',
  NL: '+31',
  PL: '+48',
  PT: '+351',
  RO: '+40',
  SK: '+421',
  SI: '+386',
  ES: '+34',
  SE: '+46',
};

describe('Twilio built-in price table', () => {
  it('prices the US and Canada, the UK and all 27 EU states, at or above the list prices', () => {
    expect(Object.keys(EU_STATES)).toHaveLength(27);
    for (const [prefix, floor] of Object.entries(LIST_FLOORS)) {
      expect(BUILT_IN_SMS_PER_SEGMENT[prefix]).toBeGreaterThanOrEqual(floor);
    }
    for (const prefix of Object.values(EU_STATES)) {
      // EU list prices are mostly $0.04–$0.12 a segment: no ceiling may sit below the bottom of that range.
      expect(BUILT_IN_SMS_PER_SEGMENT[prefix], prefix).toBeGreaterThanOrEqual(40_000);
    }
    expect(BUILT_IN_MMS_PER_MESSAGE['+1']).toBeGreaterThanOrEqual(22_000);
  });

  it('charges the table price per segment', () => {
    expect(text('+15558675310')).toEqual(priced(8_300));
    expect(text('+14165550123')).toEqual(priced(8_300)); // Toronto
    expect(text('+447911123456')).toEqual(priced(70_000)); // GB
    expect(text('+442071838750', 'a'.repeat(161))).toEqual(priced(140_000));
    expect(text('+4915112345678')).toEqual(priced(140_000)); // DE
    expect(text('+33612345678')).toEqual(priced(110_000)); // FR
    expect(text('+35988123456')).toEqual(priced(190_000)); // BG, not +35 (no such code) or +3
    expect(text('+35312345678')).toEqual(priced(110_000)); // IE
  });

  it('refuses a destination no entry prices, naming the settings that would price it', () => {
    expect(text('+81312345678')).toEqual(refusedSms('+813'));
    expect(text('+61412345678')).toEqual(refusedSms('+614'));
  });

  it('does not price the non-US NANP countries at the US rate: they are refused by default', () => {
    expect(NANP_OUTSIDE_US_AND_CANADA).toHaveLength(21);
    expect(text('+18765550123')).toEqual(refusedSms('+1876')); // Jamaica
    for (const prefix of NANP_OUTSIDE_US_AND_CANADA) {
      expect(text(`${prefix}5550123`)).toEqual(refusedSms(prefix));
      expect(estimate({ To: `${prefix}5550123`, MediaUrl: 'https://x/a.png' })).toMatchObject({
        kind: 'refused',
      });
    }
  });

  it('prices the US territories at the US rate', () => {
    for (const area of ['340', '670', '671', '684', '787', '939']) {
      expect(text(`+1${area}5550123`)).toEqual(priced(8_300));
    }
  });
});

describe('Twilio prices from configuration, over the built-in table', () => {
  it('opts in to a price for unlisted destinations with defaultSmsPerSegment (SPENDGATE_TWILIO_SMS_USD)', () => {
    const options = { defaultSmsPerSegment: 150_000 };
    expect(text('+81312345678', 'hi', options)).toEqual(priced(150_000));
    // A Caribbean number is unpriced in the table, so the opted-in default applies to it too…
    expect(text('+18765550123', 'hi', options)).toEqual(priced(150_000));
    // …but never to a destination the table prices.
    expect(text('+15558675310', 'hi', options)).toEqual(priced(8_300));
    expect(text('+447911123456', 'hi', options)).toEqual(priced(70_000));
  });

  it('lets a configured prefix beat the built-in one, and the longest prefix win across both', () => {
    const options = {
      smsPerSegmentByPrefix: { '+44': 52_400, '+1876': 120_000, '+4479': 60_000, '+1': 9_000 },
    };
    expect(text('+442071838750', 'hi', options)).toEqual(priced(52_400));
    expect(text('+447911123456', 'hi', options)).toEqual(priced(60_000));
    expect(text('+18765550123', 'hi', options)).toEqual(priced(120_000));
    expect(text('+15558675310', 'hi', options)).toEqual(priced(9_000));
    // The built-in +1809 (Dominican Republic, unpriced) is longer than the configured +1: still refused.
    expect(text('+18095550123', 'hi', options)).toEqual(refusedSms('+1809'));
    // Countries the configuration does not mention keep their built-in price.
    expect(text('+33612345678', 'hi', options)).toEqual(priced(110_000));
  });

  it('extends the table with new countries, which then beat the default', () => {
    const options = { smsPerSegmentByPrefix: { '81': 90_000 }, defaultSmsPerSegment: 200_000 };
    expect(text('+81312345678', 'hi', options)).toEqual(priced(90_000));
    expect(text('+61412345678', 'hi', options)).toEqual(priced(200_000));
  });
});
