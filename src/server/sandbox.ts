import type { ProxyConfig } from '../config/schema.js';
import { spendgateError } from '../errors/index.js';
import type { FakeVendor } from '../testing/fakes/types.js';
import type { Forwarder } from './forwarder.js';

/** Credentials the in-process fakes expect; they are not secrets and can never reach a real vendor. */
export const SANDBOX_SECRETS = {
  STRIPE_SECRET_KEY: 'sk_test_spendgate_sandbox',
  TWILIO_ACCOUNT_SID: 'AC5a4d600000000000000000000000000',
  TWILIO_AUTH_TOKEN: 'spendgate_sandbox_auth_token',
  RESEND_API_KEY: 're_spendgate_sandbox',
} as const;

const REAL_SECRET_NAMES = [
  'STRIPE_SECRET_KEY',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'RESEND_API_KEY',
] as const;

export interface Sandbox {
  /** The configuration with the sandbox credentials in place of any real ones. */
  readonly config: ProxyConfig;
  readonly forwarder: Forwarder;
  /** The fakes answering each vendor, for inspection (`fakes.stripe.requests`). */
  readonly fakes: Readonly<Record<'stripe' | 'twilio' | 'resend', FakeVendor>>;
}

/**
 * Sets up sandbox mode: vendor calls are answered in-process by the same faithful fakes the tests use.
 * Refuses when real vendor secrets are configured, unless `SPENDGATE_SANDBOX_ALLOW_SECRETS` says otherwise,
 * so a production deployment can never silently stop moving real money.
 */
export async function createSandbox(config: ProxyConfig): Promise<Sandbox> {
  const configured = REAL_SECRET_NAMES.filter((name) => config[name] !== undefined);
  if (configured.length > 0 && !config.SPENDGATE_SANDBOX_ALLOW_SECRETS) {
    throw spendgateError(
      'bad_request',
      `Refusing to start in sandbox mode while real vendor secrets are configured (${configured.join(', ')}); ` +
        'unset them, or set SPENDGATE_SANDBOX_ALLOW_SECRETS=true',
    );
  }
  const { createFakeStripe, createFakeTwilio, createFakeResend } = await import('../testing/index.js');
  const fakes = {
    stripe: createFakeStripe({ secretKey: SANDBOX_SECRETS.STRIPE_SECRET_KEY, sandbox: true }),
    twilio: createFakeTwilio({
      accountSid: SANDBOX_SECRETS.TWILIO_ACCOUNT_SID,
      authToken: SANDBOX_SECRETS.TWILIO_AUTH_TOKEN,
      sandbox: true,
    }),
    resend: createFakeResend({ apiKey: SANDBOX_SECRETS.RESEND_API_KEY, sandbox: true }),
  };
  return { config: { ...config, ...SANDBOX_SECRETS }, forwarder: createInProcessForwarder(fakes), fakes };
}

/** A forwarder that hands each call to a fake in this process instead of the network. */
export function createInProcessForwarder(fakes: Readonly<Record<string, FakeVendor>>): Forwarder {
  return {
    async send(request) {
      const fake = fakes[request.vendor];
      if (!fake) throw new Error(`no sandbox fake for ${request.vendor}`);
      const [path = '/', ...rest] = request.path.split('?');
      const response = await fake.handle({
        method: request.method,
        path,
        query: rest.join('?'),
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])),
        body: request.body ?? Buffer.alloc(0),
      });
      return { status: response.status, headers: response.headers, body: Buffer.from(response.body) };
    },
    async close() {},
  };
}

export interface StartSandboxProxyOptions {
  /** Default: a random token, returned in the result. */
  readonly adminToken?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Default `:memory:`. */
  readonly db?: string;
  readonly logLevel?: ProxyConfig['SPENDGATE_LOG_LEVEL'];
}

/**
 * Starts a complete offline proxy in sandbox mode, for examples, demos and users' own CI: nothing leaves
 * the process and no real credentials are needed.
 */
export async function startSandboxProxy(options: StartSandboxProxyOptions = {}) {
  const { loadConfig } = await import('../config/load-config.js');
  const { startProxy } = await import('./start.js');
  const { randomBytes } = await import('node:crypto');
  const adminToken = options.adminToken ?? `sandbox-admin-${randomBytes(16).toString('hex')}`;
  const config = await loadConfig({
    overrides: {
      SPENDGATE_ADMIN_TOKEN: adminToken,
      SPENDGATE_PORT: options.port ?? 0,
      SPENDGATE_HOST: options.host ?? '127.0.0.1',
      SPENDGATE_DB: options.db ?? ':memory:',
      SPENDGATE_LOG_LEVEL: options.logLevel ?? 'silent',
      SPENDGATE_SANDBOX: true,
    },
  });
  const proxy = await startProxy({ config, sandbox: true });
  const fakes = proxy.fakes;
  if (!fakes) throw new Error('sandbox proxy started without fakes');
  return {
    url: proxy.url,
    port: proxy.port,
    adminToken,
    fakes,
    store: proxy.store,
    close: () => proxy.close(),
  };
}
