import { spendgateError } from '../errors/index.js';

/**
 * Normalises a request path for allowlist matching, refusing anything ambiguous rather than guessing:
 * `..` and `.` segments (also percent-encoded), `//`, percent-encoded `/` or `\`, backslashes, control
 * characters and malformed percent-encoding. A path the vendor might read differently from us must never
 * be matched against the allowlist.
 */
export function normalizePath(rawPath: string): string {
  if (!rawPath.startsWith('/')) throw invalid('must start with /');
  if (rawPath.includes('//')) throw invalid('must not contain //');
  if (/%2f|%5c/i.test(rawPath)) throw invalid('must not contain an encoded slash');
  if (rawPath.includes('\\')) throw invalid('must not contain a backslash');
  const segments = rawPath.slice(1).split('/');
  const decoded = segments.map((segment) => {
    let value: string;
    try {
      value = decodeURIComponent(segment);
    } catch {
      throw invalid('has malformed percent-encoding');
    }
    if (value === '.' || value === '..') throw invalid('must not contain . or .. segments');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid('must not contain control characters');
    return value;
  });
  return `/${decoded.join('/')}`;
}

function invalid(reason: string) {
  return spendgateError('path_invalid', `The request path ${reason}`);
}
