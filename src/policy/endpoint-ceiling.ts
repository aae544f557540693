import type { EndpointRule } from './endpoint-allowlist.js';

/**
 * Whether every call `rule` allows is also allowed by `ceiling`: the method is the same or the ceiling
 * names none, and the ceiling's path pattern covers the rule's. A rule's `*` is covered only by a ceiling
 * `*` or `**`, and its `**` only by a ceiling `**`, so the check is conservative: it never says yes to a
 * rule that allows a path the ceiling does not.
 */
export function ruleWithin(rule: EndpointRule, ceiling: EndpointRule): boolean {
  if (ceiling.method !== null && ceiling.method !== rule.method) return false;
  return patternCovers(ceiling.segments, rule.segments);
}

/** Whether each of `rules` is within one of `ceilings`. */
export function rulesWithin(rules: readonly EndpointRule[], ceilings: readonly EndpointRule[]): boolean {
  return rules.every((rule) => ceilings.some((ceiling) => ruleWithin(rule, ceiling)));
}

/**
 * Dynamic programming over (ceiling index, rule index), as in `matchSegments`: `reachable[j]` says whether
 * the ceiling segments seen so far can cover exactly the first `j` rule segments.
 */
function patternCovers(ceiling: readonly string[], rule: readonly string[]): boolean {
  const n = rule.length;
  let reachable = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  reachable[0] = 1;
  for (const segment of ceiling) {
    if (segment === '**') {
      let seen = 0;
      for (let j = 0; j <= n; j += 1) {
        seen |= reachable[j] ?? 0;
        next[j] = seen;
      }
    } else {
      next[0] = 0;
      for (let j = 1; j <= n; j += 1) {
        const token = rule[j - 1];
        const covered = segment === '*' ? token !== '**' : token === segment;
        next[j] = reachable[j - 1] === 1 && covered ? 1 : 0;
      }
    }
    [reachable, next] = [next, reachable];
  }
  return reachable[n] === 1;
}
