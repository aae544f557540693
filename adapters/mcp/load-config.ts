import { readTextFile } from '../../src/config/read-text-file.js';
import { spendgateError } from '../../src/errors/index.js';
import { MCP_CONFIG_NAMES, MCP_VENDORS, mcpConfigSchema, type McpConfig, type McpVendor } from './config.js';

export interface LoadMcpConfigOptions {
  /** Usually `process.env`. Only the names in the schema are read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A JSON file whose keys are the same names. */
  readonly file?: string | undefined;
  /** Values from flags or code; they win over the file, which wins over the environment. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/**
 * Reads and checks the MCP server's settings, the way the proxy reads its own: a bad value stops start-up
 * with the setting's name, never its value (several of them are secrets).
 */
export async function loadMcpConfig(options: LoadMcpConfigOptions = {}): Promise<McpConfig> {
  const merged: Record<string, unknown> = {};
  for (const name of MCP_CONFIG_NAMES) {
    const value = options.env?.[name];
    if (value !== undefined && value !== '') merged[name] = value;
  }
  if (options.file) Object.assign(merged, await readConfigFile(options.file));
  for (const [name, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) merged[name] = value;
  }
  const result = mcpConfigSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    // The setting, not a path into it (`SPENDGATE_MCP_VENDORS`, not `SPENDGATE_MCP_VENDORS.0`).
    const name = String(issue?.path[0] ?? 'config');
    throw configError(name, `Invalid configuration ${name}: ${issue?.message ?? 'invalid'}`);
  }
  checkConsistency(result.data);
  return result.data;
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const text = await readTextFile(file, `config file ${file}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text around the error, and the text around a typo is often a secret.
    throw spendgateError('bad_request', `Config file ${file} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw spendgateError('bad_request', `Config file ${file} must hold a JSON object`);
  }
  for (const name of Object.keys(parsed)) {
    if (!(MCP_CONFIG_NAMES as string[]).includes(name)) {
      throw configError(name, `Config file ${file} has an unknown setting ${name}`);
    }
  }
  return parsed as Record<string, unknown>;
}

/** The vendors sessions may spend with: the ones named, or else every vendor with a cap. */
export function enabledVendors(config: McpConfig): McpVendor[] {
  return config.SPENDGATE_MCP_VENDORS ?? MCP_VENDORS.filter((vendor) => hasCap(config, vendor));
}

export function hasCap(config: McpConfig, vendor: McpVendor): boolean {
  const prefix = capPrefix(vendor);
  return config[`${prefix}_USD_CAP`] !== undefined || config[`${prefix}_DAILY_USD_CAP`] !== undefined;
}

/**
 * Whether each session draws from a budget of its own (`SPENDGATE_MCP_SESSION_USD_CAP`, or one created under
 * `SPENDGATE_MCP_PARENT_BUDGET`): that budget caps every vendor together, so a vendor needs no cap of its own.
 */
export function hasSessionBudget(config: McpConfig): boolean {
  return (
    config.SPENDGATE_MCP_SESSION_USD_CAP !== undefined || config.SPENDGATE_MCP_PARENT_BUDGET !== undefined
  );
}

export function capPrefix(vendor: McpVendor) {
  return `SPENDGATE_MCP_${vendor.toUpperCase() as Uppercase<McpVendor>}` as const;
}

/** Rules across settings: each fails start-up rather than the first session. */
function checkConsistency(config: McpConfig): void {
  const vendors = enabledVendors(config);
  const budgeted = hasSessionBudget(config);
  if (vendors.length === 0) {
    throw configError(
      'SPENDGATE_MCP_VENDORS',
      budgeted
        ? 'No vendor to spend with: with a session budget and no vendor cap, name the vendors in SPENDGATE_MCP_VENDORS (--vendors stripe,twilio)'
        : 'No vendor to spend with: set a cap such as SPENDGATE_MCP_STRIPE_USD_CAP (--stripe-usd-cap)',
    );
  }
  for (const vendor of vendors) {
    // An uncapped session key is exactly what spendgate exists to prevent; a session budget caps it.
    if (!budgeted && !hasCap(config, vendor)) {
      const name = `${capPrefix(vendor)}_USD_CAP`;
      throw configError(
        name,
        `${vendor} is enabled but has no cap: set ${name} or ${capPrefix(vendor)}_DAILY_USD_CAP, or a session budget (SPENDGATE_MCP_SESSION_USD_CAP)`,
      );
    }
  }
  if (vendors.includes('twilio') && !config.SPENDGATE_MCP_SMS_FROM) {
    throw configError('SPENDGATE_MCP_SMS_FROM', 'SPENDGATE_MCP_SMS_FROM is required when twilio is enabled');
  }
  if (vendors.includes('resend') && !config.SPENDGATE_MCP_EMAIL_FROM) {
    throw configError(
      'SPENDGATE_MCP_EMAIL_FROM',
      'SPENDGATE_MCP_EMAIL_FROM is required when resend is enabled',
    );
  }
  if (config.SPENDGATE_MCP_TRANSPORT === 'http') {
    if (!config.SPENDGATE_MCP_TOKEN && !config.SPENDGATE_MCP_ISSUER_AUTH) {
      throw configError(
        'SPENDGATE_MCP_TOKEN',
        'SPENDGATE_MCP_TOKEN is required with the HTTP transport, unless SPENDGATE_MCP_ISSUER_AUTH is on',
      );
    }
    // A client holding the MCP token would otherwise hold the admin token too.
    if (
      config.SPENDGATE_MCP_TOKEN !== undefined &&
      config.SPENDGATE_MCP_TOKEN === config.SPENDGATE_ADMIN_TOKEN
    ) {
      throw configError('SPENDGATE_MCP_TOKEN', 'SPENDGATE_MCP_TOKEN must differ from SPENDGATE_ADMIN_TOKEN');
    }
  } else if (config.SPENDGATE_MCP_ISSUER_AUTH) {
    // On stdio the client sends no bearer: the server's own SPENDGATE_ADMIN_TOKEN is the one to scope.
    throw configError(
      'SPENDGATE_MCP_ISSUER_AUTH',
      'SPENDGATE_MCP_ISSUER_AUTH works with the HTTP transport only; on stdio, give SPENDGATE_ADMIN_TOKEN an issuer token',
    );
  }
}

function configError(param: string, message: string) {
  return spendgateError('bad_request', message, { param });
}
