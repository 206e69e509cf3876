// Declines as Stripe answers them: the 402 body (code, decline_code, advice_code, param, message), the
// PaymentIntent's last_payment_error and the failed charge's outcome. Every expected value is a literal from:
//   [aat]   aat-stripe (github.com/gburgyan/aat-stripe, workflows/slots/decline-*.yaml), run against Stripe test mode
//           in 2026: code, decline_code, advice_code, param (and their absence);
//   [ofn]   Open Food Network (openfoodfoundation/openfoodnetwork, spec/lib/stripe/payment_intent_validator_spec.rb),
//           recorded against Stripe test mode: the messages;
//   [test]  docs.stripe.com/testing "Declined payments" and docs.stripe.com/radar/testing: codes per card;
//   [risk]  docs.stripe.com/radar/risk-evaluation (a high-risk payment's outcome: not_sent_to_network,
//           highest_risk_level, highest, blocked) and the seller_message live blocked charges carry;
//   [ssm]   stripe-stateful-mock (pushplay/stripe-stateful-mock src/api/charges.ts), parity-tested against live
//           Stripe: issuer-decline outcomes and seller messages.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { failure, useEmulator } from './helpers.js';

const { stripe } = useEmulator();

interface Expected {
  code: string;
  decline_code: string;
  advice_code: string | undefined;
  param: string | undefined;
  message: string;
  outcome: Record<string, unknown>;
}

const ISSUER = { network_status: 'declined_by_network', type: 'issuer_declined', risk_level: 'normal' };
const BLOCKED = {
  network_status: 'not_sent_to_network',
  reason: 'highest_risk_level',
  risk_level: 'highest',
  seller_message: 'Stripe blocked this payment as too risky.',
  type: 'blocked',
  advice_code: null,
};

const CASES: Record<string, Expected> = {
  pm_card_visa_chargeDeclined: {
    code: 'card_declined',
    decline_code: 'generic_decline',
    advice_code: 'try_again_later', // [aat]
    param: undefined,
    message: 'Your card was declined.', // [ofn]
    outcome: {
      ...ISSUER,
      reason: 'generic_decline',
      advice_code: 'try_again_later',
      seller_message: 'The bank did not return any further details with this decline.', // [ssm]
    },
  },
  pm_card_visa_chargeDeclinedInsufficientFunds: {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    advice_code: 'try_again_later', // [aat]
    param: undefined,
    message: 'Your card has insufficient funds.', // [ofn]
    outcome: {
      ...ISSUER,
      reason: 'insufficient_funds',
      advice_code: 'try_again_later',
      seller_message: 'The bank returned the decline code `insufficient_funds`.',
    },
  },
  pm_card_visa_chargeDeclinedLostCard: {
    code: 'card_declined',
    decline_code: 'lost_card',
    advice_code: 'do_not_try_again', // [aat]
    param: undefined,
    message: 'Your card was declined.', // [ofn]: the reason is deliberately not shown
    outcome: { ...ISSUER, reason: 'lost_card', advice_code: 'do_not_try_again' },
  },
  pm_card_visa_chargeDeclinedStolenCard: {
    code: 'card_declined',
    decline_code: 'stolen_card',
    advice_code: 'do_not_try_again', // [aat]
    param: undefined,
    message: 'Your card was declined.', // [ofn]
    outcome: { ...ISSUER, reason: 'stolen_card', advice_code: 'do_not_try_again' },
  },
  pm_card_chargeDeclinedExpiredCard: {
    code: 'expired_card',
    decline_code: 'expired_card',
    advice_code: 'confirm_card_data', // [aat]
    param: 'exp_month', // [aat], [ssm]
    message: 'Your card has expired.', // [ofn]
    outcome: {
      ...ISSUER,
      reason: 'expired_card',
      advice_code: 'confirm_card_data',
      seller_message: 'The bank returned the decline code `expired_card`.', // [ssm]
    },
  },
  pm_card_chargeDeclinedIncorrectCvc: {
    code: 'incorrect_cvc',
    decline_code: 'incorrect_cvc',
    advice_code: 'confirm_card_data', // [aat]
    param: 'cvc', // [aat], [ssm]
    message: "Your card's security code is incorrect.", // [ofn]
    outcome: {
      ...ISSUER,
      reason: 'incorrect_cvc',
      advice_code: 'confirm_card_data',
      seller_message: 'The bank returned the decline code `incorrect_cvc`.', // [ssm]
    },
  },
  pm_card_chargeDeclinedProcessingError: {
    code: 'processing_error',
    decline_code: 'processing_error',
    advice_code: 'try_again_later', // [aat]
    param: undefined,
    message: 'An error occurred while processing your card. Try again in a little bit.', // [ofn]
    outcome: { ...ISSUER, reason: 'processing_error', advice_code: 'try_again_later' },
  },
  pm_card_visa_chargeDeclinedVelocityLimitExceeded: {
    code: 'card_declined',
    decline_code: 'card_velocity_exceeded', // [test]
    advice_code: undefined,
    param: undefined,
    message: 'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.', // [ofn]
    outcome: { ...ISSUER, reason: 'card_velocity_exceeded', advice_code: null },
  },
  pm_card_chargeDeclinedFraudulent: {
    code: 'card_declined',
    decline_code: 'fraudulent',
    advice_code: undefined, // [aat]: fieldAbsent error.advice_code
    param: undefined,
    message: 'Your card was declined.',
    outcome: BLOCKED, // [test]: 4100000000000019 "is always blocked regardless of your rules"; [risk]
  },
  pm_card_radarBlock: {
    code: 'card_declined',
    decline_code: 'fraudulent',
    advice_code: undefined,
    param: undefined,
    message: 'Your card was declined.',
    outcome: BLOCKED, // the same card, 4100000000000019 [test]
  },
  pm_card_riskLevelHighest: {
    code: 'card_declined',
    decline_code: 'fraudulent',
    advice_code: undefined,
    param: undefined,
    message: 'Your card was declined.',
    outcome: BLOCKED, // blocked by Radar's default rule "Block if :risk_level: = 'highest'" [test]
  },
  pm_card_chargeCustomerFail: {
    code: 'card_declined',
    decline_code: 'generic_decline',
    advice_code: 'try_again_later',
    param: undefined,
    message: 'Your card was declined.',
    outcome: { ...ISSUER, reason: 'generic_decline' },
  },
};

describe('declines carry what Stripe sends', () => {
  for (const [pm, want] of Object.entries(CASES)) {
    it(`${pm}: 402 ${want.code}/${want.decline_code}, advice ${want.advice_code ?? 'none'}`, async () => {
      const created = await stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        allowed_payment_method_types: ['card'],
      });
      const err = await failure(stripe().paymentIntents.confirm(created.id, { payment_method: pm }));
      expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
      expect(err).toMatchObject({
        statusCode: 402,
        rawType: 'card_error',
        code: want.code,
        decline_code: want.decline_code,
        message: want.message,
      });
      expect(err.advice_code).toBe(want.advice_code);
      expect(err.param).toBe(want.param);
      expect('advice_code' in err.raw).toBe(want.advice_code !== undefined);
      expect('param' in err.raw).toBe(want.param !== undefined);
      // request_log_url points at this request's own log entry (docs.stripe.com/api/errors).
      expect(err.request_log_url).toBe(`https://dashboard.stripe.com/test/logs/${err.requestId}`);
      expect(err.raw.payment_intent).toMatchObject({ id: created.id, status: 'requires_payment_method' });

      const pi = await stripe().paymentIntents.retrieve(created.id);
      expect(pi.last_payment_error).toMatchObject({
        type: 'card_error',
        code: want.code,
        decline_code: want.decline_code,
        message: want.message,
      });
      expect(pi.last_payment_error?.advice_code).toBe(want.advice_code);
      expect(pi.last_payment_error?.param).toBe(want.param);

      const charge = await stripe().charges.retrieve(err.raw.charge as string);
      expect(charge).toMatchObject({
        status: 'failed',
        paid: false,
        failure_code: want.code,
        failure_message: want.message,
        outcome: want.outcome,
      });
    });
  }

  it('a Radar block is reported as fraud by Stripe on the charge', async () => {
    const err = await failure(
      stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        allowed_payment_method_types: ['card'],
        payment_method: 'pm_card_radarBlock',
        confirm: true,
      }),
    );
    const charge = await stripe().charges.retrieve(err.raw.charge as string);
    // fraud_details.stripe_report 'fraudulent' on charges Radar blocked (live charges quoted in public code).
    expect(charge.fraud_details).toEqual({ stripe_report: 'fraudulent' });
    expect(charge.payment_method_details?.card).toMatchObject({ brand: 'visa', last4: '0019' }); // [test]
  });

  it('a successful charge is authorized by the network, normal risk, no advice', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      allowed_payment_method_types: ['card'],
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const charge = await stripe().charges.retrieve(pi.latest_charge as string);
    // [ssm]: Stripe's outcome for an approved charge.
    expect(charge.outcome).toMatchObject({
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      seller_message: 'Payment complete.',
      type: 'authorized',
      advice_code: null,
    });
  });

  it('an ACH debit is not assessed by Radar', async () => {
    // Charges.d.ts Outcome.risk_level: "For non-card payments ... this field will have the value not_assessed", and
    // risk_score "will not be present".
    const pi = await stripe().paymentIntents.create({
      amount: 10000,
      currency: 'usd',
      payment_method: 'pm_usBankAccount',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    const charge = await stripe().charges.retrieve(pi.latest_charge as string);
    expect(charge.outcome?.risk_level).toBe('not_assessed');
    expect(charge.outcome).not.toHaveProperty('risk_score');
  });

  it('pm_card_chargeCustomerFail attaches to a customer, then fails when charged', async () => {
    // docs.stripe.com/testing: 4000000000000341 "Attaching this card to a Customer object succeeds, but attempts to
    // charge the customer fail."
    const customer = await stripe().customers.create();
    const pm = await stripe().paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    expect(pm).toMatchObject({ customer: customer.id, card: { last4: '0341' } });
    const err = await failure(
      stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        allowed_payment_method_types: ['card'],
        customer: customer.id,
        payment_method: pm.id,
        confirm: true,
        off_session: true,
      }),
    );
    expect(err).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'generic_decline' });
  });
});

describe('test cards by brand (docs.stripe.com/testing "Cards by brand")', () => {
  // [test]: pm_card_visa_debit 4000056655665556, pm_card_discover 6011111111111117, pm_card_diners 3056930009020004,
  // pm_card_jcb 3566002020360505, pm_card_unionpay 6200000000000005, pm_card_amex 378282246310005. [ofn] and [aat]
  // charge each of them successfully on Stripe.
  const BRANDS: [string, string, string, string][] = [
    ['pm_card_visa_debit', 'visa', '5556', 'debit'],
    ['pm_card_discover', 'discover', '1117', 'credit'],
    ['pm_card_diners', 'diners', '0004', 'credit'],
    ['pm_card_jcb', 'jcb', '0505', 'credit'],
    ['pm_card_unionpay', 'unionpay', '0005', 'credit'],
    ['pm_card_amex', 'amex', '0005', 'credit'],
  ];
  for (const [pm, brand, last4, funding] of BRANDS) {
    it(`${pm} is a ${funding} ${brand} card ending ${last4} that pays`, async () => {
      const pi = await stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        allowed_payment_method_types: ['card'],
        payment_method: pm,
        confirm: true,
      });
      expect(pi.status).toBe('succeeded');
      const charge = await stripe().charges.retrieve(pi.latest_charge as string);
      expect(charge.payment_method_details?.card).toMatchObject({ brand, last4, funding });
      const method = await stripe().paymentMethods.retrieve(pi.payment_method as string);
      expect(method.card).toMatchObject({ brand, last4, funding });
    });
  }
});
