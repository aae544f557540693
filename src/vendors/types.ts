import type { IncomingHttpHeaders } from 'node:http';
import type { FxRates } from '../currency.js';
import type { Micros } from '../money.js';
import type { ArrayFormat } from '../wire/form.js';

/** A vendor call as the proxy sees it once the path is normalised and the body is parsed. */
export interface VendorRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The vendor's own path, normalised (no prefix, no query), e.g. `/v1/payment_intents`. */
  readonly path: string;
  /** The canonical re-encoding of the query string, without `?`, or `''`. Only reads carry one. */
  readonly query: string;
  /** Lower-case header names, as Node gives them. */
  readonly headers: IncomingHttpHeaders;
  /** The parsed body (form or JSON), used for pricing. `null` when there is no body. */
  readonly params: unknown;
  /** The canonical re-encoding of `params` in the vendor's wire format: exactly what will be forwarded. */
  readonly body: Buffer;
  /** The forwarded body's media type; `null` without a body. */
  readonly contentType: string | null;
}

/** What a call will cost, decided before it is forwarded. Free calls are `{ kind: 'priced', amount: 0 }`. */
export type CostEstimate =
  | { readonly kind: 'priced'; readonly amount: Micros }
  /**
   * The call moves money that an earlier call on the same key already paid for (confirming or capturing a
   * PaymentIntent this key created). It is free when the store holds that object for the key, refused otherwise.
   */
  | { readonly kind: 'covered'; readonly objectId: string; readonly message: string }
  | { readonly kind: 'refused'; readonly message: string };

export interface PricingContext {
  readonly fxRates: FxRates;
}

export interface VendorResponse {
  readonly status: number;
  /** The parsed JSON body, or `undefined` when it was not JSON. */
  readonly json: unknown;
}

/** The real credentials for one vendor, from configuration. Never logged, never stored. */
export type VendorSecrets = Readonly<Record<string, string>>;

export interface UpstreamRequest {
  readonly path: string;
  /** Headers to set on the forwarded request (credentials, content type). They replace the client's. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface ParsedBody {
  readonly params: unknown;
  /** The canonical re-encoding of `params`, never the client's own bytes. */
  readonly body: Buffer;
  readonly contentType: string | null;
}

/**
 * Everything the proxy needs to know about one vendor. Adding a vendor means one module implementing this,
 * registered in the vendor registry; the core does not change.
 */
export interface Vendor {
  readonly name: string;
  /** The real API origin, e.g. `https://api.stripe.com`. */
  readonly defaultBaseUrl: string;
  /** Names of the secrets this vendor needs, e.g. `['secretKey']`. All must be set for it to be configured. */
  readonly secretNames: readonly string[];
  /** Turns the incoming body (JSON or the vendor's own format) into params and the forwarded bytes. */
  parseBody(input: { readonly contentType: string | undefined; readonly raw: Buffer }): ParsedBody;
  /** How the vendor's query strings (and form bodies) spell arrays. */
  readonly arrayFormat: ArrayFormat;
  /**
   * Lower-case request headers forwarded when present (the SDK's own: user agent, API version, idempotency
   * key). Every other client header is dropped; the proxy sets content type, encoding and credentials itself.
   */
  readonly forwardHeaders: ReadonlySet<string>;
  /**
   * Headers that make a call act for another account (Stripe-Account). Forwarded only when the key's
   * `connected_accounts` names the value; otherwise the call is refused with `account_not_allowed`.
   */
  readonly accountHeaders: ReadonlySet<string>;
  /**
   * Refuses, before pricing, any parameter outside the endpoint's closed schema (`param_not_allowed`) or of
   * the wrong shape (`param_invalid`), on every endpoint that can move money.
   */
  checkParams(request: VendorRequest): void;
  /** The idempotency key the vendor honours for this call, scoped as the vendor scopes it; `null` if none. */
  idempotencyKey(request: VendorRequest): string | null;
  estimateCost(request: VendorRequest, context: PricingContext): CostEstimate;
  /** The cost to settle a 2xx response at; falls back to the estimate where the response states none. */
  actualCost(
    request: VendorRequest,
    response: VendorResponse,
    estimate: Micros,
    context: PricingContext,
  ): Micros;
  /** Where and how to forward: the real credentials go in here, and nowhere else. */
  upstream(request: VendorRequest, secrets: VendorSecrets): UpstreamRequest;
  /** The vendor object a 2xx response created (e.g. `pi_…`), recorded so later calls on it are `covered`. */
  createdObjectId(request: VendorRequest, response: VendorResponse): string | null;
  /** The vendor's request id from a response, for the audit log. */
  vendorRequestId(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    json: unknown,
  ): string | null;
}
