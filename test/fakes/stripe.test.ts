import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeStripe, serveFake, type ServedFake } from '../../src/testing/index.js';

const SECRET = 'sk_test_51FakeSecretKey00001234';
const fake = createFakeStripe({ secretKey: SECRET });
let served: ServedFake;

function sdk(key = SECRET, maxNetworkRetries = 0): Stripe {
  const url = new URL(served.url);
  return new Stripe(key, {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    telemetry: false,
    maxNetworkRetries,
  });
}

async function raw(
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${served.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${SECRET}`, ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  served = await serveFake(fake);
});
afterAll(async () => {
  await served.close();
});
beforeEach(() => fake.reset());

describe('fake Stripe through the official SDK', () => {
  it('creates and confirms PaymentIntents with Stripe-shaped objects and a Request-Id', async () => {
    const stripe = sdk();
    const pending = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'USD',
      metadata: { run: 'r1' },
    });
    expect(pending).toMatchObject({
      object: 'payment_intent',
      amount: 2000,
      currency: 'usd',
      status: 'requires_payment_method',
      livemode: false,
      metadata: { run: 'r1' },
      amount_received: 0,
    });
    expect(pending.id).toMatch(/^pi_/);
    expect(pending.created).toBeGreaterThan(1_700_000_000);
    expect(pending.lastResponse.requestId).toMatch(/^req_/);
    expect(pending.lastResponse.statusCode).toBe(200);

    const paid = await stripe.paymentIntents.create({
      amount: 500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    expect(paid.status).toBe('succeeded');
    expect(paid.amount_received).toBe(500);
    expect(paid.latest_charge).toMatch(/^ch_/);

    const confirmed = await stripe.paymentIntents.confirm(pending.id, { payment_method: 'pm_card_visa' });
    expect(confirmed.status).toBe('succeeded');
    expect((await stripe.paymentIntents.retrieve(pending.id)).amount_received).toBe(2000);
  });

  it('sets requires_confirmation when a payment method is given without confirm', async () => {
    const intent = await sdk().paymentIntents.create({
      amount: 100,
      currency: 'usd',
      payment_method: 'pm_card_visa',
    });
    expect(intent.status).toBe('requires_confirmation');
  });

  it('authorises with capture_method=manual and captures part of it', async () => {
    const stripe = sdk();
    const held = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      capture_method: 'manual',
    });
    expect(held).toMatchObject({ status: 'requires_capture', amount_capturable: 1000, amount_received: 0 });
    const captured = await stripe.paymentIntents.capture(held.id, { amount_to_capture: 600 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 600, amount_capturable: 0 });
    const charge = await stripe.charges.retrieve(captured.latest_charge as string);
    expect(charge).toMatchObject({ captured: true, amount_captured: 600, payment_intent: held.id });
  });

  it('refuses to capture more than was authorised, or an intent in the wrong state', async () => {
    const stripe = sdk();
    const held = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      capture_method: 'manual',
    });
    const tooMuch = await caught(stripe.paymentIntents.capture(held.id, { amount_to_capture: 1001 }));
    expect(tooMuch).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(tooMuch).toMatchObject({ code: 'amount_too_large', statusCode: 400 });

    const open = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const wrongState = await caught(stripe.paymentIntents.capture(open.id));
    expect(wrongState).toMatchObject({ code: 'payment_intent_unexpected_state', statusCode: 400 });
  });

  it('declines pm_card_chargeDeclined with a 402 StripeCardError', async () => {
    const err = await caught(
      sdk().paymentIntents.create({
        amount: 500,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
      }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({
      type: 'StripeCardError',
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
      param: 'payment_method',
      statusCode: 402,
    });
    const cardError = err as Stripe.errors.StripeCardError;
    expect(cardError.requestId).toMatch(/^req_/);
    expect(cardError.payment_intent?.status).toBe('requires_payment_method');
    expect(cardError.payment_intent?.last_payment_error?.code).toBe('card_declined');
  });

  it('declines the cus_decline customer and other decline test methods', async () => {
    const stripe = sdk();
    const byCustomer = await caught(
      stripe.paymentIntents.create({ amount: 500, currency: 'usd', customer: 'cus_decline', confirm: true }),
    );
    expect(byCustomer).toMatchObject({
      code: 'card_declined',
      decline_code: 'generic_decline',
      statusCode: 402,
    });
    const insufficient = await caught(
      stripe.paymentIntents.create({
        amount: 500,
        currency: 'usd',
        payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds',
        confirm: true,
      }),
    );
    expect(insufficient).toMatchObject({ code: 'card_declined', decline_code: 'insufficient_funds' });
    const charge = await caught(
      stripe.charges.create({ amount: 500, currency: 'usd', source: 'tok_chargeDeclined' }),
    );
    expect(charge).toBeInstanceOf(Stripe.errors.StripeCardError);
  });

  it('answers the exact card_declined body on the wire', async () => {
    const res = await raw('POST', '/v1/payment_intents', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=500&currency=usd&payment_method=pm_card_chargeDeclined&confirm=true',
    });
    expect(res.status).toBe(402);
    expect(res.json.error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
      param: 'payment_method',
    });
  });

  it('rejects a wrong key with StripeAuthenticationError and a masked key', async () => {
    const err = await caught(sdk('sk_test_wrongwrongwrong9876').customers.list());
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err).toMatchObject({ statusCode: 401, message: 'Invalid API Key provided: sk_test_****9876' });
    const missing = await fetch(`${served.url}/v1/customers`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('request-id')).toMatch(/^req_/);
  });

  it('accepts Basic auth with the key as username, as Stripe does', async () => {
    const res = await raw('GET', '/v1/customers', {
      headers: { authorization: `Basic ${Buffer.from(`${SECRET}:`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ object: 'list', url: '/v1/customers', has_more: false, data: [] });
  });

  it('reports missing and invalid parameters with parameter_missing and param', async () => {
    const stripe = sdk();
    const noAmount = await caught(
      stripe.paymentIntents.create({ currency: 'usd' } as Stripe.PaymentIntentCreateParams),
    );
    expect(noAmount).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(noAmount).toMatchObject({ code: 'parameter_missing', param: 'amount', statusCode: 400 });
    const noCurrency = await caught(
      stripe.paymentIntents.create({ amount: 100 } as Stripe.PaymentIntentCreateParams),
    );
    expect(noCurrency).toMatchObject({ code: 'parameter_missing', param: 'currency' });
    const res = await raw('POST', '/v1/payment_intents', { body: 'amount=abc&currency=usd' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'parameter_invalid_integer', param: 'amount' });
  });

  it('answers 404 resource_missing for unknown ids and unknown URLs', async () => {
    const err = await caught(sdk().paymentIntents.retrieve('pi_nope'));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      message: "No such payment_intent: 'pi_nope'",
    });
    const res = await raw('POST', '/v1/unicorns', { body: 'a=1' });
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
  });

  describe('idempotency', () => {
    it('replays the saved response for the same key and parameters, with Idempotent-Replayed', async () => {
      const stripe = sdk();
      const first = await stripe.paymentIntents.create(
        { amount: 700, currency: 'usd' },
        { idempotencyKey: 'k-1' },
      );
      const again = await stripe.paymentIntents.create(
        { amount: 700, currency: 'usd' },
        { idempotencyKey: 'k-1' },
      );
      expect(again.id).toBe(first.id);
      expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
      expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
      expect(again.lastResponse.idempotencyKey).toBe('k-1');
      expect((await stripe.paymentIntents.list()).data).toHaveLength(1);
    });

    it('refuses the same key with other parameters with StripeIdempotencyError and Stripe wording', async () => {
      const stripe = sdk();
      await stripe.paymentIntents.create({ amount: 700, currency: 'usd' }, { idempotencyKey: 'k-2' });
      const err = await caught(
        stripe.paymentIntents.create({ amount: 701, currency: 'usd' }, { idempotencyKey: 'k-2' }),
      );
      expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
      expect(err).toMatchObject({
        statusCode: 400,
        message:
          "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'k-2' if you meant to execute a different request.",
      });
    });

    it('scopes keys by Stripe-Account and records the header', async () => {
      const stripe = sdk();
      const a = await stripe.customers.create(
        { email: 'a@x.io' },
        { idempotencyKey: 'k-3', stripeAccount: 'acct_1' },
      );
      const b = await stripe.customers.create(
        { email: 'a@x.io' },
        { idempotencyKey: 'k-3', stripeAccount: 'acct_2' },
      );
      expect(a.id).not.toBe(b.id);
      expect(fake.requests.map((r) => r.headers['stripe-account'])).toEqual(['acct_1', 'acct_2']);
    });

    it('does not save a validation failure, so a corrected retry with the same key goes through', async () => {
      const res = await raw('POST', '/v1/payment_intents', {
        body: 'currency=usd',
        headers: { 'idempotency-key': 'k-4' },
      });
      expect(res.status).toBe(400);
      const retry = await raw('POST', '/v1/payment_intents', {
        body: 'currency=usd',
        headers: { 'idempotency-key': 'k-4' },
      });
      expect(retry.headers.get('idempotent-replayed')).toBeNull();
    });

    it('replays a saved decline', async () => {
      const body = 'amount=500&currency=usd&payment_method=pm_card_chargeDeclined&confirm=true';
      const first = await raw('POST', '/v1/payment_intents', { body, headers: { 'idempotency-key': 'k-5' } });
      const second = await raw('POST', '/v1/payment_intents', {
        body,
        headers: { 'idempotency-key': 'k-5' },
      });
      expect(second.status).toBe(402);
      expect(second.json).toEqual(first.json);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.headers.get('idempotency-key')).toBe('k-5');
    });
  });

  describe('test hooks', () => {
    it('failNext before execution moves no money and lets the SDK retry with the same key', async () => {
      fake.failNext({ status: 500 });
      const intent = await sdk(SECRET, 1).paymentIntents.create({ amount: 900, currency: 'usd' });
      expect(fake.requests).toHaveLength(2);
      const [first, second] = fake.requests;
      expect(first?.headers['idempotency-key']).toMatch(/^stripe-node-retry-/);
      expect(second?.headers['idempotency-key']).toBe(first?.headers['idempotency-key']);
      expect((await sdk().paymentIntents.list()).data.map((pi) => pi.id)).toEqual([intent.id]);
    });

    it('failNext afterExecute moves the money, saves the 500, and replays it', async () => {
      fake.failNext({ status: 500, afterExecute: true });
      const stripe = sdk();
      const params = { amount: 900, currency: 'usd', payment_method: 'pm_card_visa', confirm: true };
      const err = await caught(stripe.paymentIntents.create(params, { idempotencyKey: 'k-6' }));
      expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect(err).toMatchObject({ statusCode: 500 });
      const replay = await raw('POST', '/v1/payment_intents', {
        body: 'amount=900&currency=usd&payment_method=pm_card_visa&confirm=true',
        headers: { 'idempotency-key': 'k-6' },
      });
      expect(replay.status).toBe(500);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      const intents = await stripe.paymentIntents.list();
      expect(intents.data).toHaveLength(1);
      expect(intents.data[0]?.status).toBe('succeeded');
    });

    it('failNext honours times, a custom body and a method/path match', async () => {
      fake.failNext({
        status: 503,
        times: 2,
        method: 'POST',
        path: '/v1/customers',
        body: { error: { type: 'api_error', message: 'down' } },
      });
      expect((await raw('GET', '/v1/customers')).status).toBe(200);
      const first = await raw('POST', '/v1/customers', { body: 'email=a%40b.co' });
      expect(first).toMatchObject({ status: 503, json: { error: { message: 'down' } } });
      expect((await raw('POST', '/v1/customers', { body: '' })).status).toBe(503);
      expect((await raw('POST', '/v1/customers', { body: '' })).status).toBe(200);
    });

    it('delayNext holds the response', async () => {
      fake.delayNext(150);
      const started = Date.now();
      await raw('GET', '/v1/customers');
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });

    it('resetSocketNext afterExecute: the SDK retries the reset with the same key and gets the replay', async () => {
      served.resetSocketNext({ afterExecute: true });
      const intent = await sdk().paymentIntents.create(
        { amount: 300, currency: 'usd' },
        { idempotencyKey: 'k-7' },
      );
      expect(intent.lastResponse.headers['idempotent-replayed']).toBe('true');
      expect(fake.requests).toHaveLength(2);
      expect((await sdk().paymentIntents.list()).data).toHaveLength(1);
    });

    it('resetSocketNext before execution: the fake never sees the request', async () => {
      served.resetSocketNext();
      const res = await fetch(`${served.url}/v1/customers`, {
        headers: { authorization: `Bearer ${SECRET}` },
      }).catch((err: unknown) => err);
      expect(res).toBeInstanceOf(Error);
      expect(fake.requests).toHaveLength(0);
    });
  });

  it('cancels, and refuses to cancel a succeeded intent', async () => {
    const stripe = sdk();
    const open = await stripe.paymentIntents.create({ amount: 100, currency: 'usd' });
    const canceled = await stripe.paymentIntents.cancel(open.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    const paid = await stripe.paymentIntents.create({
      amount: 100,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const err = await caught(stripe.paymentIntents.cancel(paid.id));
    expect(err).toMatchObject({ code: 'payment_intent_unexpected_state', statusCode: 400 });
  });

  it('updates an intent and merges metadata', async () => {
    const stripe = sdk();
    const open = await stripe.paymentIntents.create({
      amount: 100,
      currency: 'usd',
      metadata: { a: '1', b: '2' },
    });
    const updated = await stripe.paymentIntents.update(open.id, { amount: 250, metadata: { b: '', c: '3' } });
    expect(updated).toMatchObject({ amount: 250, metadata: { a: '1', c: '3' } });
  });

  it('refunds in full by default, partially on request, and never more than was paid', async () => {
    const stripe = sdk();
    const paid = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const part = await stripe.refunds.create({
      payment_intent: paid.id,
      amount: 300,
      reason: 'requested_by_customer',
    });
    expect(part).toMatchObject({
      object: 'refund',
      amount: 300,
      currency: 'usd',
      payment_intent: paid.id,
      charge: paid.latest_charge,
      status: 'succeeded',
    });
    expect(part.id).toMatch(/^re_/);
    const tooMuch = await caught(stripe.refunds.create({ payment_intent: paid.id, amount: 701 }));
    expect(tooMuch).toMatchObject({ code: 'amount_too_large', statusCode: 400 });
    const rest = await stripe.refunds.create({ charge: paid.latest_charge as string });
    expect(rest.amount).toBe(700);
    const charge = await stripe.charges.retrieve(paid.latest_charge as string);
    expect(charge).toMatchObject({ amount_refunded: 1000, refunded: true });
    const again = await caught(stripe.refunds.create({ payment_intent: paid.id }));
    expect(again).toMatchObject({ code: 'charge_already_refunded' });
    expect((await stripe.refunds.list({ payment_intent: paid.id })).data).toHaveLength(2);
  });

  it('creates, captures and lists legacy charges', async () => {
    const stripe = sdk();
    const held = await stripe.charges.create({
      amount: 800,
      currency: 'eur',
      source: 'tok_visa',
      capture: false,
    });
    expect(held).toMatchObject({
      object: 'charge',
      captured: false,
      amount_captured: 0,
      status: 'succeeded',
    });
    const captured = await stripe.charges.capture(held.id, { amount: 500 });
    expect(captured).toMatchObject({ captured: true, amount_captured: 500 });
    const twice = await caught(stripe.charges.capture(held.id));
    expect(twice).toMatchObject({ code: 'charge_already_captured' });
    const list = await stripe.charges.list();
    expect(list.object).toBe('list');
    expect(list.data.map((c) => c.id)).toEqual([held.id]);
  });

  it('manages customers and paginates newest first', async () => {
    const stripe = sdk();
    const made = [];
    for (const email of ['a@x.io', 'b@x.io', 'c@x.io']) made.push(await stripe.customers.create({ email }));
    const page = await stripe.customers.list({ limit: 2 });
    expect(page.has_more).toBe(true);
    expect(page.data.map((c) => c.email)).toEqual(['c@x.io', 'b@x.io']);
    const next = await stripe.customers.list({ limit: 2, starting_after: page.data[1]?.id as string });
    expect(next.has_more).toBe(false);
    expect(next.data.map((c) => c.email)).toEqual(['a@x.io']);
    const all: string[] = [];
    for await (const customer of stripe.customers.list({ limit: 1 })) all.push(customer.id);
    expect(all).toEqual(made.map((c) => c.id).reverse());

    const first = made[0] as Stripe.Customer;
    expect((await stripe.customers.update(first.id, { name: 'Ada' })).name).toBe('Ada');
    expect((await stripe.customers.retrieve(first.id)) as Stripe.Customer).toMatchObject({ name: 'Ada' });
    expect(await stripe.customers.del(first.id)).toMatchObject({ id: first.id, deleted: true });
    expect(await caught(stripe.customers.retrieve(first.id))).toMatchObject({ statusCode: 404 });
  });

  it('creates payouts and transfers', async () => {
    const stripe = sdk();
    const payout = await stripe.payouts.create({ amount: 5000, currency: 'usd' });
    expect(payout).toMatchObject({ object: 'payout', amount: 5000, status: 'pending', livemode: false });
    expect(payout.id).toMatch(/^po_/);
    const transfer = await stripe.transfers.create({
      amount: 4000,
      currency: 'usd',
      destination: 'acct_123',
    });
    expect(transfer).toMatchObject({ object: 'transfer', amount: 4000, destination: 'acct_123' });
    expect(transfer.id).toMatch(/^tr_/);
    const noDestination = await caught(
      stripe.transfers.create({ amount: 1, currency: 'usd' } as Stripe.TransferCreateParams),
    );
    expect(noDestination).toMatchObject({ code: 'parameter_missing', param: 'destination' });
  });
});

describe('fake Stripe in sandbox mode, in-process', () => {
  it('marks every response Spendgate-Sandbox and livemode false', async () => {
    const sandbox = createFakeStripe({ secretKey: SECRET, sandbox: true });
    const ok = await sandbox.handle({
      method: 'POST',
      path: '/v1/payment_intents',
      query: '',
      headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from('amount=100&currency=usd'),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers['spendgate-sandbox']).toBe('true');
    expect(JSON.parse(ok.body)).toMatchObject({ livemode: false });
    const denied = await sandbox.handle({
      method: 'GET',
      path: '/v1/customers',
      query: '',
      headers: {},
      body: Buffer.alloc(0),
    });
    expect(denied.status).toBe(401);
    expect(denied.headers['spendgate-sandbox']).toBe('true');
    expect(sandbox.requests).toHaveLength(2);
  });

  it('does not mark responses outside sandbox mode', async () => {
    const res = await fake.handle({
      method: 'GET',
      path: '/v1/customers',
      query: '',
      headers: {},
      body: Buffer.alloc(0),
    });
    expect(res.headers['spendgate-sandbox']).toBeUndefined();
  });
});
