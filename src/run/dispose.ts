/**
 * `Symbol.asyncDispose`, for `await using`. Node 20 ships it (as `Symbol.for('nodejs.asyncDispose')`), but
 * older 20.x builds and some bundlers do not define the global; the registry symbol is the one Node's own
 * streams and servers use, so objects keyed by it still work with a later polyfill.
 */
export const asyncDisposeSymbol: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ??
  (Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose);
