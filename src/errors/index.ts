export { ERROR_CODES, isErrorCode, statusForCode, type ErrorCode } from './codes.js';
export { SpendgateError, spendgateError, type SpendgateErrorOptions } from './spendgate-error.js';
