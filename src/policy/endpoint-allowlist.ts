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
      matchSegments(rule.segments, 0, segments, 0),
  );
}

function matchSegments(pattern: readonly string[], pi: number, path: readonly string[], si: number): boolean {
  if (pi === pattern.length) return si === path.length;
  const segment = pattern[pi];
  if (segment === '**') {
    for (let k = si; k <= path.length; k += 1) if (matchSegments(pattern, pi + 1, path, k)) return true;
    return false;
  }
  if (si === path.length) return false;
  if (segment !== '*' && segment !== path[si]) return false;
  return matchSegments(pattern, pi + 1, path, si + 1);
}
