import { spendgateError } from './errors/index.js';
import type { Micros } from './money.js';

/**
 * Stripe's zero-decimal currencies: the amount is in whole units (JPY 500 is `500`).
 * Source: https://docs.stripe.com/currencies#zero-decimal
 */
export const ZERO_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);

/**
 * Three-decimal currencies: the amount is in thousandths (KWD 1.000 is `1000`).
 * Source: https://docs.stripe.com/currencies#three-decimal
 */
export const THREE_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

const ISO_CODE = /^[a-z]{3}$/;

/** How many minor-unit digits an amount in this currency carries. */
export function currencyExponent(currency: string): 0 | 2 | 3 {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL_CURRENCIES.has(code)) return 0;
  if (THREE_DECIMAL_CURRENCIES.has(code)) return 3;
  return 2;
}

/** USD value of one major unit of each currency, in micro-dollars (EUR at 1.08 USD is 1_080_000). */
export type FxRates = Readonly<Record<string, Micros>>;

/**
 * Converts a vendor amount in minor units to micro-dollars, rounding up so a cap is never understated.
 * USD needs no rate; every other currency needs a configured one, or the call cannot be priced.
 */
export function minorUnitsToMicros(options: {
  readonly amount: number;
  readonly currency: string;
  readonly fxRates: FxRates;
}): Micros {
  const { amount, fxRates } = options;
  const currency = options.currency.toLowerCase();
  if (!ISO_CODE.test(currency)) {
    throw spendgateError('cost_unknown', `Unrecognised currency "${options.currency}"`);
  }
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw spendgateError('cost_unknown', 'The amount must be a non-negative integer in minor units');
  }
  const rate = currency === 'usd' ? 1_000_000 : fxRates[currency];
  if (rate === undefined) {
    throw spendgateError(
      'cost_unknown',
      `No exchange rate is configured for ${currency.toUpperCase()}, so this call cannot be priced`,
      { currency },
    );
  }
  const divisor = 10n ** BigInt(currencyExponent(currency));
  const numerator = BigInt(amount) * BigInt(rate);
  const micros = (numerator + divisor - 1n) / divisor;
  if (micros > BigInt(Number.MAX_SAFE_INTEGER))
    throw spendgateError('cost_unknown', 'The amount is too large');
  return Number(micros);
}
