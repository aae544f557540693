import type { z } from 'zod';
import { spendgateError } from '../errors/index.js';

/** Parses with zod; the first issue becomes a 400 `bad_request` whose `param` names the field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  let param = issue?.path.map(String).join('.') ?? '';
  if (issue?.code === 'unrecognized_keys') param = issue.keys[0] ?? param;
  const message = param ? `${param}: ${issue?.message ?? 'invalid'}` : (issue?.message ?? 'invalid request');
  throw spendgateError('bad_request', message, param ? { param } : {});
}
