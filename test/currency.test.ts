import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currencyExponent,
  minorUnitsToMicros,
  THREE_DECIMAL_CURRENCIES,
  ZERO_DECIMAL_CURRENCIES,
} from '../src/currency.js';
import { SpendgateError } from '../src/errors/index.js';

// Stripe's lists: https://docs.stripe.com/currencies#zero-decimal and #three-decimal
const ZERO_DECIMAL = [
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
];
const THREE_DECIMAL = ['BHD', 'JOD', 'KWD', 'OMR', 'TND'];
const TWO_DECIMAL = [
  'USD',
  'EUR',
  'GBP',
  'CAD',
  'AUD',
  'CHF',
  'CNY',
  'INR',
  'MXN',
  'BRL',
  'SEK',
  'NOK',
  'DKK',
  'NZD',
  'SGD',
  'HKD',
  'ZAR',
  'PLN',
  'AED',
  'ILS',
];

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
  } catch (err) {
    return SpendgateError.isInstance(err) ? err.code : 'not a SpendgateError';
  }
  return null;
}

describe('currency exponents', () => {
  it.each(ZERO_DECIMAL)('%s is zero-decimal', (code) => {
    expect(currencyExponent(code)).toBe(0);
    expect(currencyExponent(code.toLowerCase())).toBe(0);
  });

  it.each(THREE_DECIMAL)('%s is three-decimal', (code) => {
    expect(currencyExponent(code)).toBe(3);
    expect(currencyExponent(code.toLowerCase())).toBe(3);
  });

  it.each(TWO_DECIMAL)('%s has two decimals', (code) => {
    expect(currencyExponent(code)).toBe(2);
    expect(currencyExponent(code.toLowerCase())).toBe(2);
  });

  it('holds exactly the listed special currencies', () => {
    expect([...ZERO_DECIMAL_CURRENCIES].sort()).toEqual(ZERO_DECIMAL.map((c) => c.toLowerCase()).sort());
    expect([...THREE_DECIMAL_CURRENCIES].sort()).toEqual(THREE_DECIMAL.map((c) => c.toLowerCase()).sort());
  });
});

describe('minorUnitsToMicros', () => {
  it('reads USD cents without a rate', () => {
    expect(minorUnitsToMicros({ amount: 2000, currency: 'usd', fxRates: {} })).toBe(20_000_000);
    expect(minorUnitsToMicros({ amount: 1, currency: 'USD', fxRates: {} })).toBe(10_000);
    expect(minorUnitsToMicros({ amount: 0, currency: 'usd', fxRates: {} })).toBe(0);
  });

  it('reads JPY 500 as 500 whole yen at the configured rate', () => {
    // 1 JPY = $0.0067 = 6700 micros.
    expect(minorUnitsToMicros({ amount: 500, currency: 'jpy', fxRates: { jpy: 6_700 } })).toBe(3_350_000);
    expect(minorUnitsToMicros({ amount: 500, currency: 'JPY', fxRates: { jpy: 6_700 } })).toBe(3_350_000);
  });

  it('reads KWD 1000 as 1 KWD (thousandths)', () => {
    expect(minorUnitsToMicros({ amount: 1000, currency: 'kwd', fxRates: { kwd: 3_250_000 } })).toBe(
      3_250_000,
    );
    expect(minorUnitsToMicros({ amount: 1, currency: 'kwd', fxRates: { kwd: 3_250_000 } })).toBe(3_250);
  });

  it('converts EUR cents at the configured rate', () => {
    expect(minorUnitsToMicros({ amount: 1000, currency: 'eur', fxRates: { eur: 1_080_000 } })).toBe(
      10_800_000,
    );
  });

  it('refuses a currency without a configured rate with cost_unknown', () => {
    expect(codeOf(() => minorUnitsToMicros({ amount: 1000, currency: 'eur', fxRates: {} }))).toBe(
      'cost_unknown',
    );
    expect(codeOf(() => minorUnitsToMicros({ amount: 500, currency: 'jpy', fxRates: { eur: 1 } }))).toBe(
      'cost_unknown',
    );
  });

  it('refuses malformed currencies and amounts with cost_unknown', () => {
    expect(codeOf(() => minorUnitsToMicros({ amount: 1, currency: 'us', fxRates: {} }))).toBe('cost_unknown');
    expect(codeOf(() => minorUnitsToMicros({ amount: 1, currency: 'usd1', fxRates: {} }))).toBe(
      'cost_unknown',
    );
    expect(codeOf(() => minorUnitsToMicros({ amount: -1, currency: 'usd', fxRates: {} }))).toBe(
      'cost_unknown',
    );
    expect(codeOf(() => minorUnitsToMicros({ amount: 1.5, currency: 'usd', fxRates: {} }))).toBe(
      'cost_unknown',
    );
    expect(
      codeOf(() => minorUnitsToMicros({ amount: Number.MAX_SAFE_INTEGER, currency: 'usd', fxRates: {} })),
    ).toBe('cost_unknown');
  });

  it('rounds up, so a cap is never understated', () => {
    // 1 euro cent at $1.080001 = 10800.01 micros → 10801.
    expect(minorUnitsToMicros({ amount: 1, currency: 'eur', fxRates: { eur: 1_080_001 } })).toBe(10_801);
    // 1 fils at $3.250001 = 3250.001 micros → 3251.
    expect(minorUnitsToMicros({ amount: 1, currency: 'kwd', fxRates: { kwd: 3_250_001 } })).toBe(3_251);
    // Exact results are not bumped.
    expect(minorUnitsToMicros({ amount: 100, currency: 'eur', fxRates: { eur: 1_080_001 } })).toBe(1_080_001);
  });

  it('is never below the exact value and less than one micro above it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 99_999_999 }),
        fc.constantFrom('usd', 'eur', 'jpy', 'kwd'),
        fc.integer({ min: 1, max: 10_000_000 }),
        (amount, currency, rate) => {
          const micros = minorUnitsToMicros({
            amount,
            currency,
            fxRates: { eur: rate, jpy: rate, kwd: rate },
          });
          const scale = 10n ** BigInt(currencyExponent(currency));
          const exact = BigInt(amount) * BigInt(currency === 'usd' ? 1_000_000 : rate);
          expect(Number.isSafeInteger(micros)).toBe(true);
          expect(BigInt(micros) * scale >= exact).toBe(true);
          expect((BigInt(micros) - 1n) * scale < exact).toBe(true);
        },
      ),
    );
  });
});
