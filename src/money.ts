import { spendgateError } from './errors/index.js';

/** Money inside spendgate is an integer number of micro-dollars (1 USD = 1,000,000). */
export type Micros = number;

export const MICROS_PER_USD = 1_000_000;

/**
 * The largest amount spendgate handles: $1,000,000,000. Up to here a micro-dollar count divided by 10^6 is a
 * double whose shortest form is the exact decimal, so amounts round-trip through JSON numbers unchanged.
 */
export const MAX_MICROS = 1_000_000_000_000_000;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * Parses a non-negative decimal amount (a JSON number or a string such as "0.1") into an exact integer.
 * JSON numbers are read through their shortest round-trip string, so `0.1` gives exactly 100000 micros,
 * never 99999.99999.
 *
 * @param scale the number of decimal places the integer unit has (6 for micros).
 */
export function parseDecimal(value: number | string, scale: number, field: string): number {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw spendgateError('bad_request', `${field} must be a finite number`, { param: field });
    text = numberToPlainString(value);
  } else {
    text = value.trim();
  }
  if (text.startsWith('-')) {
    throw spendgateError('bad_request', `${field} must not be negative`, { param: field });
  }
  const match = DECIMAL.exec(text);
  if (!match) throw spendgateError('bad_request', `${field} must be a decimal number`, { param: field });
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.replace(/0+$/, '').length > scale) {
    throw spendgateError('bad_request', `${field} has more than ${scale} decimal places`, { param: field });
  }
  const digits =
    BigInt(whole) * 10n ** BigInt(scale) + BigInt((fraction + '0'.repeat(scale)).slice(0, scale) || '0');
  if (digits > BigInt(Number.MAX_SAFE_INTEGER) || (scale === 6 && digits > BigInt(MAX_MICROS))) {
    throw spendgateError('bad_request', `${field} is too large`, { param: field });
  }
  return Number(digits);
}

/** USD decimal (JSON number or string) to micro-dollars, exactly. */
export function usdToMicros(value: number | string, field = 'amount'): Micros {
  return parseDecimal(value, 6, field);
}

/**
 * Micro-dollars to a JSON number of dollars. Integer division by 10^6 is correctly rounded, so up to
 * `MAX_MICROS` the shortest representation of the result is the exact decimal (100000 -> 0.1).
 */
export function microsToUsd(micros: Micros): number {
  return micros / MICROS_PER_USD;
}

/**
 * "$49.80" style text for human-readable messages: cents when the amount is whole cents, otherwise every
 * significant micro-dollar digit ("$0.0166"), so a message never contradicts itself by rounding.
 */
export function formatUsd(micros: Micros): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const dollars = Math.floor(abs / MICROS_PER_USD);
  const fraction = String(abs % MICROS_PER_USD).padStart(6, '0');
  const digits = fraction.endsWith('0000') ? fraction.slice(0, 2) : fraction.replace(/0+$/, '');
  return `${sign}$${dollars}.${digits}`;
}

function numberToPlainString(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  // 1e-7 and 1e21 style: expand through BigInt-free string arithmetic.
  const [mantissa = '0', exponentText = '0'] = text.toLowerCase().split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const [intPart = '0', fracPart = ''] = mantissa.replace('-', '').split('.');
  const digits = intPart + fracPart;
  const point = intPart.length + exponent;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${out}` : out;
}
