import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DAY, failure, raw, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

/** All events, oldest first. */
async function events(): Promise<Stripe.Event[]> {
  return (await stripe().events.list({ limit: 100 })).data.reverse();
}
const typesOf = (list: Stripe.Event[]): string[] => list.map((e) => e.type);

describe('events', () => {
  it('a default (automatic_async) payment: created, succeeded with no balance_transaction, then charge.updated with it', async () => {
    const pi = await stripe().paymentIntents.create(
      {
        amount: 2000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      },
      { idempotencyKey: 'evt-key-1' },
    );
    const list = await events();
    expect(typesOf(list)).toEqual([
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.succeeded',
      'charge.updated',
    ]);
    const [created, succeeded, piSucceeded, updated] = list as [Stripe.Event, Stripe.Event, Stripe.Event, Stripe.Event];
    expect(created).toMatchObject({
      object: 'event',
      api_version: '2026-10-28.endive',
      livemode: false,
      pending_webhooks: 0,
      request: { id: expect.stringMatching(/^req_/), idempotency_key: 'evt-key-1' },
      data: { object: { id: pi.id, object: 'payment_intent', status: 'requires_confirmation' } },
    });
    expect(created.id).toMatch(/^evt_/);
    expect(created.created).toBe(Math.floor(emulator().controls.now().getTime() / 1000));
    expect(succeeded.data.object).toMatchObject({ object: 'charge', status: 'succeeded', balance_transaction: null });
    expect(piSucceeded.data.object).toMatchObject({ id: pi.id, status: 'succeeded', amount_received: 2000 });
    const charge = await stripe().charges.retrieve(pi.latest_charge as string);
    expect(updated.data.object).toMatchObject({ id: charge.id, balance_transaction: charge.balance_transaction });
    expect(updated.data.previous_attributes).toEqual({ balance_transaction: null });
    expect(new Set(list.map((e) => e.request?.id)).size).toBe(1); // all from the one request
  });

  it('an event keeps the object as it was then (a deep copy)', async () => {
    const pi = await stripe().paymentIntents.create({ amount: 1000, currency: 'usd', metadata: { a: '1' } });
    await stripe().paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_visa',
      return_url: 'https://example.com/r',
    });
    const created = (await stripe().events.list({ type: 'payment_intent.created' })).data[0]!;
    expect(created.data.object).toMatchObject({ status: 'requires_payment_method', metadata: { a: '1' } });
    expect(await stripe().events.retrieve(created.id)).toEqual(
      expect.objectContaining({ id: created.id, type: 'payment_intent.created' }),
    );
  });

  it('manual capture: amount_capturable_updated, then captured, the released rest refunded, succeeded', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'manual',
    });
    await stripe().paymentIntents.capture(pi.id, { amount_to_capture: 3000 });
    const list = await events();
    expect(typesOf(list)).toEqual([
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.amount_capturable_updated',
      'charge.captured',
      'refund.created',
      'charge.refunded',
      'payment_intent.succeeded',
    ]);
    expect(list[2]!.data.object).toMatchObject({ amount_capturable: 5000, status: 'requires_capture' });
    expect(list[3]!.data.object).toMatchObject({ captured: true, amount_captured: 3000, amount_refunded: 0 });
    expect(list[4]!.data.object).toMatchObject({ object: 'refund', amount: 2000, reason: null });
    expect(list[5]!.data.object).toMatchObject({ amount_refunded: 2000, refunded: false });
  });

  it('declines, 3-D Secure, cancel and customer refunds', async () => {
    await failure(
      stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_visa_chargeDeclined',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      }),
    );
    const three = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_authenticationRequired',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    await stripe().paymentIntents.cancel(three.id);
    const auth = await stripe().paymentIntents.create({
      amount: 700,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'manual',
    });
    await stripe().paymentIntents.cancel(auth.id);
    const paid = await stripe().paymentIntents.create({
      amount: 900,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'automatic',
    });
    await stripe().refunds.create({ payment_intent: paid.id, amount: 100 });
    expect(typesOf(await events())).toEqual([
      'payment_intent.created',
      'charge.failed',
      'payment_intent.payment_failed',
      'payment_intent.created',
      'payment_intent.requires_action',
      'payment_intent.canceled',
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.amount_capturable_updated',
      'refund.created',
      'charge.refunded',
      'payment_intent.canceled',
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.succeeded',
      'refund.created',
      'charge.refunded',
    ]);
    const released = (await stripe().refunds.list({ payment_intent: auth.id })).data;
    expect(released).toMatchObject([{ amount: 700, balance_transaction: null, reason: null }]);
  });

  it('an idempotent replay records nothing new', async () => {
    const params = {
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    } as const;
    await stripe().paymentIntents.create(params, { idempotencyKey: 'evt-replay' });
    const before = (await events()).length;
    const again = await stripe().paymentIntents.create(params, { idempotencyKey: 'evt-replay' });
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect((await events()).length).toBe(before);
  });

  it('lists with type (wildcards), types[], created ranges and pagination, newest first', async () => {
    await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'automatic',
    });
    emulator().controls.advanceClock(10_000);
    await stripe().customers.create({ email: 'e@example.com' });
    const all = await stripe().events.list();
    expect(all.data.map((e) => e.type)).toEqual([
      'customer.created',
      'payment_intent.succeeded',
      'charge.succeeded',
      'payment_intent.created',
    ]);
    expect((await stripe().events.list({ type: 'charge.succeeded' })).data).toHaveLength(1);
    expect((await stripe().events.list({ type: 'payment_intent.*' })).data.map((e) => e.type)).toEqual([
      'payment_intent.succeeded',
      'payment_intent.created',
    ]);
    expect((await stripe().events.list({ types: ['customer.created', 'charge.succeeded'] })).data).toHaveLength(2);
    const t = all.data[0]!.created;
    expect((await stripe().events.list({ created: { gte: t } })).data.map((e) => e.type)).toEqual(['customer.created']);
    expect((await stripe().events.list({ created: { lt: t } })).data).toHaveLength(3);
    const page = await stripe().events.list({ limit: 2 });
    expect(page.has_more).toBe(true);
    const rest = await stripe().events.list({ limit: 2, starting_after: page.data[1]!.id });
    expect(rest.data.map((e) => e.type)).toEqual(['charge.succeeded', 'payment_intent.created']);
    const back = await stripe().events.list({ ending_before: rest.data[0]!.id });
    expect(back.data.map((e) => e.id)).toEqual(page.data.map((e) => e.id));
    expect(await failure(stripe().events.retrieve('evt_missing'))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
    expect((await raw(emulator(), 'GET', '/v1/events?bogus=1')).status).toBe(400);
  });

  it('clock-driven changes have no request; an authorization lapse refunds with expired_uncaptured_charge', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 3000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'manual',
    });
    const charge = await stripe().charges.retrieve(pi.latest_charge as string);
    emulator().controls.advanceClock(8 * DAY);
    const lapse = (await events()).filter((e) => e.request?.id === null && e.type !== 'balance.available');
    expect(typesOf(lapse)).toEqual(['charge.expired', 'charge.refunded', 'refund.created', 'payment_intent.canceled']);
    const deadline = charge.payment_method_details!.card!.capture_before!;
    for (const e of lapse) expect(e.created).toBe(deadline); // at the deadline, not at the end of the advance
    expect(lapse[0]!.data.object).toMatchObject({ amount_refunded: 3000, refunded: true, captured: false });
    expect(lapse[2]!.data.object).toMatchObject({
      object: 'refund',
      amount: 3000,
      reason: 'expired_uncaptured_charge',
      balance_transaction: null,
      status: 'succeeded',
    });
    expect(lapse[3]!.data.object).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'automatic',
      canceled_at: deadline,
    });
    expect(lapse[0]!.request).toEqual({ id: null, idempotency_key: null });
  });
});
