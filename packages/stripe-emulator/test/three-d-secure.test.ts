// 3-D Secure as Stripe answers it. Sources:
//   [aat]  aat-stripe plans/payments/three-d-secure.yaml, run against Stripe test mode in 2026: confirming
//          pm_card_threeDSecure2Required with a return_url stops at requires_action with next_action.type
//          redirect_to_url and amount_capturable 0; capturing then is 400 payment_intent_unexpected_state without
//          param or decline_code; error_on_requires_action=true is 402 card_error authentication_required /
//          authentication_not_handled without param, and leaves the PaymentIntent open;
//   [docs] docs.stripe.com/payments/without-card-authentication: the full 402 body of error_on_requires_action;
//   [test] docs.stripe.com/testing "3D Secure": pm_card_threeDSecure2Required is 4000000000003220.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { failure, useEmulator } from './helpers.js';

const { stripe } = useEmulator();

const RETURN_URL = 'https://example.com/settle/return';
const NOT_HANDLED_MESSAGE =
  "This payment required an authentication action to complete, but `error_on_requires_action` was set. When you're " +
  'ready, you can upgrade your integration to handle actions at ' +
  'https://stripe.com/docs/payments/payment-intents/upgrade-to-handle-actions.'; // [docs]

describe('3-D Secure', () => {
  for (const pm of ['pm_card_threeDSecure2Required', 'pm_card_authenticationRequired']) {
    it(`${pm} confirmed with a return_url asks for a redirect, and cannot be captured yet`, async () => {
      const customer = await stripe().customers.create();
      const pi = await stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        customer: customer.id,
        payment_method: pm,
        capture_method: 'manual',
        confirm: true,
        return_url: RETURN_URL,
      });
      expect(pi).toMatchObject({ status: 'requires_action', amount_capturable: 0, latest_charge: null }); // [aat]
      expect(pi.next_action?.type).toBe('redirect_to_url'); // [aat]
      const redirect = pi.next_action?.redirect_to_url;
      expect(redirect?.return_url).toBe(RETURN_URL);
      // Stripe's hosted 3DS page (hooks.stripe.com/3d_secure_2/hosted?...&payment_intent=pi_...), as public
      // next_action samples show it.
      const url = new URL(redirect?.url ?? '');
      expect(`${url.origin}${url.pathname}`).toBe('https://hooks.stripe.com/3d_secure_2/hosted');
      expect(url.searchParams.get('payment_intent')).toBe(pi.id);
      expect(url.searchParams.get('payment_intent_client_secret')).toBe(pi.client_secret);
      expect(await stripe().paymentIntents.retrieve(pi.id)).toMatchObject({ next_action: { type: 'redirect_to_url' } });

      const early = await failure(stripe().paymentIntents.capture(pi.id));
      expect(early).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' }); // [aat]
      expect(early.raw.param).toBeUndefined();
      expect(early.raw.decline_code).toBeUndefined();
    });
  }

  it('without a return_url (redirects not allowed) the action is use_stripe_sdk, for Stripe.js', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      payment_method: 'pm_card_threeDSecure2Required',
      confirm: true,
    });
    expect(pi.status).toBe('requires_action');
    expect(pi.next_action?.type).toBe('use_stripe_sdk');
  });

  it('a confirm call with a return_url redirects too', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      allowed_payment_method_types: ['card'],
    });
    const confirmed = await stripe().paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_threeDSecure2Required',
      return_url: RETURN_URL,
    });
    expect(confirmed.next_action).toMatchObject({
      type: 'redirect_to_url',
      redirect_to_url: { return_url: RETURN_URL },
    });
  });

  it('error_on_requires_action=true refuses with 402 authentication_not_handled and leaves the PaymentIntent open', async () => {
    const customer = await stripe().customers.create();
    const first = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_threeDSecure2Required',
      capture_method: 'manual',
      confirm: true,
      return_url: RETURN_URL,
    });
    const err = await failure(
      stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        customer: customer.id,
        allowed_payment_method_types: ['card'],
        payment_method: 'pm_card_threeDSecure2Required',
        confirm: true,
        error_on_requires_action: true,
      }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({
      statusCode: 402,
      rawType: 'card_error',
      code: 'authentication_required',
      decline_code: 'authentication_not_handled',
      message: NOT_HANDLED_MESSAGE,
    }); // [aat], [docs]
    expect(err.raw.param).toBeUndefined(); // [aat]
    expect(err.raw.charge).toBeUndefined(); // [docs]: no charge was attempted
    expect(err.request_log_url).toBe(`https://dashboard.stripe.com/test/logs/${err.requestId}`);
    expect(err.raw.payment_intent).toMatchObject({
      status: 'requires_payment_method',
      latest_charge: null,
      last_payment_error: {
        type: 'card_error',
        code: 'authentication_required',
        decline_code: 'authentication_not_handled',
        message: NOT_HANDLED_MESSAGE,
      },
    }); // [docs]

    // [aat]: the refused create still left a PaymentIntent; both are open and the second can be canceled.
    const listed = await stripe().paymentIntents.list({ customer: customer.id });
    expect(listed.data.map((p) => p.status).sort()).toEqual(['requires_action', 'requires_payment_method']);
    const refused = listed.data.find((p) => p.id !== first.id);
    expect(refused?.id).toBe(err.raw.payment_intent.id);
    expect((await stripe().paymentIntents.cancel(refused?.id ?? '')).status).toBe('canceled');
  });

  it('error_on_requires_action on a confirm call gives the same refusal; a card without 3DS still pays', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      allowed_payment_method_types: ['card'],
    });
    const err = await failure(
      stripe().paymentIntents.confirm(pi.id, {
        payment_method: 'pm_card_authenticationRequired',
        error_on_requires_action: true,
      }),
    );
    expect(err).toMatchObject({
      statusCode: 402,
      code: 'authentication_required',
      decline_code: 'authentication_not_handled',
    });
    const paid = await stripe().paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_visa',
      error_on_requires_action: true,
    });
    expect(paid).toMatchObject({ status: 'succeeded', last_payment_error: null, next_action: null });
  });

  it('error_on_requires_action needs confirm=true on create, and must be a boolean', async () => {
    const without = await failure(
      stripe().paymentIntents.create({ amount: 1000, currency: 'usd', error_on_requires_action: true }),
    );
    // PaymentIntentCreateParams.error_on_requires_action: "This parameter can only be used with confirm=true".
    expect(without).toMatchObject({ statusCode: 400, param: 'error_on_requires_action' });
    const notBool = await failure(
      stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        allowed_payment_method_types: ['card'],
        confirm: true,
        payment_method: 'pm_card_visa',
        error_on_requires_action: 'yes' as unknown as boolean, // a wrong type, sent on purpose
      }),
    );
    expect(notBool).toMatchObject({ statusCode: 400, param: 'error_on_requires_action' });
    expect((await stripe().paymentIntents.list()).data).toHaveLength(0); // refused requests created nothing
  });
});
