import { describe, expect, it } from 'vitest';
import { parseDuration, parseDurationMs } from '../../src/duration.js';

describe('the one duration parser', () => {
  it.each([
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['2d12h', 216_000_000],
    ['1m30s', 90_000],
    ['1s500ms', 1_500],
    ['1.5h', 5_400_000],
    ['1w', 604_800_000],
    ['10 minutes', 600_000],
    ['1000ms', 1_000],
    ['1', 1_000],
    [1, 1_000],
  ] as const)('%s → %d ms', (input, expected) => {
    expect(parseDurationMs(input)).toBe(expected);
  });

  it.each(['500ms', '999ms', '0.5s'])('%s is too short', (input) => {
    expect(parseDuration(input)).toEqual({ ok: false, reason: 'too_short' });
  });

  it.each(['30m1h', '1h1h', '1h30', 'h', '1x', '0s', '-1h', '1h-30m', '1e3s'])('%s is invalid', (input) => {
    expect(parseDuration(input)).toEqual({ ok: false, reason: 'invalid' });
  });
});
