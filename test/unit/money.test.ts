import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatUsd, MAX_MICROS, microsToUsd, usdToMicros } from '../../src/money.js';
import { parseDurationMs } from '../../src/duration.js';

describe('money', () => {
  it('parses JSON numbers and strings exactly', () => {
    expect(usdToMicros(0.1)).toBe(100_000);
    expect(usdToMicros(0.3)).toBe(300_000);
    expect(usdToMicros('0.000001')).toBe(1);
    expect(usdToMicros(50)).toBe(50_000_000);
    expect(usdToMicros(1e-6)).toBe(1);
    expect(usdToMicros('12.3400000')).toBe(12_340_000);
    expect(usdToMicros(0)).toBe(0);
    expect(usdToMicros('1000000000')).toBe(MAX_MICROS);
  });

  it('refuses negatives, sub-micro precision, non-numbers and huge values', () => {
    for (const bad of [-1, '-0.01', 0.0000001, '1e3', 'abc', '', Infinity, NaN, 1e16, '1000000000.000001']) {
      expect(() => usdToMicros(bad as number)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
  });

  it('round-trips every micro-dollar amount through its JSON number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MICROS }), (micros) => {
        const usd = microsToUsd(micros);
        expect(usdToMicros(JSON.parse(JSON.stringify(usd)) as number)).toBe(micros);
      }),
    );
  });

  it('formats for messages in cents, or exactly below a cent', () => {
    expect(formatUsd(49_800_000)).toBe('$49.80');
    expect(formatUsd(1)).toBe('$0.000001');
    expect(formatUsd(16_600)).toBe('$0.0166');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(1_234_500_000)).toBe('$1234.50');
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['30m', 1_800_000],
    ['1h', 3_600_000],
    [600, 600_000],
    ['600', 600_000],
  ] as const)('%s → %d ms', (input, expected) => {
    expect(parseDurationMs(input)).toBe(expected);
  });

  it.each(['soon', '', '-5m', '0', 0, -3, 1.5, '5 parsecs'])('refuses %s', (input) => {
    expect(parseDurationMs(input)).toBeNull();
  });
});
