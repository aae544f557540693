import { z } from 'zod';
import { durationField } from './duration-field.js';
import { usdToMicros } from '../money.js';

const duration = (name: string) => durationField(name);

const usd = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return usdToMicros(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : 'invalid amount' });
    return z.NEVER;
  }
});

const optionalText = z
  .string()
  .transform((s) => s.trim())
  .transform((s) => (s === '' ? undefined : s))
  .optional();

const positiveInt = z.coerce.number().int().positive();

/**
 * An upstream: http(s), optionally with a path prefix (`http://host/prefix`), never credentials, a query
 * string or a fragment, which would otherwise be silently dropped or sent with every call.
 */
const baseUrl = (name: string) =>
  z.url().refine(
    (value) => {
      const url = new URL(value);
      const plain = url.username === '' && url.password === '' && url.search === '' && url.hash === '';
      return (url.protocol === 'http:' || url.protocol === 'https:') && plain;
    },
    { message: `${name} must be an http(s) URL with no credentials, query string or fragment` },
  );

/**
 * A table of USD amounts keyed by name, written `k=v,k=v` (environment, flags) or as a JSON object (config
 * file). Keys must match `key`; each value is parsed exactly into micro-dollars.
 */
function usdTable(options: { key: RegExp; example: string; normalize: (key: string) => string }) {
  return z
    .union([z.string(), z.record(z.string(), z.union([z.string(), z.number()]))])
    .transform((value, ctx) => {
      const entries =
        typeof value === 'string'
          ? value
              .split(',')
              .map((pair) => pair.trim())
              .filter(Boolean)
              .map((pair) => pair.split('=').map((p) => p.trim()) as [string, string | undefined])
          : Object.entries(value);
      const table: Record<string, number> = {};
      for (const [key, amount] of entries) {
        if (!options.key.test(key) || amount === undefined) {
          ctx.addIssue({ code: 'custom', message: `entry "${key}" must be like ${options.example}` });
          return z.NEVER;
        }
        try {
          table[options.normalize(key)] = usdToMicros(amount, key);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : 'invalid amount' });
          return z.NEVER;
        }
      }
      return table;
    });
}

/** USD per unit of each currency: `eur=1.08,jpy=0.0067`. */
const fxRates = usdTable({ key: /^[a-z]{3}$/i, example: 'eur=1.08', normalize: (k) => k.toLowerCase() });

/** Twilio prices by E.164 prefix: `+44=0.0524` (SMS, per segment), `+1=0.022` (MMS, per message). */
const prefixPrices = (example: string) =>
  usdTable({ key: /^\+?[1-9]\d{0,6}$/, example, normalize: (k) => (k.startsWith('+') ? k : `+${k}`) });

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', '1', 'yes'].includes(v)));

/**
 * Every setting, under the names of the HTTP contract. The same names work as environment variables,
 * as CLI flags (`--port` for `SPENDGATE_PORT`) and as keys in a JSON config file.
 */
export const configSchema = z.object({
  SPENDGATE_HOST: z.string().default('127.0.0.1'),
  SPENDGATE_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  SPENDGATE_ADMIN_TOKEN: z
    .string({ error: 'SPENDGATE_ADMIN_TOKEN is required' })
    .min(16, 'SPENDGATE_ADMIN_TOKEN must be at least 16 characters'),
  SPENDGATE_DB: z.string().min(1).default('./spendgate.db'),
  /** PostgreSQL only: the schema holding spendgate's tables (created if missing). */
  SPENDGATE_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'SPENDGATE_DB_SCHEMA must be a lower-case SQL identifier')
    .default('public'),
  SPENDGATE_DB_POOL_MAX: positiveInt.default(10),
  SPENDGATE_DB_STATEMENT_TIMEOUT_MS: positiveInt.default(5000),
  SPENDGATE_DB_CONNECT_TIMEOUT_MS: positiveInt.default(2000),
  STRIPE_SECRET_KEY: optionalText,
  TWILIO_ACCOUNT_SID: optionalText,
  TWILIO_AUTH_TOKEN: optionalText,
  RESEND_API_KEY: optionalText,
  SPENDGATE_STRIPE_BASE_URL: baseUrl('SPENDGATE_STRIPE_BASE_URL').default('https://api.stripe.com'),
  SPENDGATE_TWILIO_BASE_URL: baseUrl('SPENDGATE_TWILIO_BASE_URL').default('https://api.twilio.com'),
  SPENDGATE_RESEND_BASE_URL: baseUrl('SPENDGATE_RESEND_BASE_URL').default('https://api.resend.com'),
  /** Largest request body the proxy reads, in bytes. */
  SPENDGATE_MAX_BODY_BYTES: positiveInt.default(1_048_576),
  /** Longest TTL a key may be issued with. */
  SPENDGATE_MAX_TTL: duration('SPENDGATE_MAX_TTL').default(86_400_000),
  /**
   * Longest TTL a budget may be created with. Budgets are not credentials, so they may live much longer than
   * keys: a tenant's monthly budget outlives every run's keys drawn from it.
   */
  SPENDGATE_MAX_BUDGET_TTL: duration('SPENDGATE_MAX_BUDGET_TTL').default(34_560_000_000),
  /** TTL for keys issued without `expires_in` or `expires_at`. */
  SPENDGATE_DEFAULT_TTL: duration('SPENDGATE_DEFAULT_TTL').default(3_600_000),
  /** How long a pending approval waits for a decision, and how long an approved grant then stays usable. */
  SPENDGATE_APPROVAL_TTL: duration('SPENDGATE_APPROVAL_TTL').default(600_000),
  /** Cap applied when a key names none. Without it, a key with no cap is refused (`cap_required`). */
  SPENDGATE_DEFAULT_DAILY_USD_CAP: usd.optional(),
  SPENDGATE_FX_RATES: fxRates.default({}),
  SPENDGATE_UPSTREAM_CONNECT_TIMEOUT_MS: positiveInt.default(5_000),
  SPENDGATE_UPSTREAM_HEADERS_TIMEOUT_MS: positiveInt.default(30_000),
  SPENDGATE_UPSTREAM_BODY_TIMEOUT_MS: positiveInt.default(30_000),
  /**
   * PostgreSQL only: where each instance journals settlements and audit rows before answering, so that
   * nothing the vendor confirmed is lost while the ledger is unreachable or the process dies. Instances on
   * one machine may share it; each adopts the journals of crashed instances of the same ledger.
   */
  SPENDGATE_JOURNAL_DIR: z.string().min(1).default('./spendgate-journal'),
  /** A journal not touched for this long belongs to a dead instance, and the next one to start adopts it. */
  SPENDGATE_JOURNAL_ORPHAN_MS: positiveInt.default(10_000),
  /**
   * How long an instance's in-flight reservations outlive its last lease renewal. Past it, any live instance
   * resolves them as uncertain (counted), so a killed instance cannot hold budget forever.
   */
  SPENDGATE_LEASE_MS: positiveInt.min(1000).default(30_000),
  /** How long SIGTERM waits for in-flight calls to finish and settle before cutting connections. */
  SPENDGATE_SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  /** How long a client may take to send its whole request (headers and body) before it gets 408. */
  SPENDGATE_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  /**
   * Per-segment SMS price in USD for destinations neither SPENDGATE_TWILIO_SMS_PRICES nor the built-in table
   * prices. Unset: those destinations are refused (`cost_unknown`).
   */
  SPENDGATE_TWILIO_SMS_USD: usd.optional(),
  /**
   * Per-segment SMS prices by E.164 prefix, e.g. `+44=0.0524,+1876=0.12`, over the built-in table: the longest
   * prefix wins across both, and an entry here beats a built-in one for the same prefix.
   */
  SPENDGATE_TWILIO_SMS_PRICES: prefixPrices('+44=0.0524').default({}),
  /** Per-message MMS price in USD for destinations no MMS price covers. Unset: they are refused. */
  SPENDGATE_TWILIO_MMS_USD: usd.optional(),
  /** Per-message MMS prices by E.164 prefix, e.g. `+1=0.022`, merged with the built-in table like the SMS ones. */
  SPENDGATE_TWILIO_MMS_PRICES: prefixPrices('+1=0.022').default({}),
  SPENDGATE_RESEND_EMAIL_USD: usd.optional(),
  SPENDGATE_SANDBOX: bool.default(false),
  SPENDGATE_SANDBOX_ALLOW_SECRETS: bool.default(false),
  /** Serve `GET /metrics` without the admin token (for a scraper on a private network). */
  SPENDGATE_METRICS_PUBLIC: bool.default(false),
  SPENDGATE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ProxyConfigInput = z.input<typeof configSchema>;
export type ProxyConfig = z.output<typeof configSchema>;
export const CONFIG_NAMES = Object.keys(configSchema.shape) as (keyof ProxyConfig)[];
