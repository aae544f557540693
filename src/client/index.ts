/**
 * `spendgate/client`: a typed client for the proxy's admin API, usable on its own (a web handler that
 * issues a key per request, a background job with its own key).
 *
 * @module
 */
export {
  createSpendgateClient,
  type CallOptions,
  type SpendgateClient,
  type SpendgateClientOptions,
} from './admin-client.js';
export { errorFromResponse } from './response-error.js';
export type {
  Approval,
  ApprovalGrant,
  ApprovalStatus,
  ListApprovalsQuery,
  AuditQuery,
  AuditRow,
  Budget,
  BudgetStatus,
  BulkRevokeFilter,
  CreateBudgetInput,
  CreateIssuerInput,
  IssuedIssuer,
  IssuedVaultKey,
  Issuer,
  IssuerStatus,
  IssueKeyInput,
  KeyStatus,
  ListBudgetsQuery,
  ListIssuersQuery,
  ListKeysQuery,
  Page,
  RevokedBudget,
  RevokedIssuer,
  RevokedKey,
  VaultKey,
  VaultKeyWithSpend,
} from './types.js';
export { SpendgateError, isErrorCode, type ErrorCode } from '../errors/index.js';
