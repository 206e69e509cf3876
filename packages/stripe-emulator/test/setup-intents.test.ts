// SetupIntents (docs.stripe.com/api/setup_intents; SetupIntents.d.ts): statuses, 3-D Secure test cards
// (docs.stripe.com/testing "3D Secure": 4000002760003184 pm_card_authenticationRequired and 4000000000003220
// pm_card_threeDSecure2Required need authentication), attachment to the customer, events, the test control.
import { describe, expect, it } from 'vitest';
import { failure, raw, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

const NO_REDIRECTS = { enabled: true, allow_redirects: 'never' } as const;

async function eventTypes(): Promise<string[]> {
  return (await stripe().events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('SetupIntents', () => {
  it('confirmed with a card that needs no authentication: succeeded, the card attached to the customer', async () => {
    const customer = await stripe().customers.create({ email: 'card@example.com' });
    const si = await stripe().setupIntents.create({
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: NO_REDIRECTS,
      metadata: { order: '42' },
      description: 'save a card',
    });
    expect(si).toMatchObject({
      object: 'setup_intent',
      status: 'succeeded',
      customer: customer.id,
      usage: 'off_session',
      payment_method_types: ['card'],
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      metadata: { order: '42' },
      description: 'save a card',
      next_action: null,
      last_setup_error: null,
      cancellation_reason: null,
      livemode: false,
    });
    expect(si.id).toMatch(/^seti_/);
    expect(si.client_secret).toMatch(new RegExp(`^${si.id}_secret_`));
    const pm = await stripe().paymentMethods.retrieve(si.payment_method as string);
    expect(pm.customer).toBe(customer.id);
    expect(await eventTypes()).toEqual([
      'customer.created',
      'setup_intent.created',
      'payment_method.attached',
      'setup_intent.succeeded',
    ]);
    // The saved card is charged later, off-session.
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: pm.id,
      off_session: true,
      confirm: true,
      automatic_payment_methods: NO_REDIRECTS,
    });
    expect(pi.status).toBe('succeeded');
    expect(await stripe().setupIntents.retrieve(si.id)).toMatchObject({ status: 'succeeded' });
  });

  it('goes requires_payment_method -> requires_confirmation -> succeeded; automatic methods need a return_url', async () => {
    const customer = await stripe().customers.create({});
    const si = await stripe().setupIntents.create({ customer: customer.id, usage: 'on_session' });
    expect(si).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
      usage: 'on_session',
      automatic_payment_methods: { enabled: true, allow_redirects: 'always' },
    });
    const updated = await stripe().setupIntents.update(si.id, { payment_method: 'pm_card_mastercard' });
    expect(updated.status).toBe('requires_confirmation');
    // Stripe's message names Setup Intents (laravel-vue-stripe-cashier#4 quotes it): redirects need a return_url.
    const noReturn = await failure(stripe().setupIntents.confirm(si.id));
    expect(noReturn).toMatchObject({ statusCode: 400 });
    expect(noReturn.message).toMatch(/^A `return_url` must be specified/);
    expect((await stripe().setupIntents.retrieve(si.id)).status).toBe('requires_confirmation');
    const done = await stripe().setupIntents.confirm(si.id, { return_url: 'https://shop.example/return' });
    expect(done.status).toBe('succeeded');
    expect((await stripe().customers.listPaymentMethods(customer.id)).data.map((p) => p.id)).toEqual([
      done.payment_method,
    ]);
  });

  it('3-D Secure: requires_action, nothing attached until the customer authenticates (control)', async () => {
    const customer = await stripe().customers.create({});
    const si = await stripe().setupIntents.create({
      customer: customer.id,
      payment_method: 'pm_card_authenticationRequired',
      confirm: true,
      automatic_payment_methods: NO_REDIRECTS,
    });
    expect(si.status).toBe('requires_action');
    expect(si.next_action?.type).toBe('use_stripe_sdk');
    const pmId = si.payment_method as string;
    expect((await stripe().paymentMethods.retrieve(pmId)).customer).toBeNull();
    expect(await eventTypes()).toEqual(['customer.created', 'setup_intent.created', 'setup_intent.requires_action']);
    const done = emulator().controls.authenticateSetupIntent(si.id, 'succeed');
    expect(done).toMatchObject({ status: 'succeeded', next_action: null, payment_method: pmId });
    expect((await stripe().paymentMethods.retrieve(pmId)).customer).toBe(customer.id);
    const events = (await stripe().events.list({ limit: 2 })).data;
    expect(events.map((e) => e.type)).toEqual(['setup_intent.succeeded', 'payment_method.attached']);
    expect(events[0]!.request).toEqual({ id: null, idempotency_key: null });
  });

  it('3-D Secure with a return_url: redirect_to_url; a failed authentication (HTTP control) fails the setup', async () => {
    const customer = await stripe().customers.create({});
    const si = await stripe().setupIntents.create({
      customer: customer.id,
      payment_method: 'pm_card_threeDSecure2Required',
      confirm: true,
      return_url: 'https://shop.example/back',
    });
    expect(si.status).toBe('requires_action');
    expect(si.next_action).toMatchObject({
      type: 'redirect_to_url',
      redirect_to_url: { return_url: 'https://shop.example/back' },
    });
    const pmId = si.payment_method as string;
    const res = await fetch(`${emulator().url}/_emulator/setup_intents/${si.id}/authenticate`, {
      method: 'POST',
      body: JSON.stringify({ outcome: 'fail' }),
    });
    expect(res.status).toBe(200);
    const failed = await stripe().setupIntents.retrieve(si.id);
    expect(failed).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
      last_setup_error: {
        code: 'setup_intent_authentication_failure',
        type: 'invalid_request_error',
        payment_method: { id: pmId },
      },
    });
    expect((await stripe().paymentMethods.retrieve(pmId)).customer).toBeNull();
    expect((await stripe().events.list({ limit: 1 })).data[0]!.type).toBe('setup_intent.setup_failed');
    // Only a requires_action SetupIntent can be authenticated.
    const again = await fetch(`${emulator().url}/_emulator/setup_intents/${si.id}/authenticate`, {
      method: 'POST',
      body: JSON.stringify({ outcome: 'succeed' }),
    });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('setup_intent_unexpected_state');
  });

  it('a declining card fails the setup: 402 card_error, last_setup_error, setup_intent.setup_failed', async () => {
    const customer = await stripe().customers.create({});
    const err = await failure(
      stripe().setupIntents.create({
        customer: customer.id,
        payment_method: 'pm_card_visa_chargeDeclined',
        confirm: true,
        automatic_payment_methods: NO_REDIRECTS,
      }),
    );
    expect(err).toMatchObject({ type: 'StripeCardError', statusCode: 402, code: 'card_declined' });
    expect(err.decline_code).toBe('generic_decline');
    const siId = err.raw.setup_intent.id as string;
    expect(await stripe().setupIntents.retrieve(siId)).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
      last_setup_error: { code: 'card_declined', decline_code: 'generic_decline', type: 'card_error' },
    });
    expect(await eventTypes()).toEqual(['customer.created', 'setup_intent.created', 'setup_intent.setup_failed']);
    expect((await stripe().customers.listPaymentMethods(customer.id)).data).toEqual([]);
  });

  it('cancel from a non-final status; a canceled or succeeded SetupIntent cannot be confirmed or canceled', async () => {
    const si = await stripe().setupIntents.create({});
    const canceled = await stripe().setupIntents.cancel(si.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    expect((await stripe().events.list({ limit: 1 })).data[0]!.type).toBe('setup_intent.canceled');
    const confirm = await failure(stripe().setupIntents.confirm(si.id, { payment_method: 'pm_card_visa' }));
    expect(confirm).toMatchObject({ statusCode: 400, code: 'setup_intent_unexpected_state' });
    expect(await failure(stripe().setupIntents.cancel(si.id))).toMatchObject({ code: 'setup_intent_unexpected_state' });
    const bad = await failure(stripe().setupIntents.cancel(si.id, { cancellation_reason: 'bored' as never }));
    expect(bad).toMatchObject({ statusCode: 400, param: 'cancellation_reason' });
  });

  it('without a customer: succeeds, the card stays unattached and can be attached afterwards', async () => {
    const si = await stripe().setupIntents.create({
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: NO_REDIRECTS,
    });
    expect(si.status).toBe('succeeded');
    const customer = await stripe().customers.create({});
    const pm = await stripe().paymentMethods.attach(si.payment_method as string, { customer: customer.id });
    expect(pm.customer).toBe(customer.id);
  });

  it('applies the saved-card rules to its payment_method', async () => {
    const owner = await stripe().customers.create({});
    const other = await stripe().customers.create({});
    const pm = await stripe().paymentMethods.attach('pm_card_visa', { customer: owner.id });
    const err = await failure(stripe().setupIntents.create({ customer: other.id, payment_method: pm.id }));
    expect(err).toMatchObject({
      statusCode: 400,
      param: 'payment_method',
      message: `The customer does not have a payment method with the ID ${pm.id}. The payment method must be attached to the customer.`,
    });
    await stripe().paymentMethods.detach(pm.id);
    const spent = await failure(stripe().setupIntents.create({ customer: owner.id, payment_method: pm.id }));
    expect(spent.message).toMatch(/^The provided PaymentMethod was previously used/);
    expect((await stripe().setupIntents.list()).data).toEqual([]);
  });

  it('lists by customer with pagination; 404 and parameter_unknown as elsewhere; idempotent create', async () => {
    const customer = await stripe().customers.create({});
    const a = await stripe().setupIntents.create({ customer: customer.id });
    const b = await stripe().setupIntents.create({ customer: customer.id });
    await stripe().setupIntents.create({});
    const page = await stripe().setupIntents.list({ customer: customer.id, limit: 1 });
    expect(page).toMatchObject({ object: 'list', has_more: true, url: '/v1/setup_intents' });
    expect(page.data.map((s) => s.id)).toEqual([b.id]);
    const next = await stripe().setupIntents.list({ customer: customer.id, starting_after: b.id });
    expect(next.data.map((s) => s.id)).toEqual([a.id]);
    expect(await failure(stripe().setupIntents.retrieve('seti_missing'))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
    const unknown = await raw(emulator(), 'POST', '/v1/setup_intents', 'amount=100');
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 'parameter_unknown', param: 'amount' });
    const first = await stripe().setupIntents.create({ metadata: { k: 'v' } }, { idempotencyKey: 'seti-key-1' });
    const replay = await stripe().setupIntents.create({ metadata: { k: 'v' } }, { idempotencyKey: 'seti-key-1' });
    expect(replay.id).toBe(first.id);
    expect((await stripe().setupIntents.list({ limit: 100 })).data).toHaveLength(4);
  });

  it('retrieves with expand[]=payment_method and takes allowed_payment_method_types (stripe-node v23)', async () => {
    const si = await stripe().setupIntents.create({
      allowed_payment_method_types: ['card'],
      payment_method: 'pm_card_amex',
    });
    expect(si).toMatchObject({
      allowed_payment_method_types: ['card'],
      payment_method_types: ['card'],
      automatic_payment_methods: null,
      status: 'requires_confirmation',
    });
    // Without automatic payment methods, no return_url is needed.
    expect((await stripe().setupIntents.confirm(si.id)).status).toBe('succeeded');
    const got = await stripe().setupIntents.retrieve(si.id, { expand: ['payment_method'] });
    // Stripe's Amex test card is 378282246310005 (docs.stripe.com/testing "Cards by brand").
    expect(got.payment_method).toMatchObject({ object: 'payment_method', card: { brand: 'amex', last4: '0005' } });
  });
});
