import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DAY, failure, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

async function paid(pm = 'pm_card_visa', amount = 1000): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: pm,
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    capture_method: 'automatic',
  });
}

describe('dashboard refunds', () => {
  it('follow the API rules, take no metadata, and their events have no request', async () => {
    const pi = await paid();
    const refund = emulator().controls.dashboardRefund({
      payment_intent: pi.id,
      amount: 300,
      reason: 'requested_by_customer',
    });
    expect(refund).toMatchObject({
      object: 'refund',
      amount: 300,
      status: 'succeeded',
      reason: 'requested_by_customer',
      metadata: {},
    });
    expect(await stripe().charges.retrieve(pi.latest_charge as string)).toMatchObject({ amount_refunded: 300 });
    const [refunded, created] = (await stripe().events.list({ limit: 2 })).data;
    expect([created!.type, refunded!.type]).toEqual(['refund.created', 'charge.refunded']);
    expect(created!.request).toEqual({ id: null, idempotency_key: null });
    expect(() => emulator().controls.dashboardRefund({ payment_intent: pi.id, amount: 701 })).toThrow(/greater than/);
    expect(() => emulator().controls.dashboardRefund({ payment_intent: pi.id, metadata: { a: 'b' } } as never)).toThrow(
      /unknown parameter/,
    );
  });

  it('work over HTTP with Stripe error bodies', async () => {
    const pi = await paid();
    const res = await fetch(`${emulator().url}/_emulator/dashboard/refunds`, {
      method: 'POST',
      body: JSON.stringify({ charge: pi.latest_charge, amount: 250 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: 'refund', amount: 250, charge: pi.latest_charge });
    const bad = await fetch(`${emulator().url}/_emulator/dashboard/refunds`, {
      method: 'POST',
      body: JSON.stringify({ payment_intent: 'pi_missing' }),
    });
    expect(bad.status).toBe(404);
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'resource_missing' } });
  });
});

describe('refunds that fail later (pm_card_refundFail)', () => {
  it('succeed at first, then fail a day later and give the money back', async () => {
    const pi = await paid('pm_card_refundFail', 2000);
    const refund = await stripe().refunds.create({ payment_intent: pi.id, amount: 800 });
    expect(refund.status).toBe('succeeded');
    emulator().controls.advanceClock(DAY - 1000);
    expect((await stripe().refunds.retrieve(refund.id)).status).toBe('succeeded');
    emulator().controls.advanceClock(1000);
    const failed = await stripe().refunds.retrieve(refund.id, { expand: ['failure_balance_transaction'] });
    expect(failed).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card' });
    expect(failed.failure_balance_transaction).toMatchObject({
      type: 'refund_failure',
      amount: 800,
      fee: 0,
      net: 800,
      source: refund.id,
      status: 'available',
    });
    expect(await stripe().charges.retrieve(pi.latest_charge as string)).toMatchObject({
      amount_refunded: 0,
      refunded: false,
    });
    const later = (
      await stripe().events.list({ types: ['refund.updated', 'refund.failed', 'charge.refund.updated'] })
    ).data.reverse();
    expect(later.map((e) => e.type)).toEqual(['refund.updated', 'refund.failed', 'charge.refund.updated']);
    expect(later[0]!.data.previous_attributes).toMatchObject({ status: 'succeeded' });
    expect(later[2]!.data.object).toMatchObject({ object: 'refund', id: refund.id, status: 'failed' });
    expect(later.every((e) => e.request?.id === null && e.created === refund.created + 24 * 3600)).toBe(true);
    const [chargeUpdated] = (await stripe().events.list({ type: 'charge.updated', limit: 1 })).data;
    expect(chargeUpdated!.data.previous_attributes).toEqual({ amount_refunded: 800 });
    // What failed can be refunded again.
    expect(await stripe().refunds.create({ payment_intent: pi.id })).toMatchObject({ amount: 2000 });
  });

  it('refunds of other cards do not fail', async () => {
    const pi = await paid();
    const refund = await stripe().refunds.create({ payment_intent: pi.id });
    emulator().controls.advanceClock(3 * DAY);
    expect((await stripe().refunds.retrieve(refund.id)).status).toBe('succeeded');
    expect(await failure(stripe().refunds.create({ payment_intent: pi.id }))).toMatchObject({
      code: 'charge_already_refunded',
    });
  });
});
