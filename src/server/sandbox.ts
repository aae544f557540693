import { resolve } from 'node:path';
import type { ProxyConfig } from '../config/schema.js';
import { spendgateError } from '../errors/index.js';
import type { KeyRecord } from '../store/types.js';
import type { ConfiguredVendor } from '../vendors/registry.js';
import type { FakeVendor } from '../testing/fakes/types.js';
import type { Forwarder } from './forwarder.js';

/** Credentials the in-process fakes expect; they are not secrets and can never reach a real vendor. */
export const SANDBOX_SECRETS = {
  STRIPE_SECRET_KEY: 'sk_test_spendgate_sandbox',
  TWILIO_ACCOUNT_SID: 'AC5a4d600000000000000000000000000',
  TWILIO_AUTH_TOKEN: 'spendgate_sandbox_auth_token',
  RESEND_API_KEY: 're_spendgate_sandbox',
} as const;

/** The live proxy's default ledger. A sandbox never opens it: its keys and spend would mix with live ones. */
const LIVE_DEFAULT_DB = './spendgate.db';

/** The reserved metadata entry recording the mode of the proxy that issued a key. */
export const KEY_MODE_METADATA = 'spendgate_mode';

export type KeyMode = 'sandbox' | 'live';

const modeOf = (sandboxed: boolean): KeyMode => (sandboxed ? 'sandbox' : 'live');

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
  const db = resolve(config.SPENDGATE_DB) === resolve(LIVE_DEFAULT_DB) ? ':memory:' : config.SPENDGATE_DB;
  return {
    config: { ...config, ...SANDBOX_SECRETS, SPENDGATE_DB: db },
    forwarder: createInProcessForwarder(fakes),
    fakes,
  };
}

/**
 * The metadata a key is issued with: the caller's, plus the issuing proxy's mode under a reserved entry, so
 * that a sandbox key cannot move real money on a live proxy sharing its ledger, nor a live key reach a fake.
 */
export function withKeyMode(
  metadata: Readonly<Record<string, string>> | undefined,
  sandboxed: boolean,
): Record<string, string> {
  if (metadata && Object.hasOwn(metadata, KEY_MODE_METADATA)) {
    throw spendgateError('bad_request', `metadata.${KEY_MODE_METADATA} is set by the proxy, not the caller`, {
      param: `metadata.${KEY_MODE_METADATA}`,
    });
  }
  return { ...metadata, [KEY_MODE_METADATA]: modeOf(sandboxed) };
}

/**
 * Refuses a key issued in the other mode. A key without the entry predates it and counts as live: a sandbox
 * proxy then refuses it, which errs on the side of never mixing the two.
 */
export function checkKeyMode(key: KeyRecord, sandboxed: boolean): void {
  const mode: KeyMode = key.metadata[KEY_MODE_METADATA] === 'sandbox' ? 'sandbox' : 'live';
  if (mode === modeOf(sandboxed)) return;
  throw spendgateError(
    'key_mode_mismatch',
    `Key ${key.id} was issued by a ${mode} proxy; this proxy is ${sandboxed ? 'a sandbox' : 'live'}`,
    { key_id: key.id },
  );
}

export interface BannerOptions {
  readonly url: string;
  readonly config: ProxyConfig;
  readonly sandboxed: boolean;
  readonly vendors: ReadonlyMap<string, ConfiguredVendor>;
}

/** What the proxy prints on start-up: where it listens, each vendor's state and the ledger, never a secret. */
export function startupBanner(options: BannerOptions): string[] {
  const { config, sandboxed } = options;
  const names = [...options.vendors.keys()];
  const state = (v: ConfiguredVendor) => (sandboxed ? 'faked' : v.secrets ? 'configured' : 'not configured');
  const vendors = [...options.vendors.values()].map((v) => `${v.vendor.name}=${state(v)}`);
  const ledger = /^postgres/i.test(config.SPENDGATE_DB) ? 'postgres' : config.SPENDGATE_DB;
  return [
    `spendgate listening on ${options.url}`,
    ...(sandboxed
      ? [
          `spendgate SANDBOX: ${names.join(', ')} are faked in-process; nothing reaches a real vendor, ` +
            'and keys issued here are refused by a live proxy',
        ]
      : []),
    `spendgate vendors: ${vendors.join(', ')}; ledger: ${ledger}`,
  ];
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
    banner: proxy.banner,
    close: () => proxy.close(),
  };
}
