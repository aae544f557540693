import { SpendgateError } from '../errors/index.js';

/**
 * Runs a store operation. Any failure of the store becomes 503 `ledger_unavailable`: on a vendor call nothing is
 * forwarded, and on the admin API nothing is claimed to have happened.
 */
export async function ledger<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (SpendgateError.isInstance(err)) throw err;
    throw new SpendgateError({
      code: 'ledger_unavailable',
      message: 'The spend ledger is unavailable, so nothing was done',
      cause: err,
    });
  }
}
