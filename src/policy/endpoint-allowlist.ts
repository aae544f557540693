import { spendgateError } from '../errors/index.js';
import { normalizePath } from './normalize-path.js';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']);

export interface EndpointRule {
  /** `null` matches any method. */
  readonly method: string | null;
  readonly segments: readonly string[];
}

/**
 * Parses `"METHOD /path"` or `"/path"`, where `*` is exactly one path segment and `**` any number of them
 * (zero included). Throws `bad_request` naming the entry, so a bad allowlist is refused at issue time.
 */
export function parseEndpointRule(entry: string): EndpointRule {
  const match = /^(?:([A-Za-z]+)\s+)?(\/\S*)$/.exec(entry.trim());
  const method = match?.[1]?.toUpperCase() ?? null;
  const path = match?.[2];
  if (!path || (method !== null && !METHODS.has(method))) {
    throw spendgateError('bad_request', `allowed_endpoints entry "${entry}" must look like "POST /v1/path"`, {
      param: 'allowed_endpoints',
    });
  }
  let normalized: string;
  try {
    normalized = normalizePath(path);
  } catch {
    throw spendgateError('bad_request', `allowed_endpoints entry "${entry}" is not a normalised path`, {
      param: 'allowed_endpoints',
    });
  }
  const segments = normalized.slice(1).split('/');
  if (segments.some((s) => s.includes('*') && s !== '*' && s !== '**')) {
    throw spendgateError('bad_request', `allowed_endpoints entry "${entry}" mixes * with other characters`, {
      param: 'allowed_endpoints',
    });
  }
  return { method, segments };
}

/** Whether a normalised path and method match any rule. */
export function isEndpointAllowed(rules: readonly EndpointRule[], method: string, path: string): boolean {
  const segments = path.slice(1).split('/');
  const upper = method.toUpperCase();
  return rules.some(
    (rule) =>
      (rule.method === null || rule.method === upper || (rule.method === 'GET' && upper === 'HEAD')) &&
      matchSegments(rule.segments, segments),
  );
}

/** Counts the inner steps of {@link matchSegments}, so a test can bound its work without a clock. */
export interface MatchCounter {
  steps: number;
}

/**
 * Whether path segments match pattern segments (`*` exactly one segment, `**` any number, zero included, anything
 * else that literal segment). Dynamic programming over (pattern index, path index) instead of backtracking: one
 * pass per pattern segment over a row of path positions, so the work is at most (pattern + 1) × (path + 1)
 * steps whatever the number of `**`, where the recursive version was exponential in it.
 *
 * `reachable[j]` says whether the pattern segments seen so far can consume exactly the first `j` path segments.
 *
 * @internal Exported for its tests.
 */
export function matchSegments(
  pattern: readonly string[],
  path: readonly string[],
  counter?: MatchCounter,
): boolean {
  const n = path.length;
  let reachable = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  reachable[0] = 1;
  for (const segment of pattern) {
    let any = false;
    if (segment === '**') {
      // Zero or more segments: position j is reachable if any position k <= j was.
      let seen = 0;
      for (let j = 0; j <= n; j += 1) {
        if (counter) counter.steps += 1;
        seen |= reachable[j] ?? 0;
        next[j] = seen;
      }
      any = seen === 1;
    } else {
      // Exactly one segment, `*` or equal to this one.
      next[0] = 0;
      for (let j = 1; j <= n; j += 1) {
        if (counter) counter.steps += 1;
        const hit = reachable[j - 1] === 1 && (segment === '*' || segment === path[j - 1]);
        next[j] = hit ? 1 : 0;
        any ||= hit;
      }
    }
    if (!any) return false;
    [reachable, next] = [next, reachable];
  }
  return reachable[n] === 1;
}
