import { z } from 'zod';
import { parseDuration } from '../duration.js';

/**
 * A duration setting (`"30m"`, `"1h30m"` or a whole number of seconds), parsed to milliseconds by the one
 * shared parser; errors name the setting, never echo the value, and say when it is merely too short.
 */
export const durationField = (name: string, example = '30m') =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const parsed = parseDuration(value);
    if (!parsed.ok) {
      ctx.addIssue({
        code: 'custom',
        message:
          parsed.reason === 'too_short'
            ? `${name} must be at least 1 s`
            : `${name} must be a duration such as "${example}" or "1h30m", or a whole number of seconds`,
      });
      return z.NEVER;
    }
    return parsed.ms;
  });
