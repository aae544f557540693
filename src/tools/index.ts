export {
  approvalDeniedResult,
  approvalRequiredResult,
  isAboveThreshold,
  pendingApproval,
  type ApprovalDecision,
  type PendingApproval,
  type StatedUsd,
} from './approval.js';
export { chargeCustomerTool, type ChargeCustomerOptions } from './charge-customer.js';
export { defineSpendTool, type SpendToolSpec } from './define-tool.js';
export { idempotencyKeyFor } from './idempotency.js';
export {
  isToolFailure,
  resultForInactiveRun,
  resultForOutcome,
  resultForUnexpectedError,
  type OutcomeInput,
  type OutcomeTool,
} from './outcome.js';
export { callThroughProxy, type CallOutcome, type VendorCall } from './proxy-call.js';
export { sendEmailTool, type SendEmailOptions } from './send-email.js';
export { PLACEHOLDER_TWILIO_ACCOUNT_SID, sendSmsTool, type SendSmsOptions } from './send-sms.js';
export { retryOfField, STOP_RULE } from './shared-fields.js';
export { readProxyRefusal, type ProxyRefusal } from './refusal-result.js';
export { BUDGET_STOP_CODES, isBudgetStop, type BudgetStopCode, type BudgetStopResult } from './stop-codes.js';
export { isToolCallIdMissing, requireToolCallId } from './tool-call-id.js';
export type {
  JsonValue,
  KeySpend,
  RunTool,
  SpendTool,
  ToolAnnotations,
  ToolCall,
  ToolCallContext,
  ToolCredential,
  ToolFailure,
  ToolResult,
  ToolSuccess,
} from './types.js';
