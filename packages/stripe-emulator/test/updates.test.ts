// Updates and actions: PaymentIntent update and incremental authorization, charge update, refund update and cancel.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { failure, useEmulator } from './helpers.js';

const { stripe } = useEmulator();

const NEVER = { enabled: true, allow_redirects: 'never' } as const;

async function authorize(extra: Partial<Stripe.PaymentIntentCreateParams> = {}): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount: 5000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    capture_method: 'manual',
    automatic_payment_methods: NEVER,
    ...extra,
  });
}

const typesOf = async (): Promise<string[]> => (await stripe().events.list({ limit: 100 })).data.map((e) => e.type);

describe('PaymentIntent update', () => {
  it('changes amount, description and metadata before confirmation (aat-stripe update-and-list: 1500 -> 2000)', async () => {
    const pi = await stripe().paymentIntents.create({ amount: 1500, currency: 'usd', metadata: { keep: 'yes' } });
    const updated = await stripe().paymentIntents.update(pi.id, {
      amount: 2000,
      description: 'AAT Stripe update',
      metadata: { note: 'updated' },
    });
    expect(updated).toMatchObject({
      amount: 2000,
      description: 'AAT Stripe update',
      metadata: { keep: 'yes', note: 'updated' },
      status: 'requires_payment_method',
    });
    expect(await stripe().paymentIntents.retrieve(pi.id)).toMatchObject({ amount: 2000 });
  });

  it('a new payment_method must be confirmed again: the status becomes requires_confirmation', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1500,
      currency: 'usd',
      automatic_payment_methods: NEVER,
    });
    const updated = await stripe().paymentIntents.update(pi.id, {
      payment_method: 'pm_card_visa',
      currency: 'eur',
      shipping: { name: 'Ada', address: { country: 'GB' } },
      receipt_email: 'ada@example.com',
    });
    expect(updated).toMatchObject({
      status: 'requires_confirmation',
      currency: 'eur',
      receipt_email: 'ada@example.com',
      shipping: { name: 'Ada', address: { country: 'GB', line1: null } },
    });
    const confirmed = await stripe().paymentIntents.confirm(pi.id);
    expect(confirmed).toMatchObject({ status: 'succeeded', amount_received: 1500, currency: 'eur' });
  });

  it('after a payment is made only metadata, description and receipt_email may change', async () => {
    const pi = await authorize();
    const err = await failure(stripe().paymentIntents.update(pi.id, { amount: 6000, metadata: { x: '1' } }));
    expect(err).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
    expect(err.raw.payment_intent).toMatchObject({ id: pi.id, status: 'requires_capture' });
    expect(await stripe().paymentIntents.retrieve(pi.id)).toMatchObject({ amount: 5000, metadata: {} });
    const ok = await stripe().paymentIntents.update(pi.id, { metadata: { x: '1' }, description: 'later' });
    expect(ok).toMatchObject({ amount: 5000, status: 'requires_capture', metadata: { x: '1' }, description: 'later' });
  });

  it('refuses bad values, a payment method of the wrong type and unknown parameters, changing nothing', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1500,
      currency: 'usd',
      allowed_payment_method_types: ['card'],
    });
    const attempts: [Stripe.PaymentIntentUpdateParams, Record<string, unknown>][] = [
      [{ amount: 10 }, { code: 'amount_too_small', param: 'amount' }],
      [{ currency: 'xyz' }, { param: 'currency' }],
      [{ payment_method: 'pm_usBankAccount' }, { code: 'payment_intent_incompatible_payment_method' }],
      [{ customer: 'cus_missing' }, { statusCode: 404, code: 'resource_missing', param: 'customer' }],
      [{ confirm: true } as never, { code: 'parameter_unknown', param: 'confirm' }],
    ];
    for (const [params, expected] of attempts) {
      expect(await failure(stripe().paymentIntents.update(pi.id, params))).toMatchObject(expected);
    }
    expect(await stripe().paymentIntents.retrieve(pi.id)).toMatchObject({
      amount: 1500,
      currency: 'usd',
      customer: null,
      payment_method: null,
      status: 'requires_payment_method',
    });
  });

  it('records no event (Stripe has no payment_intent.updated event type)', async () => {
    const pi = await stripe().paymentIntents.create({ amount: 1500, currency: 'usd' });
    await stripe().paymentIntents.update(pi.id, { amount: 1600 });
    expect(await typesOf()).toEqual(['payment_intent.created']);
  });
});

describe('incremental authorization', () => {
  it('raises an authorization that asked for it', async () => {
    const pi = await authorize({
      payment_method_options: { card: { request_incremental_authorization: 'if_available' } },
    });
    const raised = await stripe().paymentIntents.incrementAuthorization(pi.id, {
      amount: 6000,
      expand: ['latest_charge'],
    });
    expect(raised).toMatchObject({ status: 'requires_capture', amount: 6000, amount_capturable: 6000 });
    expect(raised.latest_charge).toMatchObject({
      amount: 6000,
      payment_method_details: { card: { amount_authorized: 6000, incremental_authorization: { status: 'available' } } },
    });
    expect((await typesOf()).slice(0, 2)).toEqual(['payment_intent.amount_capturable_updated', 'charge.updated']);
    const captured = await stripe().paymentIntents.capture(pi.id);
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 6000 });
  });

  it('refuses an ordinary authorization with no code and no param (aat-stripe raiseRefused)', async () => {
    const pi = await authorize();
    const err = await failure(stripe().paymentIntents.incrementAuthorization(pi.id, { amount: 6000 }));
    expect(err).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError' });
    expect(err.raw).not.toHaveProperty('code');
    expect(err.raw).not.toHaveProperty('param');
    expect(await stripe().paymentIntents.retrieve(pi.id)).toMatchObject({ amount: 5000, amount_capturable: 5000 });
  });

  it('refuses a lower amount, and a PaymentIntent that is not requires_capture', async () => {
    const pi = await authorize({
      payment_method_options: { card: { request_incremental_authorization: 'if_available' } },
    });
    expect(await failure(stripe().paymentIntents.incrementAuthorization(pi.id, { amount: 5000 }))).toMatchObject({
      statusCode: 400,
      param: 'amount',
    });
    await stripe().paymentIntents.capture(pi.id);
    expect(await failure(stripe().paymentIntents.incrementAuthorization(pi.id, { amount: 7000 }))).toMatchObject({
      statusCode: 400,
      code: 'payment_intent_unexpected_state',
    });
  });
});

describe('charge update', () => {
  it('sets description, metadata, receipt_email, shipping and fraud_details[user_report]; charge.updated', async () => {
    const pi = await authorize({ capture_method: 'automatic' });
    const id = pi.latest_charge as string;
    const charge = await stripe().charges.update(id, {
      description: 'order 42',
      metadata: { order: '42' },
      receipt_email: 'ada@example.com',
      shipping: { name: 'Ada', address: { city: 'London' }, tracking_number: 'TRK1' },
      fraud_details: { user_report: 'safe' },
    });
    expect(charge).toMatchObject({
      description: 'order 42',
      metadata: { order: '42' },
      receipt_email: 'ada@example.com',
      shipping: { name: 'Ada', tracking_number: 'TRK1', address: { city: 'London' } },
      fraud_details: { user_report: 'safe' },
    });
    const updated = (await stripe().events.list({ type: 'charge.updated' })).data[0]!;
    expect(updated.data.previous_attributes).toMatchObject({ description: null, receipt_email: null, shipping: null });
  });

  it('refuses a bad user_report, an unknown charge and unknown parameters', async () => {
    const pi = await authorize({ capture_method: 'automatic' });
    const id = pi.latest_charge as string;
    expect(
      await failure(stripe().charges.update(id, { fraud_details: { user_report: 'maybe' as never } })),
    ).toMatchObject({ statusCode: 400, param: 'fraud_details[user_report]' });
    expect(await failure(stripe().charges.update('ch_missing', { description: 'x' }))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
    expect(await failure(stripe().charges.update(id, { amount: 1 } as never))).toMatchObject({
      code: 'parameter_unknown',
    });
    expect(await stripe().charges.retrieve(id)).toMatchObject({ fraud_details: {}, description: null });
  });
});

describe('refund update and cancel', () => {
  it('updates metadata only (refund.updated)', async () => {
    const pi = await authorize({ capture_method: 'automatic' });
    const refund = await stripe().refunds.create({ payment_intent: pi.id, amount: 1000, metadata: { a: '1' } });
    const updated = await stripe().refunds.update(refund.id, { metadata: { b: '2' } });
    expect(updated.metadata).toEqual({ a: '1', b: '2' });
    expect(await failure(stripe().refunds.update(refund.id, { amount: 5 } as never))).toMatchObject({
      code: 'parameter_unknown',
      param: 'amount',
    });
    expect((await typesOf())[0]).toBe('refund.updated');
  });

  it('a card refund (succeeded at once) cannot be canceled: 400 with no code and no param (aat-stripe refund-gates)', async () => {
    const pi = await authorize({ capture_method: 'automatic' });
    const refund = await stripe().refunds.create({ payment_intent: pi.id });
    const err = await failure(stripe().refunds.cancel(refund.id));
    expect(err).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError' });
    expect(err.raw).not.toHaveProperty('code');
    expect(err.raw).not.toHaveProperty('param');
    expect(await stripe().refunds.retrieve(refund.id)).toMatchObject({ status: 'succeeded' });
    expect(await failure(stripe().refunds.cancel('re_missing'))).toMatchObject({ statusCode: 404 });
  });
});
