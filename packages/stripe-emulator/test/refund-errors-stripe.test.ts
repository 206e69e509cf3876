// Refund refusals with the code and param Stripe sends, and no more. Sources: aat-stripe
// plans/refunds/refund-limits.yaml (Stripe test mode, 2026: "400 on param amount, with no code"; a second full
// refund "400 charge_already_refunded" with no param; a refund of an authorization "400 with no code or param") and
// the stripe-stateful-mock parity tests against live Stripe (pushplay/stripe-stateful-mock).
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { failure, useEmulator } from './helpers.js';

const { stripe } = useEmulator();

async function pay(captureMethod: 'automatic' | 'manual' = 'automatic'): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount: 1000,
    currency: 'usd',
    allowed_payment_method_types: ['card'],
    payment_method: 'pm_card_visa',
    confirm: true,
    capture_method: captureMethod,
  });
}

async function refundCount(pi: string): Promise<number> {
  return (await stripe().refunds.list({ payment_intent: pi })).data.length;
}

describe('refund refusals', () => {
  it('more than was paid: 400 on param amount, with no code, and nothing refunded', async () => {
    const pi = await pay();
    const err = await failure(stripe().refunds.create({ payment_intent: pi.id, amount: 1001 }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, rawType: 'invalid_request_error', param: 'amount' });
    expect('code' in err.raw).toBe(false);
    expect('decline_code' in err.raw).toBe(false);
    expect(await refundCount(pi.id)).toBe(0);
    // More than what is left after a partial refund is the same refusal.
    await stripe().refunds.create({ payment_intent: pi.id, amount: 600 });
    const rest = await failure(stripe().refunds.create({ payment_intent: pi.id, amount: 401 }));
    expect(rest).toMatchObject({ statusCode: 400, param: 'amount' });
    expect('code' in rest.raw).toBe(false);
    expect(await refundCount(pi.id)).toBe(1);
  });

  it('a second full refund: charge_already_refunded, with no param', async () => {
    const pi = await pay();
    await stripe().refunds.create({ payment_intent: pi.id });
    const err = await failure(stripe().refunds.create({ payment_intent: pi.id }));
    expect(err).toMatchObject({ statusCode: 400, code: 'charge_already_refunded' });
    expect('param' in err.raw).toBe(false);
    expect('decline_code' in err.raw).toBe(false);
    expect(await refundCount(pi.id)).toBe(1);
  });

  it('an authorization not captured: 400 with no code and no param, by PaymentIntent or by charge', async () => {
    const pi = await pay('manual');
    for (const params of [{ payment_intent: pi.id }, { charge: pi.latest_charge as string }]) {
      const err = await failure(stripe().refunds.create(params));
      expect(err).toMatchObject({ statusCode: 400, rawType: 'invalid_request_error' });
      expect('code' in err.raw).toBe(false);
      expect('param' in err.raw).toBe(false);
      expect('decline_code' in err.raw).toBe(false);
    }
    expect(await refundCount(pi.id)).toBe(0);
    expect((await stripe().paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
  });
});
