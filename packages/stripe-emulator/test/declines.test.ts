import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { failure, useEmulator } from './helpers.js';

const { stripe } = useEmulator();

const DECLINES: [string, string, string][] = [
  ['pm_card_visa_chargeDeclined', 'card_declined', 'generic_decline'],
  ['pm_card_visa_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
  ['pm_card_visa_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
  ['pm_card_visa_chargeDeclinedStolenCard', 'card_declined', 'stolen_card'],
  ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
];

describe('test payment methods', () => {
  it('pm_card_visa succeeds', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    expect(pi).toMatchObject({ status: 'succeeded', last_payment_error: null, amount_received: 1000 });
  });

  for (const [pm, code, declineCode] of DECLINES) {
    it(`${pm} declines with 402 card_error ${code}/${declineCode}`, async () => {
      const err = await failure(
        stripe().paymentIntents.create({
          amount: 1000,
          currency: 'usd',
          payment_method: pm,
          confirm: true,
          automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
          metadata: { t: pm },
        }),
      );
      expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
      expect(err).toMatchObject({
        type: 'StripeCardError',
        rawType: 'card_error',
        statusCode: 402,
        code,
        decline_code: declineCode,
      });
      expect(err.message).toEqual(expect.any(String));
      expect(err.requestId).toMatch(/^req_/);
      const raw = err.raw;
      expect(raw.charge).toMatch(/^ch_/);
      expect(raw.payment_intent).toMatchObject({
        object: 'payment_intent',
        status: 'requires_payment_method',
        payment_method: null,
        latest_charge: raw.charge,
      });
      expect(raw.payment_intent.last_payment_error).toMatchObject({
        type: 'card_error',
        code,
        decline_code: declineCode,
        charge: raw.charge,
      });
      expect(raw.payment_method).toMatchObject({ object: 'payment_method', type: 'card' });

      // The PaymentIntent keeps last_payment_error; the failed charge is on record.
      const pi = await stripe().paymentIntents.retrieve(raw.payment_intent.id);
      expect(pi.last_payment_error).toMatchObject({ code, decline_code: declineCode });
      const charge = await stripe().charges.retrieve(raw.charge);
      expect(charge).toMatchObject({
        status: 'failed',
        paid: false,
        captured: false,
        failure_code: code,
        balance_transaction: null,
        outcome: { type: 'issuer_declined', reason: declineCode },
      });

      // A retry with a good card on the same PaymentIntent succeeds and clears the error.
      const retried = await stripe().paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
      expect(retried).toMatchObject({ status: 'succeeded', last_payment_error: null });
    });
  }

  it('a decline on a separate confirm call gives the same error body', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      capture_method: 'manual',
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    const err = await failure(
      stripe().paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds' }),
    );
    expect(err).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'insufficient_funds' });
    expect(err.raw.payment_intent.id).toBe(pi.id);
  });

  it('pm_card_authenticationRequired on-session needs action (3-D Secure)', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_authenticationRequired',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    expect(pi.status).toBe('requires_action');
    expect(pi.next_action?.type).toBe('use_stripe_sdk');
    expect(pi.latest_charge).toBeNull();
    const canceled = await stripe().paymentIntents.cancel(pi.id);
    expect(canceled.status).toBe('canceled');
  });

  it('pm_card_authenticationRequired off-session is an authentication_required decline', async () => {
    const customer = await stripe().customers.create();
    const pm = await stripe().paymentMethods.attach('pm_card_authenticationRequired', { customer: customer.id });
    const err = await failure(
      stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        customer: customer.id,
        payment_method: pm.id,
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        off_session: true,
      }),
    );
    expect(err).toMatchObject({
      type: 'StripeCardError',
      statusCode: 402,
      code: 'authentication_required',
      decline_code: 'authentication_required',
    });
    expect(err.raw.payment_intent).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { code: 'authentication_required' },
    });
  });

  it('off_session without confirm is rejected', async () => {
    const err = await failure(stripe().paymentIntents.create({ amount: 1000, currency: 'usd', off_session: true }));
    expect(err).toMatchObject({ statusCode: 400, param: 'off_session' });
  });

  it('an unknown payment method is resource_missing', async () => {
    const err = await failure(
      stripe().paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_nope', confirm: true }),
    );
    expect(err).toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
      param: 'payment_method',
    });
  });
});
