/**
 * What each setting means and its default, as `--help` and docs/cli.md show them. A test checks that every
 * setting in the schema is described here and that each default written here parses to the schema's own.
 */
export interface SettingDoc {
  /** The default as an operator writes it (`24h`, not 86400000), or `none` / `required`. */
  readonly default: string;
  readonly description: string;
}

export const SETTING_DOCS: Readonly<Record<string, SettingDoc>> = {
  SPENDGATE_HOST: { default: '127.0.0.1', description: 'interface to listen on' },
  SPENDGATE_PORT: { default: '8787', description: 'port to listen on; 0 picks a free port and prints it' },
  SPENDGATE_ADMIN_TOKEN: { default: 'required', description: 'admin API token, at least 16 characters' },
  SPENDGATE_DB: {
    default: './spendgate.db',
    description: 'the ledger: a SQLite file, :memory:, or a postgres:// URL',
  },
  SPENDGATE_DB_SCHEMA: { default: 'public', description: "PostgreSQL schema for spendgate's tables" },
  SPENDGATE_DB_POOL_MAX: { default: '10', description: 'PostgreSQL connections per instance' },
  SPENDGATE_DB_STATEMENT_TIMEOUT_MS: {
    default: '5000',
    description: 'PostgreSQL statement timeout in ms; past it calls fail closed (503)',
  },
  SPENDGATE_DB_CONNECT_TIMEOUT_MS: {
    default: '2000',
    description: 'PostgreSQL wait for a connection in ms; past it calls fail closed (503)',
  },
  STRIPE_SECRET_KEY: { default: 'none', description: 'the real Stripe secret key' },
  TWILIO_ACCOUNT_SID: { default: 'none', description: 'the real Twilio Account SID' },
  TWILIO_AUTH_TOKEN: { default: 'none', description: 'the real Twilio auth token' },
  RESEND_API_KEY: { default: 'none', description: 'the real Resend API key' },
  SPENDGATE_STRIPE_BASE_URL: { default: 'https://api.stripe.com', description: 'where Stripe calls go' },
  SPENDGATE_TWILIO_BASE_URL: { default: 'https://api.twilio.com', description: 'where Twilio calls go' },
  SPENDGATE_RESEND_BASE_URL: { default: 'https://api.resend.com', description: 'where Resend calls go' },
  SPENDGATE_MAX_BODY_BYTES: { default: '1048576', description: 'largest request body read, in bytes' },
  SPENDGATE_MAX_TTL: { default: '24h', description: 'longest TTL a key may be issued with' },
  SPENDGATE_MAX_BUDGET_TTL: {
    default: '400d',
    description: 'longest TTL a budget may be created with (budgets are not credentials)',
  },
  SPENDGATE_DEFAULT_TTL: { default: '1h', description: 'TTL of a key issued without expires_in/expires_at' },
  SPENDGATE_DEFAULT_DAILY_USD_CAP: {
    default: 'none',
    description: 'daily cap for a key that names none; unset, such a key is refused (cap_required)',
  },
  SPENDGATE_FX_RATES: {
    default: 'none',
    description: 'USD per unit of other currencies: eur=1.08,jpy=0.0067',
  },
  SPENDGATE_UPSTREAM_CONNECT_TIMEOUT_MS: { default: '5000', description: 'vendor connect timeout in ms' },
  SPENDGATE_UPSTREAM_HEADERS_TIMEOUT_MS: {
    default: '30000',
    description: 'vendor response-headers timeout in ms',
  },
  SPENDGATE_UPSTREAM_BODY_TIMEOUT_MS: { default: '30000', description: 'vendor response-body timeout in ms' },
  SPENDGATE_JOURNAL_DIR: {
    default: './spendgate-journal',
    description: 'PostgreSQL only: local journal of settlements and audit rows',
  },
  SPENDGATE_JOURNAL_ORPHAN_MS: {
    default: '10000',
    description: "PostgreSQL only: a journal silent this long is a dead instance's, and is adopted",
  },
  SPENDGATE_LEASE_MS: {
    default: '30000',
    description: "how long a dead instance's reservations hold budget before they count as uncertain",
  },
  SPENDGATE_SHUTDOWN_TIMEOUT_MS: {
    default: '10000',
    description: 'how long SIGTERM waits for in-flight calls and ledger writes, in ms',
  },
  SPENDGATE_REQUEST_TIMEOUT_MS: {
    default: '30000',
    description: 'a client that has not sent its whole request by then gets 408, in ms',
  },
  SPENDGATE_TWILIO_SMS_USD: {
    default: 'none',
    description: 'per-segment SMS price for destinations no table prices; unset, they are refused',
  },
  SPENDGATE_TWILIO_SMS_PRICES: {
    default: 'none',
    description: 'per-segment SMS prices by E.164 prefix over the built-in table: +44=0.0524,+1876=0.12',
  },
  SPENDGATE_TWILIO_MMS_USD: {
    default: 'none',
    description: 'per-message MMS price for destinations no table prices; unset, they are refused',
  },
  SPENDGATE_TWILIO_MMS_PRICES: {
    default: 'none',
    description: 'per-message MMS prices by E.164 prefix: +1=0.022',
  },
  SPENDGATE_RESEND_EMAIL_USD: { default: 'none', description: 'price per Resend email recipient, in USD' },
  SPENDGATE_SANDBOX: { default: 'false', description: 'answer vendor calls in-process with fakes' },
  SPENDGATE_SANDBOX_ALLOW_SECRETS: {
    default: 'false',
    description: 'let sandbox mode start while real vendor secrets are configured',
  },
  SPENDGATE_LOG_LEVEL: { default: 'info', description: 'pino log level (fatal … trace, silent)' },
  // Settings other parts of the project add; described here so their help reads well once they land.
  SPENDGATE_APPROVAL_TTL: { default: '10m', description: 'how long an approval grant stays usable' },
  SPENDGATE_METRICS_PUBLIC: { default: 'false', description: 'serve /metrics without the admin token' },
};

/** `--help` text for one setting: its meaning, environment name and default. */
export function settingHelp(name: string, description?: string): string {
  const doc = SETTING_DOCS[name];
  const text = description ?? doc?.description ?? name;
  return `${text} (env ${name}; default: ${doc?.default ?? 'none'})`;
}
