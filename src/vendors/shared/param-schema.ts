import { z } from 'zod';
import { spendgateError } from '../../errors/index.js';

/**
 * Closed parameter schemas for the endpoints that can move money. Every parameter such an endpoint accepts is
 * listed with its shape; anything else is refused with `param_not_allowed`, naming it. A list of known-bad
 * parameters would let the next unlisted money lever through: this is an allow-list on purpose.
 */

/** Every field is optional here: which ones are required is the vendor's business, and pricing's. */
export function params<T extends Record<string, z.ZodType>>(shape: T) {
  const optional = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()]));
  return z.strictObject(optional as { [K in keyof T]: z.ZodOptional<T[K]> });
}

/** Form values as decoded: strings, arrays of strings, nested objects of strings. */
export const form = {
  text: z.string(),
  integer: z.string().regex(/^\d+$/, 'must be a non-negative integer'),
  boolean: z.enum(['true', 'false']),
  /** Free-form string map (Stripe `metadata`). */
  map: z.record(z.string(), z.string()),
  list: z.array(z.string()),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values),
};

/** `param_not_allowed` or `param_invalid` for the first issue, naming the parameter as the vendor writes it. */
export function checkParams(
  schema: z.ZodType,
  value: unknown,
  options: { readonly endpoint: string; readonly style: 'form' | 'json' },
): void {
  const result = schema.safeParse(value ?? {});
  if (result.success) return;
  const issue = result.error.issues[0];
  if (!issue) return;
  if (issue.code === 'unrecognized_keys') {
    const name = paramName([...issue.path, issue.keys[0] ?? ''], options.style);
    throw spendgateError(
      'param_not_allowed',
      `\`${name}\` is not accepted on ${options.endpoint} through spendgate: only parameters it can price or knows to be harmless are forwarded`,
      { param: name },
    );
  }
  const name = paramName(issue.path, options.style);
  throw spendgateError('param_invalid', `\`${name}\` ${describe(issue)} on ${options.endpoint}`, {
    param: name,
  });
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'is missing';
    return issue.expected === 'string'
      ? 'must be a single string value'
      : `must be of type ${issue.expected}`;
  }
  return issue.message.replace(/^Invalid input: /, 'is invalid: ');
}

/** `a[b][0]` for form vendors, `a.b[0]` for JSON ones. */
export function paramName(path: readonly PropertyKey[], style: 'form' | 'json'): string {
  const parts = path.map(String);
  if (parts.length === 0) return '(body)';
  if (style === 'form')
    return (
      parts[0] +
      parts
        .slice(1)
        .map((p) => `[${p}]`)
        .join('')
    );
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}
