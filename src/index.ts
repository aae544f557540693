/**
 * spendgate: budget brakes for AI agents that spend real money. This entry point is framework-neutral:
 * the admin client, runs (per-run vault keys, issued at start and revoked at the end), and the spend tools
 * as plain data. Framework adapters live at `spendgate/openai-agents`, `spendgate/langchain` and
 * `spendgate/ai-sdk`; the proxy at `spendgate/server`.
 *
 * @module
 */
export * from './client/index.js';
export * from './run/index.js';
export * from './tools/index.js';
export { ERROR_CODES, spendgateError, statusForCode, type SpendgateErrorOptions } from './errors/index.js';
export { formatUsd, microsToUsd, usdToMicros, type Micros } from './money.js';
export { MissingPeerError } from './run/peer-import.js';
