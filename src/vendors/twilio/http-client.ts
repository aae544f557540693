/**
 * `spendgate/twilio`: point the official Twilio SDK at a spendgate proxy.
 *
 * The SDK has no base-URL option (its `region`/`edge` settings only change the twilio.com hostname), but it
 * accepts a custom `httpClient`. This one keeps the SDK's own request code and only rewrites where each request
 * goes: `https://api.twilio.com/2010-04-01/…` becomes `{proxyUrl}/twilio/2010-04-01/…`.
 *
 * This is the only module that imports `twilio` (an optional peer dependency), so the rest of spendgate loads
 * without it.
 */
import twilio from 'twilio';

type RequestClientOptions = ConstructorParameters<typeof twilio.RequestClient>[0];
type RequestOptions<TData> = Parameters<typeof twilio.RequestClient.prototype.request<TData>>[0];
type RequestResult<TData> = ReturnType<typeof twilio.RequestClient.prototype.request<TData>>;

/**
 * An AccountSid for the SDK to put in paths: the SDK insists on one starting with `AC`, and the proxy replaces it
 * with the real one, so its value does not matter.
 */
export const PLACEHOLDER_ACCOUNT_SID = 'AC00000000000000000000000000000000';

/** The only Twilio host the proxy forwards to. */
const API_HOST = 'api.twilio.com';

export interface SpendgateTwilioHttpClientOptions extends NonNullable<RequestClientOptions> {
  /** The proxy's origin, e.g. `http://127.0.0.1:8787`. */
  readonly proxyUrl: string;
  /**
   * The path the proxy serves Twilio under. Default `/twilio`. Use `''` to talk to an upstream that serves
   * Twilio's own paths at its root (a fake Twilio, a staging host).
   */
  readonly vendorPrefix?: string;
}

/**
 * A Twilio SDK `RequestClient` that sends every `api.twilio.com` request to a spendgate proxy instead.
 * Requests for other Twilio hosts (e.g. `messaging.twilio.com`) are refused before anything is sent, so the
 * vault key never reaches Twilio directly.
 *
 * @example
 * ```ts
 * import twilio from 'twilio';
 * import { SpendgateTwilioHttpClient, PLACEHOLDER_ACCOUNT_SID } from 'spendgate/twilio';
 *
 * const client = twilio(process.env.SPENDGATE_VAULT_KEY, 'unused', {
 *   accountSid: PLACEHOLDER_ACCOUNT_SID,
 *   httpClient: new SpendgateTwilioHttpClient({ proxyUrl: 'http://127.0.0.1:8787' }),
 * });
 * await client.messages.create({ to: '+15558675310', from: '+15017122661', body: 'Hello' });
 * ```
 */
export class SpendgateTwilioHttpClient extends twilio.RequestClient {
  readonly proxyBase: string;

  constructor(options: SpendgateTwilioHttpClientOptions) {
    const { proxyUrl, vendorPrefix = '/twilio', ...clientOptions } = options;
    super(clientOptions);
    const base = new URL(proxyUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError(`proxyUrl must be an http(s) URL, got ${proxyUrl}`);
    }
    this.proxyBase = `${base.origin}${base.pathname.replace(/\/+$/, '')}${vendorPrefix.replace(/\/+$/, '')}`;
  }

  override request<TData>(opts: RequestOptions<TData>): RequestResult<TData> {
    let uri: string;
    try {
      uri = this.rewrite(opts.uri);
    } catch (err) {
      // The SDK's paging code only handles rejections: a synchronous throw would escape it.
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return super.request({ ...opts, uri });
  }

  /** `https://api.twilio.com/2010-04-01/…?q` → `{proxyBase}/2010-04-01/…?q`. */
  rewrite(uri: string): string {
    const url = new URL(uri);
    if (url.hostname !== API_HOST) {
      throw new Error(`spendgate proxies only ${API_HOST}; a request for ${url.hostname} was not sent`);
    }
    return `${this.proxyBase}${url.pathname}${url.search}`;
  }
}

export interface TwilioClientOptionsInput extends SpendgateTwilioHttpClientOptions {
  /** Extra Twilio client options (`logLevel`, `userAgentExtensions`, …), merged in. */
  readonly clientOptions?: Omit<twilio.ClientOpts, 'httpClient' | 'accountSid'>;
}

/**
 * Options for `twilio(vaultKey, 'unused', options)`: a placeholder AccountSid (the proxy substitutes the real
 * one) and a {@link SpendgateTwilioHttpClient}. Pass the vault key as the username.
 *
 * @example
 * ```ts
 * import twilio from 'twilio';
 * import { twilioClientOptions } from 'spendgate/twilio';
 *
 * const client = twilio(vaultKey, 'unused', twilioClientOptions({ proxyUrl: 'http://127.0.0.1:8787' }));
 * ```
 */
export function twilioClientOptions(options: TwilioClientOptionsInput): twilio.ClientOpts {
  const { clientOptions, ...httpOptions } = options;
  return {
    ...clientOptions,
    accountSid: PLACEHOLDER_ACCOUNT_SID,
    httpClient: new SpendgateTwilioHttpClient(httpOptions),
  };
}
