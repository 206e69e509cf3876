// Connect webhook endpoints (WebhookEndpointCreateParams.connect in WebhookEndpoints.d.ts): a Connect endpoint gets the
// events of connected accounts only (each with `account`), an account endpoint the platform's only; each endpoint
// signs with its own secret.
import type Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useEmulator } from './helpers.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';

const { stripe, emulator } = useEmulator();
let platformHook: Receiver;
let connectHook: Receiver;

beforeEach(async () => {
  platformHook = await startReceiver();
  connectHook = await startReceiver();
  emulator().controls.configureWebhooks({ duplicateRate: 0, shuffle: false, hold: false, retryDelaysMs: [20] });
});
afterEach(async () => {
  await emulator().controls.settleWebhooks();
  await platformHook.close();
  await connectHook.close();
});

describe('Connect webhook endpoints', () => {
  it('connect=true receives only connected accounts’ events (with `account`); the others only the platform’s', async () => {
    const platformEndpoint = await stripe().webhookEndpoints.create({ url: platformHook.url, enabled_events: ['*'] });
    const connectEndpoint = await stripe().webhookEndpoints.create({
      url: connectHook.url,
      enabled_events: ['payment_intent.succeeded', 'application_fee.created', 'transfer.created'],
      connect: true,
    });
    expect(connectEndpoint.secret).not.toBe(platformEndpoint.secret);
    const acct = (await stripe().accounts.create({ type: 'express' })).id;
    const pi = await stripe().paymentIntents.create(
      {
        amount: 2000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        application_fee_amount: 100,
      },
      { stripeAccount: acct },
    );
    await emulator().controls.settleWebhooks();

    // The Connect endpoint: the account's payment_intent.succeeded, with account, signed with its own secret.
    expect(connectHook.received.map((r) => r.event.type)).toEqual(['payment_intent.succeeded']);
    const got = connectHook.received[0]!;
    const event = stripe().webhooks.constructEvent(
      got.body,
      got.headers['stripe-signature'] as string,
      connectEndpoint.secret!,
    );
    expect(event).toMatchObject({ account: acct, data: { object: { id: pi.id } } });

    // The platform endpoint: only the platform's own event (the application fee), no `account`.
    expect(platformHook.received.map((r) => r.event.type)).toEqual(['application_fee.created']);
    expect(platformHook.received[0]!.event).not.toHaveProperty('account');
    stripe().webhooks.constructEvent(
      platformHook.received[0]!.body,
      platformHook.received[0]!.headers['stripe-signature'] as string,
      platformEndpoint.secret!,
    );

    // pending_webhooks counted per kind of endpoint, and down to 0 once delivered.
    const accountEvents = (await stripe().events.list({}, { stripeAccount: acct })).data;
    for (const e of accountEvents) expect(e.pending_webhooks).toBe(0);
    expect(accountEvents.every((e) => e.account === acct)).toBe(true);
  });

  it('a transfer’s events go to the platform endpoint; the connect flag is validated', async () => {
    await stripe().webhookEndpoints.create({ url: platformHook.url, enabled_events: ['transfer.created'] });
    await stripe().webhookEndpoints.create({ url: connectHook.url, enabled_events: ['*'], connect: true });
    const acct = (await stripe().accounts.create({ type: 'custom' })).id;
    await stripe().paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    emulator().controls.advanceClock(2 * 24 * 3600 * 1000 + 1000);
    await stripe().transfers.create({ amount: 1000, currency: 'usd', destination: acct });
    await emulator().controls.settleWebhooks();
    expect(platformHook.received.map((r) => r.event.type)).toEqual(['transfer.created']);
    expect(connectHook.received.every((r) => r.event.account === acct)).toBe(true);
    const err = await stripe()
      .webhookEndpoints.create({
        url: connectHook.url,
        enabled_events: ['*'],
        connect: 'yes' as unknown as boolean,
      })
      .catch((e: Stripe.errors.StripeError) => e);
    expect(err).toMatchObject({ statusCode: 400, param: 'connect' });
  });
});
