import { fail, noSuch } from './stripe-errors.js';
import { ok, pathId, type StripeHandler } from './stripe-handler.js';
import {
  amountParam,
  currencyParam,
  mergeMetadata,
  optionalString,
  requiredString,
} from './stripe-params.js';
import {
  listEnvelope,
  newId,
  nowSeconds,
  type Customer,
  type Payout,
  type Transfer,
} from './stripe-store.js';

/** Customers, payouts and transfers: https://docs.stripe.com/api/customers, /payouts, /transfers */

const DAY = 86_400;

export const createCustomer: StripeHandler = ({ params, store }) => {
  const customer: Customer = {
    id: newId('cus'),
    object: 'customer',
    balance: 0,
    created: nowSeconds(),
    description: optionalString(params, 'description') ?? null,
    email: optionalString(params, 'email') ?? null,
    livemode: false,
    metadata: mergeMetadata(params),
    name: optionalString(params, 'name') ?? null,
    phone: optionalString(params, 'phone') ?? null,
  };
  store.customers.set(customer.id, customer);
  return ok(customer);
};

export const retrieveCustomer: StripeHandler = (call) => {
  const id = pathId(call);
  return ok(call.store.customers.get(id) ?? noSuch('customer', id));
};

export const updateCustomer: StripeHandler = (call) => {
  const id = pathId(call);
  const customer = call.store.customers.get(id) ?? noSuch('customer', id);
  const { params } = call;
  // Every parameter is read before anything changes: a 400 leaves the customer as it was.
  const update = {
    description: optionalString(params, 'description') ?? customer.description,
    email: optionalString(params, 'email') ?? customer.email,
    name: optionalString(params, 'name') ?? customer.name,
    phone: optionalString(params, 'phone') ?? customer.phone,
    metadata: mergeMetadata(params, customer.metadata),
  };
  Object.assign(customer, update);
  return ok(customer);
};

export const deleteCustomer: StripeHandler = (call) => {
  const id = pathId(call);
  if (!call.store.customers.delete(id)) noSuch('customer', id);
  return ok({ id, object: 'customer', deleted: true });
};

export const listCustomers: StripeHandler = ({ params, store }) => {
  const email = optionalString(params, 'email');
  const customers = [...store.customers.values()].filter((c) => email === undefined || c.email === email);
  return ok(listEnvelope('/v1/customers', customers, params));
};

export const createPayout: StripeHandler = ({ params, store }) => {
  const created = nowSeconds();
  const method = optionalString(params, 'method') ?? 'standard';
  if (method !== 'standard' && method !== 'instant') {
    fail(400, { type: 'invalid_request_error', param: 'method', message: `Invalid method: ${method}` });
  }
  const payout: Payout = {
    id: newId('po'),
    object: 'payout',
    amount: amountParam(params, 'amount', true),
    arrival_date: created + (method === 'instant' ? 0 : 2 * DAY),
    created,
    currency: currencyParam(params),
    description: optionalString(params, 'description') ?? null,
    livemode: false,
    metadata: mergeMetadata(params),
    method,
    status: 'pending',
    type: 'bank_account',
  };
  store.payouts.set(payout.id, payout);
  return ok(payout);
};

export const createTransfer: StripeHandler = ({ params, store }) => {
  const amount = amountParam(params, 'amount', true);
  const currency = currencyParam(params);
  const transfer: Transfer = {
    id: newId('tr'),
    object: 'transfer',
    amount,
    amount_reversed: 0,
    created: nowSeconds(),
    currency,
    description: optionalString(params, 'description') ?? null,
    destination: requiredString(params, 'destination'),
    livemode: false,
    metadata: mergeMetadata(params),
    reversed: false,
    transfer_group: optionalString(params, 'transfer_group') ?? null,
  };
  store.transfers.set(transfer.id, transfer);
  return ok(transfer);
};

export const listPayouts: StripeHandler = ({ params, store }) =>
  ok(listEnvelope('/v1/payouts', store.payouts.values(), params));

export const listTransfers: StripeHandler = ({ params, store }) =>
  ok(listEnvelope('/v1/transfers', store.transfers.values(), params));
