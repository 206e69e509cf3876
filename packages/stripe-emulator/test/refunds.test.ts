import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { failure, useEmulator } from './helpers.js';

const { stripe } = useEmulator();

async function paid(amount: number): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    capture_method: 'automatic',
  });
}

describe('refunds', () => {
  it('refunds a PaymentIntent in parts down to zero, then refuses with charge_already_refunded', async () => {
    const pi = await paid(1000);
    const r1 = await stripe().refunds.create({
      payment_intent: pi.id,
      amount: 300,
      reason: 'requested_by_customer',
      metadata: { ours: 'r1' },
    });
    expect(r1).toMatchObject({
      object: 'refund',
      amount: 300,
      status: 'succeeded',
      payment_intent: pi.id,
      charge: pi.latest_charge,
      reason: 'requested_by_customer',
      metadata: { ours: 'r1' },
      currency: 'usd',
    });
    let charge = await stripe().charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ amount_refunded: 300, refunded: false });
    await stripe().refunds.create({ charge: charge.id, amount: 500 });
    const last = await stripe().refunds.create({ payment_intent: pi.id }); // defaults to what is left
    expect(last.amount).toBe(200);
    charge = await stripe().charges.retrieve(charge.id);
    expect(charge).toMatchObject({ amount_refunded: 1000, refunded: true });
    const err = await failure(stripe().refunds.create({ payment_intent: pi.id, amount: 1 }));
    expect(err).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400, code: 'charge_already_refunded' });

    const refunds = await stripe().refunds.list({ payment_intent: pi.id });
    expect(refunds.data.map((r) => r.amount)).toEqual([200, 500, 300]);
    const bt = await stripe().balanceTransactions.retrieve(r1.balance_transaction as string);
    expect(bt).toMatchObject({
      type: 'refund',
      reporting_category: 'refund',
      amount: -300,
      fee: 0,
      net: -300,
      source: r1.id,
      status: 'available',
    });
    expect(await stripe().refunds.retrieve(r1.id, { expand: ['balance_transaction'] })).toMatchObject({
      balance_transaction: { id: bt.id },
    });
  });

  // Stripe sends no code here, only param amount (aat-stripe plans/refunds/refund-limits.yaml).
  it('rejects a refund larger than what is left, on param amount', async () => {
    const pi = await paid(1000);
    await stripe().refunds.create({ payment_intent: pi.id, amount: 600 });
    const err = await failure(stripe().refunds.create({ payment_intent: pi.id, amount: 401 }));
    expect(err).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400, code: undefined, param: 'amount' });
    expect(await stripe().refunds.create({ payment_intent: pi.id, amount: 400 })).toMatchObject({ amount: 400 });
  });

  it('refuses to refund an uncaptured PaymentIntent (cancel it instead)', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'manual',
    });
    for (const params of [{ payment_intent: pi.id }, { charge: pi.latest_charge as string }]) {
      const err = await failure(stripe().refunds.create(params));
      // No code and no param on Stripe (aat-stripe plans/refunds/refund-limits.yaml).
      expect(err).toMatchObject({
        type: 'StripeInvalidRequestError',
        statusCode: 400,
        code: undefined,
        param: undefined,
      });
    }
    expect((await stripe().refunds.list({ payment_intent: pi.id })).data).toEqual([]);
  });

  it('validates the target: missing, unknown, not yet paid', async () => {
    expect(await failure(stripe().refunds.create({}))).toMatchObject({ statusCode: 400, code: 'parameter_missing' });
    expect(await failure(stripe().refunds.create({ payment_intent: 'pi_missing' }))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'payment_intent',
    });
    expect(await failure(stripe().refunds.create({ charge: 'ch_missing' }))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'charge',
    });
    const open = await stripe().paymentIntents.create({ amount: 1000, currency: 'usd' });
    expect(await failure(stripe().refunds.create({ payment_intent: open.id }))).toMatchObject({
      statusCode: 400,
      code: 'payment_intent_unexpected_state',
    });
    const pi = await paid(1000);
    expect(await failure(stripe().refunds.create({ payment_intent: pi.id, amount: 0 }))).toMatchObject({
      statusCode: 400,
      param: 'amount',
    });
  });

  it('a refund leaves the PaymentIntent succeeded with its amount_received', async () => {
    const pi = await paid(4200);
    await stripe().refunds.create({ payment_intent: pi.id, amount: 200 });
    expect(await stripe().paymentIntents.retrieve(pi.id)).toMatchObject({ status: 'succeeded', amount_received: 4200 });
  });
});
