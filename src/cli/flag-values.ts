import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../duration.js';
import { usdToMicros } from '../money.js';

/** Commander's repeatable-flag collector: `--endpoint a --endpoint b`. */
export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

/** A USD amount, exact to the micro-dollar, kept as the number the admin API takes. */
export function usdArg(value: string): number {
  try {
    return usdToMicros(value) / 1_000_000;
  } catch {
    throw new InvalidArgumentError('must be a USD amount such as 50 or 0.25');
  }
}

/** `--metadata k=v` (repeatable) into an object. */
export function metadataArg(
  value: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('must be key=value');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/**
 * A TTL checked with the proxy's own parser before anything is sent. Whole seconds go as a number, which
 * every proxy version reads; only a sub-second remainder needs the compound text.
 */
export function ttlArg(value: string): string | number {
  const parsed = parseDuration(value);
  if (!parsed.ok) {
    throw new InvalidArgumentError(
      parsed.reason === 'too_short'
        ? 'must be at least 1 s'
        : 'must be a duration such as 30m or 1h30m, or a whole number of seconds',
    );
  }
  return parsed.ms % 1000 === 0 ? parsed.ms / 1000 : value.trim();
}

export function positiveIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

/** `--since 1h` (that long ago) or an ISO date/time, as the audit query takes it. */
export function instantArg(value: string): string {
  const ago = parseDuration(value);
  if (ago.ok && !/^\d+$/.test(value.trim())) return new Date(Date.now() - ago.ms).toISOString();
  if (Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('must be an ISO 8601 date/time or a duration ago such as 1h');
  }
  return value;
}
