/** The shortest duration a setting or a TTL may have: below it a key would expire before its first call. */
export const MIN_DURATION_MS = 1000;

const UNIT_MS: Readonly<Record<string, number>> = {
  w: 604_800_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

const UNIT_ALIASES: Readonly<Record<string, string>> = {
  ms: 'ms',
  s: 's',
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  m: 'm',
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  h: 'h',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  d: 'd',
  day: 'd',
  days: 'd',
  w: 'w',
  week: 'w',
  weeks: 'w',
};

/** One `<number><unit>` part, matched where the previous one ended (sticky). */
const PART = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/.source;

export type DurationResult = { ok: true; ms: number } | { ok: false; reason: 'invalid' | 'too_short' };

/**
 * Parses a duration: `"90s"`, `"5m"`, `"1h"`, `"2d"`, compound forms such as `"1h30m"` or `"1m 30s"` (units
 * largest first, each once, so a typo like `"30m1h"` is refused rather than guessed), or a whole number of
 * seconds (a number or a digit string). Anything under one second is `too_short`.
 */
export function parseDuration(value: string | number): DurationResult {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value <= 0) return { ok: false, reason: 'invalid' };
    return { ok: true, ms: value * 1000 };
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return parseDuration(Number(text));
  const total = sumParts(text);
  if (total === null) return { ok: false, reason: 'invalid' };
  if (total < MIN_DURATION_MS) return { ok: false, reason: 'too_short' };
  return { ok: true, ms: total };
}

/** Milliseconds, or `null` for anything `parseDuration` refuses. */
export function parseDurationMs(value: string | number): number | null {
  const result = parseDuration(value);
  return result.ok ? result.ms : null;
}

function sumParts(text: string): number | null {
  if (text === '') return null;
  const part = new RegExp(PART, 'iy');
  let total = 0;
  let previousUnit = Infinity;
  while (part.lastIndex < text.length) {
    const match = part.exec(text);
    if (!match) return null;
    const unit = UNIT_ALIASES[(match[2] ?? '').toLowerCase()];
    const unitMs = unit === undefined ? undefined : UNIT_MS[unit];
    if (unitMs === undefined || unitMs >= previousUnit) return null;
    previousUnit = unitMs;
    total += Number(match[1]) * unitMs;
  }
  const rounded = Math.round(total);
  return Number.isSafeInteger(rounded) && rounded > 0 ? rounded : null;
}
