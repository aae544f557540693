import ms from 'ms';

/**
 * Parses a TTL such as `"90s"`, `"5m"`, `"1h"`, `"2d"`, or a number of seconds (as a number or a digit
 * string), into milliseconds. Returns `null` for anything else, including zero and negative values.
 */
export function parseDurationMs(value: string | number): number | null {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value > 0 ? value * 1000 : null;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return parseDurationMs(Number(text));
  if (
    !/^\d+(\.\d+)?\s*(ms|s|m|h|d|w|sec|secs|second|seconds|min|mins|minute|minutes|hr|hrs|hour|hours|day|days)$/i.test(
      text,
    )
  ) {
    return null;
  }
  const parsed = ms(text as ms.StringValue);
  return typeof parsed === 'number' && Number.isFinite(parsed) && parsed > 0 ? Math.round(parsed) : null;
}
