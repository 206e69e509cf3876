// Responses at older API versions: before 2022-11-15 a PaymentIntent embeds `charges` and has no `latest_charge`
// (docs.stripe.com/changelog/2022-11-15/removes-charges-attribute-paymentintent); from 2022-11-15 on, as pinned.
import type Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failure, useEmulator } from './helpers.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';

const { stripe, emulator } = useEmulator();
const OLD = { apiVersion: '2020-08-27' };

async function pay(options: Stripe.RequestOptions = {}, pm = 'pm_card_visa'): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create(
    {
      amount: 1000,
      currency: 'usd',
      payment_method: pm,
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    },
    options,
  );
}

/** The charge of a PaymentIntent, read at the pinned version. */
async function chargeId(id: string): Promise<string> {
  return (await stripe().paymentIntents.retrieve(id)).latest_charge as string;
}

describe('PaymentIntent.charges by API version', () => {
  it('at 2020-08-27 a confirmed PaymentIntent embeds its charges and has no latest_charge', async () => {
    const pi = (await pay(OLD)) as unknown as Record<string, any>; // the old shape is not in the SDK's types
    const charge = await chargeId(pi.id);
    expect(pi.status).toBe('succeeded');
    expect('latest_charge' in pi).toBe(false);
    expect(pi.charges).toMatchObject({
      object: 'list',
      has_more: false,
      total_count: 1,
      url: `/v1/charges?payment_intent=${pi.id}`,
    });
    expect(pi.charges.data).toHaveLength(1);
    expect(pi.charges.data[0]).toMatchObject({ id: charge, object: 'charge', amount: 1000, payment_intent: pi.id });
  });

  it('at 2026-10-28.endive and at 2022-11-15 it has latest_charge and no charges', async () => {
    const pi = await pay();
    expect(pi.latest_charge).toMatch(/^ch_/);
    expect('charges' in pi).toBe(false);
    const at = await stripe().paymentIntents.retrieve(pi.id, {}, { apiVersion: '2022-11-15' });
    expect(at.latest_charge).toBe(pi.latest_charge);
    expect('charges' in at).toBe(false);
  });

  it('applies to retrieve, lists, search results and expansions at the old version', async () => {
    const pi = await pay();
    const charge = pi.latest_charge as string;
    const check = (obj: unknown): void => {
      const o = obj as Record<string, any>;
      expect(o.id).toBe(pi.id);
      expect('latest_charge' in o).toBe(false);
      expect(o.charges.data.map((c: { id: string }) => c.id)).toEqual([charge]);
    };
    check(await stripe().paymentIntents.retrieve(pi.id, {}, OLD));
    check((await stripe().paymentIntents.list({}, OLD)).data[0]);
    check((await stripe().paymentIntents.search({ query: 'amount>999' }, OLD)).data[0]);
    check((await stripe().charges.retrieve(charge, { expand: ['payment_intent'] }, OLD)).payment_intent);
  });

  it('lists every charge newest first after a decline then a success', async () => {
    const err = await failure(pay({}, 'pm_card_visa_chargeDeclined'));
    const id: string = err.raw.payment_intent.id;
    const declined: string = err.raw.charge;
    await stripe().paymentIntents.confirm(id, { payment_method: 'pm_card_visa' });
    const succeeded = await chargeId(id);
    // The old shape is not in the SDK's types.
    const old = (await stripe().paymentIntents.retrieve(id, {}, OLD)) as unknown as Record<string, any>;
    expect(old.charges.total_count).toBe(2);
    expect(old.charges.data.map((c: { id: string }) => c.id)).toEqual([succeeded, declined]);
  });

  it("a card error's payment_intent carries charges at the old version", async () => {
    const err = await failure(pay(OLD, 'pm_card_visa_chargeDeclined'));
    const raw = err.raw;
    expect(raw.charge).toMatch(/^ch_/);
    expect('latest_charge' in raw.payment_intent).toBe(false);
    expect(raw.payment_intent.charges.data[0]).toMatchObject({ id: raw.charge, status: 'failed' });
  });
});

describe('webhook events at the endpoint api_version', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
    emulator().controls.configureWebhooks({
      duplicateRate: 0,
      shuffle: false,
      hold: false,
      retryDelaysMs: [20, 40],
      timeoutMs: 10_000,
    });
  });
  afterEach(async () => {
    await emulator().controls.settleWebhooks();
    await receiver.close();
  });

  it('an endpoint at 2020-08-27 gets charges, one without api_version gets latest_charge', async () => {
    const enabled: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = ['payment_intent.succeeded'];
    const old = await stripe().webhookEndpoints.create({
      url: receiver.url,
      enabled_events: enabled,
      api_version: '2020-08-27',
    });
    await stripe().webhookEndpoints.create({ url: receiver.url, enabled_events: enabled });
    expect(old.api_version).toBe('2020-08-27');
    const pi = await pay();
    await emulator().controls.settleWebhooks();
    expect(receiver.received).toHaveLength(2);
    const objects = receiver.received.map((r) => r.event.data.object as Record<string, any>);
    const withCharges = objects.filter((o) => 'charges' in o);
    const withLatest = objects.filter((o) => 'latest_charge' in o);
    expect(withCharges).toHaveLength(1);
    expect(withLatest).toHaveLength(1);
    expect(withCharges[0]!.charges.data[0].id).toBe(pi.latest_charge);
    expect('latest_charge' in withCharges[0]!).toBe(false);
    expect(withLatest[0]!.latest_charge).toBe(pi.latest_charge);
    expect('charges' in withLatest[0]!).toBe(false);
    expect(receiver.received.map((r) => r.event.api_version).sort()).toEqual(['2020-08-27', '2026-10-28.endive']);
  });

  it('events read through the API keep their own api_version whatever the Stripe-Version header', async () => {
    const pi = await pay();
    const events = await stripe().events.list({ type: 'payment_intent.succeeded' }, OLD);
    const event = events.data[0]!;
    expect(event.api_version).toBe('2026-10-28.endive');
    const object = event.data.object as unknown as Record<string, unknown>; // to test for absent fields
    expect(object.latest_charge).toBe(pi.latest_charge);
    expect('charges' in object).toBe(false);
  });
});
