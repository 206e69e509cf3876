import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { decodeForm } from '../src/form.js';
import { failure, raw, sdk, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

describe('form decoding', () => {
  it('decodes bracket notation into nested objects and arrays', () => {
    expect(decodeForm('amount=100&metadata[a]=1&metadata[b]=x%20y&expand[]=p&expand[]=q.r')).toEqual({
      amount: '100',
      metadata: { a: '1', b: 'x y' },
      expand: ['p', 'q.r'],
    });
    expect(decodeForm('expand[0]=a&expand[1]=b&x[y][z]=1&list[0][k]=v')).toEqual({
      expand: ['a', 'b'],
      x: { y: { z: '1' } },
      list: [{ k: 'v' }],
    });
    expect(decodeForm('metadata%5Bk%5D=v&empty=')).toEqual({ metadata: { k: 'v' }, empty: '' });
    expect(decodeForm('')).toEqual({});
  });
});

describe('Stripe protocol', () => {
  it("answers 401 with Stripe's error shape unless the key starts with sk_test_ or rk_test_", async () => {
    for (const key of ['sk_live_abcdefghijklmnop', 'pk_test_123', 'rk_live_abc']) {
      const err = await failure(sdk(emulator(), key).paymentIntents.list());
      expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
      expect(err).toMatchObject({ statusCode: 401, rawType: 'invalid_request_error' });
      expect(err.message).not.toContain('abcdefghijklmnop'); // the key is masked
    }
    const none = await raw(emulator(), 'GET', '/v1/payment_intents', undefined, { Authorization: '' });
    expect(none.status).toBe(401);
    expect(none.json.error.type).toBe('invalid_request_error');
    const basic = await raw(emulator(), 'GET', '/v1/payment_intents', undefined, {
      Authorization: `Basic ${Buffer.from('sk_test_b:').toString('base64')}`,
    });
    expect(basic.status).toBe(200);
  });

  it('sends Request-Id on every response, including errors', async () => {
    const ok = await raw(emulator(), 'POST', '/v1/customers', 'email=a%40b.c');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('request-id')).toMatch(/^req_/);
    expect(ok.json).toMatchObject({ object: 'customer', email: 'a@b.c' });
    const missing = await raw(emulator(), 'GET', '/v1/payment_intents/pi_nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('request-id')).toMatch(/^req_/);
    expect(missing.json.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing', param: 'id' });
  });

  it('gives 404 resource_missing for unknown ids on every resource', async () => {
    const calls: (() => Promise<unknown>)[] = [
      () => stripe().paymentIntents.retrieve('pi_x'),
      () => stripe().paymentIntents.capture('pi_x'),
      () => stripe().charges.retrieve('ch_x'),
      () => stripe().refunds.retrieve('re_x'),
      () => stripe().balanceTransactions.retrieve('txn_x'),
      () => stripe().customers.retrieve('cus_x'),
      () => stripe().paymentMethods.retrieve('pm_x'),
    ];
    for (const call of calls)
      expect(await failure(call())).toMatchObject({
        type: 'StripeInvalidRequestError',
        statusCode: 404,
        code: 'resource_missing',
      });
  });

  it('rejects unknown parameters with parameter_unknown, and missing ones with parameter_missing', async () => {
    const err = await failure(stripe().paymentIntents.create({ amount: 1000, currency: 'usd', colour: 'blue' } as any));
    expect(err).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'colour' });
    expect(await failure(stripe().paymentIntents.create({ currency: 'usd' } as any))).toMatchObject({
      statusCode: 400,
      code: 'parameter_missing',
      param: 'amount',
    });
    expect(await failure(stripe().paymentIntents.create({ amount: 1000, currency: 'zzz' }))).toMatchObject({
      statusCode: 400,
      param: 'currency',
    });
    expect(
      await failure(stripe().paymentIntents.create({ amount: 1000, currency: 'usd', capture_method: 'later' as any })),
    ).toMatchObject({ statusCode: 400, param: 'capture_method' });
    const unknownUrl = await raw(emulator(), 'GET', '/v1/widgets');
    expect(unknownUrl.status).toBe(404);
    expect(unknownUrl.json.error.type).toBe('invalid_request_error');
  });

  it('expands ids into objects and refuses what cannot be expanded', async () => {
    const customer = await stripe().customers.create();
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    const full = await stripe().paymentIntents.retrieve(pi.id, {
      expand: ['customer', 'payment_method', 'latest_charge.balance_transaction'],
    });
    expect(full.customer).toMatchObject({ object: 'customer', id: customer.id });
    expect(full.payment_method).toMatchObject({ object: 'payment_method' });
    expect(full.latest_charge).toMatchObject({
      object: 'charge',
      balance_transaction: { object: 'balance_transaction' },
    });
    const charges = await stripe().charges.list({ payment_intent: pi.id, expand: ['data.balance_transaction'] });
    expect(charges.data[0]?.balance_transaction).toMatchObject({ object: 'balance_transaction' });
    expect(await failure(stripe().paymentIntents.retrieve(pi.id, { expand: ['amount'] }))).toMatchObject({
      statusCode: 400,
      param: 'expand',
    });
  });

  it("shapes objects like Stripe's fixtures", async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'manual',
      description: 'd',
    });
    const charge = await stripe().charges.retrieve(pi.latest_charge as string);
    for (const key of [
      'amount',
      'amount_capturable',
      'amount_received',
      'canceled_at',
      'cancellation_reason',
      'capture_method',
      'client_secret',
      'confirmation_method',
      'created',
      'currency',
      'customer',
      'description',
      'last_payment_error',
      'latest_charge',
      'livemode',
      'metadata',
      'next_action',
      'payment_method',
      'payment_method_types',
      'status',
    ]) {
      expect(pi).toHaveProperty(key);
    }
    for (const key of [
      'amount_captured',
      'amount_refunded',
      'balance_transaction',
      'billing_details',
      'captured',
      'failure_code',
      'outcome',
      'paid',
      'payment_intent',
      'payment_method',
      'payment_method_details',
      'refunded',
      'status',
    ]) {
      expect(charge).toHaveProperty(key);
    }
    expect(charge.payment_method_details?.card).toMatchObject({
      brand: 'visa',
      last4: '4242',
      capture_before: expect.any(Number),
    });
  });
});
