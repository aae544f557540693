/**
 * `spendgate/mcp`: spendgate's budget-scoped tools over the Model Context Protocol, for any MCP client
 * (Claude Desktop, Cursor, the OpenAI Agents SDK's `MCPServerStdio`, …), on stdio or Streamable HTTP.
 *
 * Each MCP session is one run: its keys are issued when the session initialises and revoked when it ends,
 * however it ends (the client closes or disappears, the transport fails, it idles out, the server stops).
 * `spendgate mcp --stdio` and `spendgate mcp --http` run these from the command line. The admin client may
 * hold an issuer token (`it_…`), scoping every session's keys to its budget; over HTTP, `issuerAuth` lets each
 * client present its own issuer token, which then scopes that client's sessions.
 *
 * @module
 */
export { spendToolAnnotations, READ_ONLY_ANNOTATIONS } from './annotations.js';
export { callWithApproval, type ApprovalFlowOptions } from './approval.js';
export {
  APPROVE_FIELD,
  approvalMessage,
  elicitationAsker,
  supportsFormElicitation,
} from './elicit-approval.js';
export { BUDGET_TOOL_NAME, budgetTool } from './budget-tool.js';
export {
  MCP_CONFIG_NAMES,
  MCP_SETTING_HELP,
  MCP_SWITCHES,
  MCP_VENDORS,
  mcpConfigSchema,
  type McpConfig,
  type McpVendor,
} from './config.js';
export { mcpOptionsFromConfig, type McpRuntimeOptions } from './from-config.js';
export {
  bearerKind,
  bearerMatches,
  checkRequest,
  type BearerKind,
  type GuardRefusal,
  type HttpGuardOptions,
} from './http-guard.js';
export {
  bearerDigest,
  checkIssuerToken,
  digestsEqual,
  ISSUER_TOKEN_PREFIX,
  type IssuerCheck,
} from './issuer-auth.js';
export { serveHttp, type McpHttpServer, type ServeHttpOptions } from './http.js';
export { loadMcpConfig, type LoadMcpConfigOptions } from './load-config.js';
export { resolveServeOptions, type McpServeOptions } from './serve-options.js';
export { connectSession, createSpendgateMcpServer, type SpendgateMcpServerOptions } from './server.js';
export { sessionTools, toolsWithinBudget, type SessionToolsOptions } from './session-tools.js';
export {
  McpSession,
  type McpSessionOptions,
  type SessionBudget,
  type SessionCloseReason,
} from './session.js';
export { serveStdio, type McpStdioServer, type ServeStdioOptions } from './stdio.js';
export { toCallToolResult } from './tool-result.js';
export type {
  ApprovalAnswer,
  ApprovalQuestion,
  AskApproval,
  McpToolAnnotations,
  SessionTool,
  SessionToolCall,
} from './types.js';

export * from '../shared/core-exports.js';
