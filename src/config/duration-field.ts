import { z } from 'zod';
import { parseDurationMs } from '../duration.js';

/** A duration setting (`"30m"`, `"1h"` or a number of seconds), parsed to milliseconds; errors name the setting. */
export const durationField = (name: string, example = '30m') =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const parsed = parseDurationMs(value);
    if (parsed === null) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} must be a duration such as "${example}" or a number of seconds`,
      });
      return z.NEVER;
    }
    return parsed;
  });
