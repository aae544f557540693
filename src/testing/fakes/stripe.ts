import { basicCredentials, bearerToken } from '../../vendors/shared/credentials.js';
import { decodeForm } from '../../wire/form.js';
import { createFake, type Executed } from './create-fake.js';
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
import type { Params } from './stripe-params.js';
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

/**
 * A Stripe API v1 stand-in: PaymentIntents, charges, refunds, customers, payouts and transfers, with Stripe's
 * error envelopes and statuses, `Request-Id` on every response, and Stripe's idempotency (saved status and body
 * replayed with `Idempotent-Replayed: true`, a 400 `idempotency_error` for the same key with other parameters).
 *
 * Declines: `payment_method=pm_card_chargeDeclined` (and Stripe's other `…chargeDeclined…` test methods),
 * `source=tok_chargeDeclined` on charges, or `customer=cus_decline`, answer 402 `card_error`.
 *
 * Not modelled: the $0.50 minimum amount, checks that a referenced customer exists, connected-account
 * separation of objects (`Stripe-Account` only scopes idempotency keys), 3-D Secure (`requires_action`).
 */
export function createFakeStripe(options: FakeStripeOptions): FakeVendor {
  const store = new StripeStore();
  const records = new IdempotencyRecords();

  const process = (req: FakeRequest, executed: Executed): FakeResponse => {
    const key =
      bearerToken({ authorization: req.headers.authorization }) ??
      basicCredentials({ authorization: req.headers.authorization })?.user ??
      null;
    if (key !== options.secretKey) return authError(key === '' ? null : key);

    const route = findRoute(req.method, req.path);
    if (!route) return unrecognized(req);
    const params = decodeForm(req.method === 'POST' ? req.body.toString('utf8') : req.query);

    const idempotencyKey = req.method === 'POST' ? req.headers['idempotency-key'] : undefined;
    if (idempotencyKey === undefined || idempotencyKey === '') return run(route, params, executed);
    if (idempotencyKey.length > 255) {
      return stripeError(400, {
        type: 'invalid_request_error',
        message: 'Idempotency keys can be no longer than 255 characters.',
      });
    }
    // Stripe scopes keys by account: the same key on two connected accounts is two requests.
    const account = req.headers['stripe-account'] ?? req.headers['stripe-context'] ?? '';
    const scope = `${account}\u0000${idempotencyKey}`;
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
    process,
    resetState() {
      store.clear();
      records.clear();
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
