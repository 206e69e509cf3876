// Protocol details as Stripe has them: Stripe-Version refusals, request_log_url on every error, Original-Request,
// restricted keys, expanding a charge's refunds and the fields stripe-node v23 types as always present.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { failure, raw, sdk, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

const logUrl = (requestId: string | null): string => `https://dashboard.stripe.com/test/logs/${requestId ?? 'none'}`;

async function paid(amount = 1000): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount,
    currency: 'usd',
    allowed_payment_method_types: ['card'],
    payment_method: 'pm_card_visa',
    confirm: true,
  });
}

describe('Stripe-Version', () => {
  // Stripe's refusal: 400 invalid_request_error "Invalid Stripe API version: <value>", no code (stripe/stripe-java#682
  // quotes it for 2019-2-19; public fix notes quote it for 2024-12-18, a date whose version is 2024-12-18.acacia).
  for (const version of ['2019-2-19', '2024-12-18', '2222-22-22', 'latest', '2026-10-28.basil']) {
    it(`refuses ${version} and does nothing`, async () => {
      const res = await raw(emulator(), 'POST', '/v1/customers', 'email=a%40b.c', { 'Stripe-Version': version });
      expect(res.status).toBe(400);
      expect(res.json.error).toEqual({
        type: 'invalid_request_error',
        message: `Invalid Stripe API version: ${version}`,
        request_log_url: logUrl(res.headers.get('request-id')),
      });
      expect((await stripe().customers.list()).data).toHaveLength(0);
    });
  }

  it('the SDK sees the refusal as an invalid request', async () => {
    const err = await failure(stripe().customers.create({}, { apiVersion: '2019-2-19' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, message: 'Invalid Stripe API version: 2019-2-19' });
    expect(err.code).toBeUndefined();
  });

  // Real versions (docs.stripe.com/upgrades and the changelog): the SDK's pinned one, older date-only ones and named
  // monthly ones. Responses stay rendered at the pinned version (README: Approximations).
  for (const version of ['2026-10-28.endive', '2020-08-27', '2023-10-16', '2024-12-18.acacia', '2025-08-27.basil']) {
    it(`accepts ${version}`, async () => {
      const res = await raw(emulator(), 'GET', '/v1/payment_intents', undefined, { 'Stripe-Version': version });
      expect(res.status).toBe(200);
    });
  }
});

describe('request_log_url and Original-Request', () => {
  it('every error of an authenticated request links to its own request log', async () => {
    const notFound = await failure(stripe().paymentIntents.retrieve('pi_missing'));
    expect(notFound.request_log_url).toBe(logUrl(notFound.requestId));
    const unknownParam = await failure(
      stripe().customers.create({ colour: 'blue' } as unknown as Stripe.CustomerCreateParams), // an unknown name on purpose
    );
    expect(unknownParam).toMatchObject({ code: 'parameter_unknown', request_log_url: logUrl(unknownParam.requestId) });
    const unknownUrl = await raw(emulator(), 'GET', '/v1/widgets');
    expect(unknownUrl.json.error.request_log_url).toBe(logUrl(unknownUrl.headers.get('request-id')));
    const pi = await paid();
    await stripe().refunds.create({ payment_intent: pi.id });
    const again = await failure(stripe().refunds.create({ payment_intent: pi.id }));
    expect(again.request_log_url).toBe(logUrl(again.requestId));
  });

  it('a 401 has none: no account to log it to', async () => {
    const res = await raw(emulator(), 'GET', '/v1/payment_intents', undefined, { Authorization: 'Bearer sk_live_x' });
    expect(res.status).toBe(401);
    expect(res.json.error.request_log_url).toBeUndefined();
  });

  it('a replayed error keeps the first request log', async () => {
    const key = { idempotencyKey: 'decline-1' };
    const params = {
      amount: 1000,
      currency: 'usd',
      allowed_payment_method_types: ['card'],
      payment_method: 'pm_card_visa_chargeDeclined',
      confirm: true,
    };
    const first = await failure(stripe().paymentIntents.create(params, key));
    const replay = await failure(stripe().paymentIntents.create(params, key));
    expect(replay.request_log_url).toBe(logUrl(first.requestId));
    expect(replay.headers['original-request']).toBe(first.requestId);
  });

  it('Original-Request names the request itself on a first request with an idempotency key', async () => {
    // aat-stripe plans/idempotency/replay.yaml (Stripe test mode, 2026): originalRequest == requestId on the first.
    const created = await stripe().customers.create({ email: 'a@b.c' }, { idempotencyKey: 'cus-1' });
    expect(created.lastResponse.headers['original-request']).toBe(created.lastResponse.requestId);
    const replayed = await stripe().customers.create({ email: 'a@b.c' }, { idempotencyKey: 'cus-1' });
    expect(replayed.lastResponse.headers['original-request']).toBe(created.lastResponse.requestId);
  });
});

describe('restricted keys', () => {
  it('accepts rk_test_ keys like sk_test_ keys (docs.stripe.com/keys), and still refuses live keys', async () => {
    const restricted = sdk(emulator(), 'rk_test_51abcdef');
    expect((await restricted.customers.create({ email: 'r@k.t' })).email).toBe('r@k.t');
    for (const key of ['rk_live_51abcdef', 'pk_test_51abcdef']) {
      expect(await failure(sdk(emulator(), key).customers.list())).toBeInstanceOf(
        Stripe.errors.StripeAuthenticationError,
      );
    }
  });
});

describe('expanding and v23 fields', () => {
  it('charges.retrieve expands refunds into the list of the charge refunds, newest first', async () => {
    const pi = await paid(1000);
    const r1 = await stripe().refunds.create({ payment_intent: pi.id, amount: 300 });
    const r2 = await stripe().refunds.create({ payment_intent: pi.id, amount: 200 });
    const charge = await stripe().charges.retrieve(pi.latest_charge as string, { expand: ['refunds'] });
    // Charges.d.ts: refunds?: ApiList<Refund> | null, "A list of refunds that have been applied to the charge".
    expect(charge.refunds).toMatchObject({
      object: 'list',
      has_more: false,
      url: `/v1/charges/${charge.id}/refunds`,
    });
    expect(charge.refunds?.data.map((r) => r.id)).toEqual([r2.id, r1.id]);
    const plain = await stripe().charges.retrieve(charge.id);
    expect(plain.refunds).toBeUndefined(); // not part of the object since API 2022-11-15
  });

  it('the fields v23 types as always present are there, with their value or null', async () => {
    const customer = await stripe().customers.create();
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    // PaymentIntents.d.ts: customer_account, managed_payments, allowed_payment_method_types (null when the request
    // did not restrict the types), payment_record.
    expect(pi).toMatchObject({
      customer_account: null,
      managed_payments: null,
      allowed_payment_method_types: null,
      payment_record: null,
    });
    // Charges.d.ts: source (CustomerSource | null; PaymentMethods never set it).
    expect(await stripe().charges.retrieve(pi.latest_charge as string)).toMatchObject({ source: null });
    // Refunds.d.ts: customer, customer_account, payment_method.
    const refund = await stripe().refunds.create({ payment_intent: pi.id, amount: 100 });
    expect(refund).toMatchObject({
      customer: customer.id,
      customer_account: null,
      payment_method: pi.payment_method,
    });
  });

  it('a dispute has intended_submission_method null (Disputes.d.ts)', async () => {
    await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      allowed_payment_method_types: ['card'],
      payment_method: 'pm_card_createDispute',
      confirm: true,
    });
    const [dispute] = (await stripe().disputes.list()).data;
    expect(dispute).toMatchObject({ intended_submission_method: null });
  });
});
