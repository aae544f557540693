import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isEndpointAllowed,
  matchSegments,
  parseEndpointRule,
  type MatchCounter,
} from '../../src/policy/endpoint-allowlist.js';

const split = (path: string): string[] => path.slice(1).split('/');

/** The matcher before the rewrite: plain backtracking, exponential with several `**`. Fine on small inputs. */
function backtracking(pattern: readonly string[], pi: number, path: readonly string[], si: number): boolean {
  if (pi === pattern.length) return si === path.length;
  const segment = pattern[pi];
  if (segment === '**') {
    for (let k = si; k <= path.length; k += 1) if (backtracking(pattern, pi + 1, path, k)) return true;
    return false;
  }
  if (si === path.length) return false;
  if (segment !== '*' && segment !== path[si]) return false;
  return backtracking(pattern, pi + 1, path, si + 1);
}

// An independent reference: each segment becomes `text/`, `*` one unknown segment, `**` any number of them.
function viaRegExp(pattern: readonly string[], path: readonly string[]): boolean {
  // The generated segments are letters or empty, so a literal needs no escaping.
  const parts = pattern.map((s) => (s === '**' ? '(?:[^/]*/)*' : s === '*' ? '[^/]*/' : s + '/'));
  const text = path.map((s) => s + '/').join('');
  return new RegExp('^' + parts.join('') + '$').test(text);
}

describe('matchSegments semantics', () => {
  it.each([
    ['/v1/a', '/v1/a', true],
    ['/v1/a', '/v1/b', false],
    ['/v1/a', '/v1/a/b', false],
    ['/v1/*', '/v1/a', true],
    ['/v1/*', '/v1', false],
    ['/v1/*', '/v1/a/b', false],
    ['/v1/**', '/v1', true],
    ['/v1/**', '/v1/a', true],
    ['/v1/**', '/v1/a/b/c', true],
    ['/v1/**', '/v2/a', false],
    ['/**', '/', true],
    ['/**', '/anything/at/all', true],
    ['/**/z', '/z', true],
    ['/**/z', '/a/b/z', true],
    ['/**/z', '/a/b/z/c', false],
    ['/v1/**/confirm', '/v1/confirm', true],
    ['/v1/**/confirm', '/v1/payment_intents/pi_1/confirm', true],
    ['/v1/**/*/confirm', '/v1/confirm', false],
    ['/v1/**/*/confirm', '/v1/pi_1/confirm', true],
    ['/**/a/**/b', '/a/b', true],
    ['/**/a/**/b', '/b/a', false],
    ['/**/a/**/b', '/x/a/y/z/b', true],
    ['/**/**', '/', true],
    ['/**/**', '/a/b', true],
    ['/*/**/*', '/a', false],
    ['/*/**/*', '/a/b', true],
  ] as const)('%s against %s → %s', (pattern, path, expected) => {
    expect(matchSegments(split(pattern), split(path))).toBe(expected);
    expect(backtracking(split(pattern), 0, split(path), 0)).toBe(expected);
  });

  it('keeps the method rules: a GET rule also allows HEAD, a method-less rule any method', () => {
    const rules = ['GET /v1/**/charges/*', '/v1/customers/**'].map(parseEndpointRule);
    expect(isEndpointAllowed(rules, 'GET', '/v1/x/y/charges/ch_1')).toBe(true);
    expect(isEndpointAllowed(rules, 'HEAD', '/v1/charges/ch_1')).toBe(true);
    expect(isEndpointAllowed(rules, 'POST', '/v1/charges/ch_1')).toBe(false);
    expect(isEndpointAllowed(rules, 'DELETE', '/v1/customers/cus_1')).toBe(true);
    expect(isEndpointAllowed([parseEndpointRule('HEAD /v1/charges')], 'GET', '/v1/charges')).toBe(false);
  });

  it('agrees with the backtracking matcher and a RegExp reference on small inputs', () => {
    const pattern = fc.array(fc.constantFrom('a', 'b', '', '*', '**'), { maxLength: 7 });
    const path = fc.array(fc.constantFrom('a', 'b', 'c', ''), { maxLength: 9 });
    fc.assert(
      fc.property(pattern, path, (p, s) => {
        const expected = viaRegExp(p, s);
        expect(backtracking(p, 0, s, 0)).toBe(expected);
        expect(matchSegments(p, s)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('matchSegments worst case', () => {
  // Nine `**` between literals the path is full of, and a last literal it never has: backtracking tries every
  // way to split 1,260 segments into nine runs before giving up.
  const pattern = split('/**/a/**/b/**/c/**/d/**/e/**/f/**/g/**/h/**/z');
  const path = Array.from({ length: 1260 }, (_, i) => 'abcdefgh'[i % 8] as string);

  it('does at most (pattern + 1) × (path + 1) steps on a non-matching path', () => {
    expect(pattern.filter((s) => s === '**')).toHaveLength(9);
    const counter: MatchCounter = { steps: 0 };
    expect(matchSegments(pattern, path, counter)).toBe(false);
    expect(counter.steps).toBeGreaterThan(0);
    expect(counter.steps).toBeLessThanOrEqual((pattern.length + 1) * (path.length + 1));
  });

  it('does at most (pattern + 1) × (path + 1) steps on a matching one', () => {
    const counter: MatchCounter = { steps: 0 };
    expect(matchSegments(pattern, [...path, 'z'], counter)).toBe(true);
    expect(counter.steps).toBeLessThanOrEqual((pattern.length + 1) * (path.length + 2));
  });

  it('answers through isEndpointAllowed for a 1,260-segment request path', () => {
    const rules = [parseEndpointRule(`POST /${pattern.join('/')}`)];
    expect(isEndpointAllowed(rules, 'POST', `/${path.join('/')}`)).toBe(false);
    expect(isEndpointAllowed(rules, 'POST', `/${path.join('/')}/z`)).toBe(true);
  });
});
