import { basicCredentials, bearerToken } from '../../vendors/shared/credentials.js';
import { createFake, type Admission, type Executed } from './create-fake.js';
import { randomAlnum } from './ids.js';
import { IdempotencyRecords } from './idempotency.js';
import { canonicalJson, jsonResponse } from './json.js';
import { matchPath } from './route.js';
import {
  createCustomer,
  createPayout,
  createTransfer,
  deleteCustomer,
  listCustomers,
  listPayouts,
  listTransfers,
  retrieveCustomer,
  updateCustomer,
} from './stripe-accounts.js';
import {
  captureChargeRoute,
  createChargeRoute,
  createRefund,
  listCharges,
  listRefunds,
  retrieveCharge,
  retrieveRefund,
} from './stripe-charges.js';
import { authError, injectedStripeError, StripeFailure, stripeError } from './stripe-errors.js';
import type { StripeHandler } from './stripe-handler.js';
import {
  cancelIntent,
  captureIntent,
  confirmIntentRoute,
  createIntent,
  listIntents,
  retrieveIntent,
  updateIntent,
} from './stripe-intents.js';
import { requestParams, type Params } from './stripe-params.js';
import { StripeStore } from './stripe-store.js';
import type { FakeRequest, FakeResponse, FakeVendor } from './types.js';

export interface FakeStripeOptions {
  /** The only secret key the fake accepts (Bearer, or Basic with the key as username). */
  readonly secretKey: string;
  /** Mark every response `Spendgate-Sandbox: true` (the proxy's `--sandbox` mode). */
  readonly sandbox?: boolean;
}

const ROUTES: ReadonlyArray<readonly [string, string, StripeHandler]> = [
  ['POST', '/v1/payment_intents', createIntent],
  ['GET', '/v1/payment_intents', listIntents],
  ['GET', '/v1/payment_intents/:id', retrieveIntent],
  ['POST', '/v1/payment_intents/:id', updateIntent],
  ['POST', '/v1/payment_intents/:id/confirm', confirmIntentRoute],
  ['POST', '/v1/payment_intents/:id/capture', captureIntent],
  ['POST', '/v1/payment_intents/:id/cancel', cancelIntent],
  ['POST', '/v1/charges', createChargeRoute],
  ['GET', '/v1/charges', listCharges],
  ['GET', '/v1/charges/:id', retrieveCharge],
  ['POST', '/v1/charges/:id/capture', captureChargeRoute],
  ['POST', '/v1/refunds', createRefund],
  ['GET', '/v1/refunds', listRefunds],
  ['GET', '/v1/refunds/:id', retrieveRefund],
  ['POST', '/v1/customers', createCustomer],
  ['GET', '/v1/customers', listCustomers],
  ['GET', '/v1/customers/:id', retrieveCustomer],
  ['POST', '/v1/customers/:id', updateCustomer],
  ['DELETE', '/v1/customers/:id', deleteCustomer],
  ['POST', '/v1/payouts', createPayout],
  ['GET', '/v1/payouts', listPayouts],
  ['POST', '/v1/transfers', createTransfer],
  ['GET', '/v1/transfers', listTransfers],
];

const IDEMPOTENCY_MISMATCH = (key: string): string =>
  `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`;

const KEY_IN_USE =
  'There is currently another in-progress request using this Stripe API key and idempotency key. Please try again later. If this issue persists, please contact us through our support page at https://support.stripe.com/.';

/** Stripe's ceiling on an `Idempotency-Key`. */
const MAX_KEY_LENGTH = 255;

/**
 * A Stripe API v1 stand-in: PaymentIntents, charges, refunds, customers, payouts and transfers, with Stripe's
 * error envelopes and statuses and `Request-Id` on every response.
 *
 * Parameters: a GET reads its query string; any other method reads its query string and its form body as one
 * bucket, as Stripe does (the body wins a conflict, key by top-level key; see {@link requestParams}). So
 * `POST /v1/payment_intents/pi_1?amount=500000` with body `description=x` changes the amount.
 *
 * Idempotency, scoped by `Stripe-Account` (or `Stripe-Context`): the saved status and body are replayed with
 * `Idempotent-Replayed: true`; the same key with other parameters (query string included) is a 400
 * `idempotency_error`; a request whose key is still in flight (the first one has started and its response is not
 * sent yet, a `delayNext` hold included) is a 409 `idempotency_error` / `idempotency_key_in_use`, with nothing
 * saved. Results are saved once the endpoint ran (declines and 500s included), never for a validation failure.
 *
 * PaymentIntents carry state: an update's `amount` is what a later confirm charges and a capture can take; the
 * amount can no longer change once the intent is `requires_capture`. A failed validation changes nothing.
 *
 * Declines: `payment_method=pm_card_chargeDeclined` (and Stripe's other `…chargeDeclined…` test methods),
 * `source=tok_chargeDeclined` on charges, or `customer=cus_decline`, answer 402 `card_error`.
 *
 * Not modelled: unknown parameters (Stripe's 400 `parameter_unknown`; the fake ignores them), the $0.50 minimum
 * amount, checks that a referenced customer exists, connected-account separation of objects (`Stripe-Account`
 * only scopes idempotency keys), a key reused on another endpoint (answered like other parameters), key expiry
 * after 24 hours, 3-D Secure (`requires_action`), incremental authorisation, `capture_method` on confirm.
 */
export function createFakeStripe(options: FakeStripeOptions): FakeVendor {
  const store = new StripeStore();
  const records = new IdempotencyRecords();
  /** Idempotency scopes of the requests in flight, each with a token for the request holding it. */
  const inFlight = new Map<string, symbol>();

  const authenticated = (req: FakeRequest): boolean => presentedKey(req) === options.secretKey;

  /** Holds the request's idempotency scope from its arrival until its response goes out; 409 if already held. */
  const admit = (req: FakeRequest): Admission => {
    const scope = authenticated(req) ? idempotencyScope(req) : null;
    if (scope === null) return { kind: 'admitted' };
    if (inFlight.has(scope)) {
      return {
        kind: 'refused',
        response: stripeError(409, {
          type: 'idempotency_error',
          code: 'idempotency_key_in_use',
          message: KEY_IN_USE,
        }),
      };
    }
    const token = Symbol(scope);
    inFlight.set(scope, token);
    return {
      kind: 'admitted',
      release: () => {
        // A reset() in between may have handed the scope to a newer request: leave that one's claim alone.
        if (inFlight.get(scope) === token) inFlight.delete(scope);
      },
    };
  };

  const process = (req: FakeRequest, executed: Executed): FakeResponse => {
    if (!authenticated(req)) {
      const key = presentedKey(req);
      return authError(key === '' ? null : key);
    }

    const route = findRoute(req.method, req.path);
    if (!route) return unrecognized(req);
    const params = requestParams(req);

    const idempotencyKey = req.method === 'POST' ? req.headers['idempotency-key'] : undefined;
    if (idempotencyKey === undefined || idempotencyKey === '') return run(route, params, executed);
    if (idempotencyKey.length > MAX_KEY_LENGTH) {
      return stripeError(400, {
        type: 'invalid_request_error',
        message: 'Idempotency keys can be no longer than 255 characters.',
      });
    }
    const scope = scopeOf(req, idempotencyKey);
    // The merged parameters: the same key with another query string is another request.
    const fingerprint = canonicalJson([req.method, req.path, params]);
    const previous = records.lookup(scope, fingerprint);
    if (previous.kind === 'replay') {
      return {
        ...previous.response,
        headers: { ...previous.response.headers, 'idempotent-replayed': 'true' },
      };
    }
    if (previous.kind === 'mismatch') {
      return stripeError(400, { type: 'idempotency_error', message: IDEMPOTENCY_MISMATCH(idempotencyKey) });
    }
    const response = run(route, params, executed);
    // Stripe saves a result once the endpoint started executing (declines and 500s included), never a
    // validation failure or an auth/rate-limit refusal.
    if (response.status < 400 || response.status === 402 || response.status >= 500) {
      records.save(scope, fingerprint, response);
    }
    return response;
  };

  return createFake({
    name: 'stripe',
    sandbox: options.sandbox ?? false,
    errorBody: injectedStripeError,
    headers(req) {
      const key = req.headers['idempotency-key'];
      const version = req.headers['stripe-version'];
      return {
        'request-id': `req_${randomAlnum(14)}`,
        ...(req.method === 'POST' && key ? { 'idempotency-key': key } : {}),
        ...(version ? { 'stripe-version': version } : {}),
      };
    },
    admit,
    process,
    resetState() {
      store.clear();
      records.clear();
      inFlight.clear();
    },
  });

  function run(route: Route, params: Params, executed: Executed): FakeResponse {
    try {
      const result = route.handler({ params, ids: route.ids, store });
      return executed(jsonResponse(result.status, result.body));
    } catch (err) {
      if (err instanceof StripeFailure) return err.response;
      throw err;
    }
  }
}

/** The secret key a request presents (Bearer, or Basic with the key as username), or `null`. */
function presentedKey(req: FakeRequest): string | null {
  return (
    bearerToken({ authorization: req.headers.authorization }) ??
    basicCredentials({ authorization: req.headers.authorization })?.user ??
    null
  );
}

/** The scope of a POST's usable `Idempotency-Key` (not empty, not too long), or `null`. */
function idempotencyScope(req: FakeRequest): string | null {
  const key = req.method === 'POST' ? req.headers['idempotency-key'] : undefined;
  return key === undefined || key === '' || key.length > MAX_KEY_LENGTH ? null : scopeOf(req, key);
}

/** Stripe scopes keys by account: the same key on two connected accounts is two requests. */
function scopeOf(req: FakeRequest, key: string): string {
  const account = req.headers['stripe-account'] ?? req.headers['stripe-context'] ?? '';
  return `${account}\u0000${key}`;
}

interface Route {
  readonly handler: StripeHandler;
  readonly ids: Record<string, string>;
}

function findRoute(method: string, path: string): Route | null {
  for (const [routeMethod, pattern, handler] of ROUTES) {
    if (routeMethod !== method) continue;
    const ids = matchPath(pattern, path);
    if (ids) return { handler, ids };
  }
  return null;
}

function unrecognized(req: FakeRequest): FakeResponse {
  return stripeError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `Unrecognized request URL (${req.method}: ${req.path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  });
}
