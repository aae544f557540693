import { createSpendgateClient } from '../../src/client/index.js';
import type { VendorCaps } from '../../src/run/index.js';
import { chargeCustomerTool, sendEmailTool, sendSmsTool, type SpendTool } from '../../src/tools/index.js';
import type { McpConfig, McpVendor } from './config.js';
import type { ServeHttpOptions } from './http.js';
import { capPrefix, enabledVendors } from './load-config.js';
import type { McpServeOptions } from './serve-options.js';

/** Everything `spendgate mcp` needs, built from its checked configuration. */
export interface McpRuntimeOptions {
  readonly transport: 'stdio' | 'http';
  readonly serve: McpServeOptions;
  /** Present with the HTTP transport. */
  readonly http?: Omit<ServeHttpOptions, keyof McpServeOptions>;
}

/** Builds the admin client, the per-session budget and the tools from configuration (nothing is sent). */
export function mcpOptionsFromConfig(
  config: McpConfig,
  extra: { readonly log?: (line: string) => void } = {},
): McpRuntimeOptions {
  const vendors = enabledVendors(config);
  const caps: Record<string, VendorCaps> = {};
  for (const vendor of vendors) caps[vendor] = capsFor(config, vendor);
  // A client's issuer token gets a client exactly like the configured one, but for its token.
  const clientFor = (adminToken: string) =>
    createSpendgateClient({ baseUrl: config.SPENDGATE_URL, adminToken });
  const sessionUsdCap = config.SPENDGATE_MCP_SESSION_USD_CAP;
  const parentBudgetId = config.SPENDGATE_MCP_PARENT_BUDGET;
  const serve: McpServeOptions = {
    client: clientFor(config.SPENDGATE_ADMIN_TOKEN),
    budget: {
      // The budget takes seconds; the config holds milliseconds.
      ttl: Math.ceil(config.SPENDGATE_MCP_TTL / 1000),
      caps,
      ...(sessionUsdCap === undefined ? {} : { usdCap: sessionUsdCap }),
      ...(parentBudgetId === undefined ? {} : { parentBudgetId }),
    },
    tools: vendors.map((vendor) => toolFor(config, vendor)),
    idleTimeoutMs: config.SPENDGATE_MCP_IDLE_TIMEOUT,
    ...(extra.log ? { log: extra.log } : {}),
  };
  if (config.SPENDGATE_MCP_TRANSPORT === 'stdio') return { transport: 'stdio', serve };
  return {
    transport: 'http',
    serve,
    http: {
      // loadMcpConfig checked that there is one of the two.
      ...(config.SPENDGATE_MCP_TOKEN === undefined ? {} : { token: config.SPENDGATE_MCP_TOKEN }),
      issuerAuth: config.SPENDGATE_MCP_ISSUER_AUTH,
      ...(config.SPENDGATE_MCP_ISSUER_AUTH ? { issuerClient: clientFor } : {}),
      host: config.SPENDGATE_MCP_HOST,
      port: config.SPENDGATE_MCP_PORT,
      allowedOrigins: config.SPENDGATE_MCP_ALLOWED_ORIGINS,
      maxSessions: config.SPENDGATE_MCP_MAX_SESSIONS,
    },
  };
}

function capsFor(config: McpConfig, vendor: McpVendor): VendorCaps {
  const prefix = capPrefix(vendor);
  const usdCap = config[`${prefix}_USD_CAP`];
  const dailyUsdCap = config[`${prefix}_DAILY_USD_CAP`];
  const maxUsdPerCall = config[`${prefix}_MAX_USD_PER_CALL`];
  // One threshold for the session, on every vendor's key: the proxy prices each call and enforces it.
  const approvalAboveUsd = config.SPENDGATE_MCP_APPROVAL_USD;
  return {
    ...(usdCap === undefined ? {} : { usdCap }),
    ...(dailyUsdCap === undefined ? {} : { dailyUsdCap }),
    ...(maxUsdPerCall === undefined ? {} : { maxUsdPerCall }),
    ...(approvalAboveUsd === undefined ? {} : { approvalAboveUsd }),
  };
}

/** The one tool per vendor; the senders come from configuration, never from the model. */
function toolFor(config: McpConfig, vendor: McpVendor): SpendTool {
  if (vendor === 'stripe') return chargeCustomerTool();
  if (vendor === 'twilio') return sendSmsTool({ from: config.SPENDGATE_MCP_SMS_FROM ?? '' });
  return sendEmailTool({ from: config.SPENDGATE_MCP_EMAIL_FROM ?? '' });
}
