import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeStripe, serveFake, type ServedFake } from '../../src/testing/index.js';

// What a PaymentIntent update changes is what a later confirm or capture moves: the proxy prices those calls
// from the intent's state, so the fake has to keep that state the way Stripe does.

const SECRET = 'sk_test_51FakeSecretKey00001234';
const fake = createFakeStripe({ secretKey: SECRET });
let served: ServedFake;
let stripe: Stripe;

beforeAll(async () => {
  served = await serveFake(fake);
  const url = new URL(served.url);
  stripe = new Stripe(SECRET, {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    telemetry: false,
    maxNetworkRetries: 0,
  });
});
afterAll(async () => {
  await served.close();
});
beforeEach(() => fake.reset());

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('fake Stripe PaymentIntent state', () => {
  it('an updated amount is what confirm charges and receives', async () => {
    const open = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    await stripe.paymentIntents.update(open.id, { amount: 2500 });
    const paid = await stripe.paymentIntents.confirm(open.id, { payment_method: 'pm_card_visa' });
    expect(paid).toMatchObject({ status: 'succeeded', amount: 2500, amount_received: 2500 });
    const charge = await stripe.charges.retrieve(paid.latest_charge as string);
    expect(charge).toMatchObject({
      amount: 2500,
      amount_captured: 2500,
      captured: true,
      payment_intent: open.id,
    });
    expect(charge.balance_transaction).toMatch(/^txn_/);
  });

  it('an updated amount is what a manual confirm authorises and a capture takes', async () => {
    const open = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      capture_method: 'manual',
    });
    await stripe.paymentIntents.update(open.id, { amount: 4000 });
    const held = await stripe.paymentIntents.confirm(open.id, { payment_method: 'pm_card_visa' });
    expect(held).toMatchObject({ status: 'requires_capture', amount: 4000, amount_capturable: 4000 });
    const authorised = await stripe.charges.retrieve(held.latest_charge as string);
    expect(authorised).toMatchObject({
      amount: 4000,
      captured: false,
      amount_captured: 0,
      balance_transaction: null,
    });

    const captured = await stripe.paymentIntents.capture(open.id);
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 4000, amount_capturable: 0 });
    const charge = await stripe.charges.retrieve(held.latest_charge as string);
    expect(charge).toMatchObject({ amount: 4000, captured: true, amount_captured: 4000 });
    expect(charge.balance_transaction).toMatch(/^txn_/);
  });

  it('an update to a lower amount lowers what can be captured', async () => {
    const open = await stripe.paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      capture_method: 'manual',
    });
    await stripe.paymentIntents.update(open.id, { amount: 300 });
    await stripe.paymentIntents.confirm(open.id, { payment_method: 'pm_card_visa' });
    const tooMuch = await caught(stripe.paymentIntents.capture(open.id, { amount_to_capture: 301 }));
    expect(tooMuch).toMatchObject({ statusCode: 400, code: 'amount_too_large' });
    expect(await stripe.paymentIntents.capture(open.id, { amount_to_capture: 300 })).toMatchObject({
      amount_received: 300,
    });
  });

  it('refuses to change the amount, currency or payment method once authorised; metadata still changes', async () => {
    const held = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      capture_method: 'manual',
    });
    expect(held.status).toBe('requires_capture');
    const amount = await caught(stripe.paymentIntents.update(held.id, { amount: 500000 }));
    expect(amount).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(amount).toMatchObject({
      statusCode: 400,
      code: 'payment_intent_unexpected_state',
      message:
        "This PaymentIntent's amount could not be updated because it has a status of requires_capture. You may only update the amount of a PaymentIntent with one of the following statuses: requires_payment_method, requires_confirmation, requires_action.",
    });
    expect(await caught(stripe.paymentIntents.update(held.id, { currency: 'eur' }))).toMatchObject({
      code: 'payment_intent_unexpected_state',
    });
    expect(
      await caught(stripe.paymentIntents.update(held.id, { payment_method: 'pm_card_mastercard' })),
    ).toMatchObject({
      code: 'payment_intent_unexpected_state',
    });
    const tagged = await stripe.paymentIntents.update(held.id, { metadata: { order: '7' } });
    expect(tagged).toMatchObject({ status: 'requires_capture', amount: 1000, metadata: { order: '7' } });
    expect(await stripe.paymentIntents.capture(held.id)).toMatchObject({ amount_received: 1000 });
  });

  it('a new payment method on update needs a new confirm, which charges with it', async () => {
    const open = await stripe.paymentIntents.create({
      amount: 800,
      currency: 'usd',
      payment_method: 'pm_card_visa',
    });
    const switched = await stripe.paymentIntents.update(open.id, {
      payment_method: 'pm_card_chargeDeclined',
    });
    expect(switched).toMatchObject({
      status: 'requires_confirmation',
      payment_method: 'pm_card_chargeDeclined',
    });
    const err = await caught(stripe.paymentIntents.confirm(open.id));
    expect(err).toMatchObject({ statusCode: 402, code: 'card_declined' });
  });

  it('after a decline, an updated amount is what the next confirm charges, on a new charge', async () => {
    const open = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    await caught(stripe.paymentIntents.confirm(open.id, { payment_method: 'pm_card_chargeDeclined' }));
    const failed = await stripe.paymentIntents.retrieve(open.id);
    expect(failed.status).toBe('requires_payment_method');
    await stripe.paymentIntents.update(open.id, { amount: 1800 });
    const paid = await stripe.paymentIntents.confirm(open.id, { payment_method: 'pm_card_visa' });
    expect(paid).toMatchObject({ status: 'succeeded', amount_received: 1800 });
    expect(paid.latest_charge).not.toBe(failed.latest_charge);
    const charges = await stripe.charges.list({ payment_intent: open.id });
    expect(charges.data.map((c) => [c.amount, c.status])).toEqual([
      [1800, 'succeeded'],
      [1000, 'failed'],
    ]);
  });

  it('a refund takes what the confirm moved after the update', async () => {
    const open = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    await stripe.paymentIntents.update(open.id, { amount: 3000 });
    await stripe.paymentIntents.confirm(open.id, { payment_method: 'pm_card_visa' });
    expect((await stripe.refunds.create({ payment_intent: open.id })).amount).toBe(3000);
  });

  it('refuses any update once succeeded', async () => {
    const paid = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const err = await caught(stripe.paymentIntents.update(paid.id, { amount: 1 }));
    expect(err).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
    expect((await stripe.paymentIntents.retrieve(paid.id)).amount).toBe(1000);
  });
});

describe('a failed validation changes nothing', () => {
  it('an update with a valid amount and an invalid currency keeps the old amount', async () => {
    const open = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const err = await caught(stripe.paymentIntents.update(open.id, { amount: 500000, currency: 'dollars' }));
    expect(err).toMatchObject({ statusCode: 400, param: 'currency' });
    expect(await stripe.paymentIntents.retrieve(open.id)).toMatchObject({ amount: 1000, currency: 'usd' });
  });

  it('a cancel with an invalid reason leaves the intent open', async () => {
    const open = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const err = await caught(
      stripe.paymentIntents.cancel(open.id, {
        cancellation_reason: 'bored',
      } as unknown as Stripe.PaymentIntentCancelParams),
    );
    expect(err).toMatchObject({ statusCode: 400, param: 'cancellation_reason' });
    expect((await stripe.paymentIntents.retrieve(open.id)).status).toBe('requires_payment_method');
  });

  it('a refund with an invalid reason refunds nothing', async () => {
    const paid = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const err = await caught(
      stripe.refunds.create({
        payment_intent: paid.id,
        reason: 'bored',
      } as unknown as Stripe.RefundCreateParams),
    );
    expect(err).toMatchObject({ statusCode: 400, param: 'reason' });
    expect(await stripe.charges.retrieve(paid.latest_charge as string)).toMatchObject({
      amount_refunded: 0,
      refunded: false,
    });
    expect((await stripe.refunds.list({ payment_intent: paid.id })).data).toHaveLength(0);
  });

  it('a customer update with an invalid field keeps the old values', async () => {
    const customer = await stripe.customers.create({ name: 'Ada' });
    const res = await fetch(`${served.url}/v1/customers/${customer.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET}` },
      body: 'name=Grace&phone[x]=1',
    });
    expect(res.status).toBe(400);
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({ name: 'Ada' });
  });
});
