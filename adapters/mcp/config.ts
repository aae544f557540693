import { z } from 'zod';
import { durationField } from '../../src/config/duration-field.js';
import { usdToMicros } from '../../src/money.js';

/**
 * The settings of `spendgate mcp`, under the names the environment, a `--config` JSON file and the flags
 * share (`SPENDGATE_MCP_STRIPE_USD_CAP` is `--stripe-usd-cap`). This module imports only zod, so the CLI
 * can declare its flags without loading the MCP SDK.
 */

export const MCP_VENDORS = ['stripe', 'twilio', 'resend'] as const;
export type McpVendor = (typeof MCP_VENDORS)[number];

const duration = (name: string) => durationField(name, '15m');

/** A USD amount, checked exactly (at most six decimals), kept as the number the admin API takes. */
const usd = (name: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    try {
      const micros = usdToMicros(value, name);
      if (micros === 0) throw new Error(`${name} must be more than 0`);
      return micros / 1_000_000;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : 'invalid amount' });
      return z.NEVER;
    }
  });

/** `a,b,c` (environment, flags) or a JSON array (config file). */
const list = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (typeof value === 'string' ? value.split(',') : value))
  .transform((items) => items.map((item) => item.trim()).filter(Boolean));

const optionalText = z
  .string()
  .transform((s) => s.trim())
  .transform((s) => (s === '' ? undefined : s))
  .optional();

/** `true`/`false` (also `1`/`0`, `yes`/`no`) from the environment or a file; a bare flag gives `true`. */
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', '1', 'yes'].includes(v)));

const secret = (name: string) =>
  z.string({ error: `${name} is required` }).min(16, `${name} must be at least 16 characters`);

/** Caps for one vendor's per-session key: `SPENDGATE_MCP_<VENDOR>_USD_CAP` and friends. */
function vendorCaps<P extends string>(prefix: P) {
  const cap = (name: string) => usd(name).optional();
  return {
    [`${prefix}_USD_CAP`]: cap(`${prefix}_USD_CAP`),
    [`${prefix}_DAILY_USD_CAP`]: cap(`${prefix}_DAILY_USD_CAP`),
    [`${prefix}_MAX_USD_PER_CALL`]: cap(`${prefix}_MAX_USD_PER_CALL`),
  } as Record<`${P}_${'USD_CAP' | 'DAILY_USD_CAP' | 'MAX_USD_PER_CALL'}`, ReturnType<typeof cap>>;
}

export const mcpConfigSchema = z.object({
  /** The running proxy (`spendgate serve`) that issues the sessions' keys and forwards their calls. */
  SPENDGATE_URL: z
    .url({ error: 'SPENDGATE_URL is required (the proxy, e.g. http://127.0.0.1:8787)' })
    // The admin token is the credential; a password in the URL would be quoted by HTTP clients' errors.
    .refine(
      (url) => !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(url),
      'SPENDGATE_URL must not carry a user or password',
    ),
  /**
   * Issues and revokes the sessions' keys. Never shown to the model or to MCP clients. Preferably an issuer
   * token (`it_…`, `spendgate issuers create`) rather than the proxy's admin token: every session's keys then
   * land inside that issuer's budget subtree and within its ceilings, and a leaked token spends at most that.
   */
  SPENDGATE_ADMIN_TOKEN: secret('SPENDGATE_ADMIN_TOKEN'),
  SPENDGATE_MCP_TRANSPORT: z.enum(['stdio', 'http']).default('stdio'),
  /** HTTP only. Loopback by default: exposing it is a deliberate choice. */
  SPENDGATE_MCP_HOST: z.string().min(1).default('127.0.0.1'),
  SPENDGATE_MCP_PORT: z.coerce.number().int().min(0).max(65535).default(8788),
  /**
   * HTTP only: a bearer token MCP clients may send; its sessions use SPENDGATE_ADMIN_TOKEN. Required with the
   * HTTP transport unless SPENDGATE_MCP_ISSUER_AUTH is on.
   */
  SPENDGATE_MCP_TOKEN: secret('SPENDGATE_MCP_TOKEN').optional(),
  /**
   * HTTP only: a client may send its own issuer token (`Authorization: Bearer it_…`). It is checked with the
   * proxy when the session opens (and before every tool call), the session's keys are issued with it (so
   * they land in that issuer's budget subtree), and the session answers only to that same token.
   */
  SPENDGATE_MCP_ISSUER_AUTH: bool.default(false),
  /** HTTP only: browser origins allowed to connect (`https://app.example`); requests with any other Origin get 403. */
  SPENDGATE_MCP_ALLOWED_ORIGINS: list.default([]),
  /** HTTP only: sessions open at once; each holds its own keys. */
  SPENDGATE_MCP_MAX_SESSIONS: z.coerce.number().int().positive().default(100),
  /** Vendors a session may spend with; default: every vendor that has a cap below. */
  SPENDGATE_MCP_VENDORS: list.pipe(z.array(z.enum(MCP_VENDORS))).optional(),
  ...vendorCaps('SPENDGATE_MCP_STRIPE'),
  ...vendorCaps('SPENDGATE_MCP_TWILIO'),
  ...vendorCaps('SPENDGATE_MCP_RESEND'),
  /**
   * One USD cap per session across every vendor: each session creates a budget with this cap, issues its
   * keys under it and revokes it when the session ends. Vendors then need no cap of their own.
   */
  SPENDGATE_MCP_SESSION_USD_CAP: usd('SPENDGATE_MCP_SESSION_USD_CAP').optional(),
  /**
   * `bud_…`: every session's budget is created under this one (a tenant's budget, say), so all sessions
   * together spend at most what it has left. Vendors then need no cap of their own.
   */
  SPENDGATE_MCP_PARENT_BUDGET: z
    .string()
    .trim()
    .regex(/^bud_[A-Za-z0-9_-]+$/, 'SPENDGATE_MCP_PARENT_BUDGET must be a budget id (bud_…)')
    .optional(),
  /** Lifetime of a session's keys; the proxy stops honouring them then, even if this process dies. */
  SPENDGATE_MCP_TTL: duration('SPENDGATE_MCP_TTL').default(3_600_000),
  /** A session with no MCP traffic and no call in flight for this long is closed and its keys revoked. */
  SPENDGATE_MCP_IDLE_TIMEOUT: duration('SPENDGATE_MCP_IDLE_TIMEOUT').default(900_000),
  /**
   * Calls the proxy prices above this many USD need a person's approval: it goes on every session key as
   * `approval_above_usd`, and the session asks through MCP elicitation where the client supports it.
   */
  SPENDGATE_MCP_APPROVAL_USD: usd('SPENDGATE_MCP_APPROVAL_USD').optional(),
  /** The SMS sender (E.164 or `MG…`); required when Twilio is enabled. */
  SPENDGATE_MCP_SMS_FROM: optionalText,
  /** The email sender (`Acme <billing@acme.test>`); required when Resend is enabled. */
  SPENDGATE_MCP_EMAIL_FROM: optionalText,
});

export type McpConfig = z.output<typeof mcpConfigSchema>;
export const MCP_CONFIG_NAMES = Object.keys(mcpConfigSchema.shape) as (keyof McpConfig)[];

/** Settings that are switches: their flag takes no value (`--issuer-auth`). */
export const MCP_SWITCHES: readonly (keyof McpConfig)[] = ['SPENDGATE_MCP_ISSUER_AUTH'];

const vendorHelp = (vendor: string) => ({
  USD_CAP: `USD cap of each session's ${vendor} key`,
  DAILY_USD_CAP: `USD cap per UTC day of each session's ${vendor} key`,
  MAX_USD_PER_CALL: `the most one ${vendor} call may cost`,
});
const stripe = vendorHelp('Stripe');
const twilio = vendorHelp('Twilio');
const resend = vendorHelp('Resend');

/** What each setting does, for `spendgate mcp --help` (the flag's line adds the setting's name). */
export const MCP_SETTING_HELP: Readonly<Record<keyof McpConfig, string>> = {
  SPENDGATE_URL: 'the running proxy, e.g. http://127.0.0.1:8787',
  SPENDGATE_ADMIN_TOKEN: "issues and revokes the sessions' keys: preferably an issuer token (it_…)",
  SPENDGATE_MCP_TRANSPORT: 'stdio or http (same as --stdio / --http)',
  SPENDGATE_MCP_HOST: 'HTTP: the address to bind (default 127.0.0.1)',
  SPENDGATE_MCP_PORT: 'HTTP: the port (default 8788; 0 picks one)',
  SPENDGATE_MCP_TOKEN: 'HTTP: a bearer token clients may send (required unless --issuer-auth)',
  SPENDGATE_MCP_ISSUER_AUTH:
    "HTTP: clients may send their own issuer token (it_…) as the bearer; their sessions' keys are issued with it",
  SPENDGATE_MCP_ALLOWED_ORIGINS: 'HTTP: browser origins allowed to connect, comma-separated',
  SPENDGATE_MCP_MAX_SESSIONS: 'HTTP: sessions open at once (default 100)',
  SPENDGATE_MCP_VENDORS: 'vendors a session may spend with, comma-separated (default: those with a cap)',
  SPENDGATE_MCP_STRIPE_USD_CAP: stripe.USD_CAP,
  SPENDGATE_MCP_STRIPE_DAILY_USD_CAP: stripe.DAILY_USD_CAP,
  SPENDGATE_MCP_STRIPE_MAX_USD_PER_CALL: stripe.MAX_USD_PER_CALL,
  SPENDGATE_MCP_TWILIO_USD_CAP: twilio.USD_CAP,
  SPENDGATE_MCP_TWILIO_DAILY_USD_CAP: twilio.DAILY_USD_CAP,
  SPENDGATE_MCP_TWILIO_MAX_USD_PER_CALL: twilio.MAX_USD_PER_CALL,
  SPENDGATE_MCP_RESEND_USD_CAP: resend.USD_CAP,
  SPENDGATE_MCP_RESEND_DAILY_USD_CAP: resend.DAILY_USD_CAP,
  SPENDGATE_MCP_RESEND_MAX_USD_PER_CALL: resend.MAX_USD_PER_CALL,
  SPENDGATE_MCP_SESSION_USD_CAP: 'one USD cap per session across every vendor (a budget per session)',
  SPENDGATE_MCP_PARENT_BUDGET: "bud_…: every session's budget is created under this budget",
  SPENDGATE_MCP_TTL: "lifetime of a session's keys (default 1h)",
  SPENDGATE_MCP_IDLE_TIMEOUT: 'close a session after this long without traffic (default 15m)',
  SPENDGATE_MCP_APPROVAL_USD: "calls priced above this need a person's approval",
  SPENDGATE_MCP_SMS_FROM: 'the SMS sender (E.164 or MG…), required with Twilio',
  SPENDGATE_MCP_EMAIL_FROM: 'the email sender, required with Resend',
};
