import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { achFee } from '../src/index.js';
import { DAY, failure, raw, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

async function debit(pm: string, amount = 10000): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: pm,
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  });
}

describe('ACH Direct Debit (us_bank_account)', () => {
  it('resolves the magic ids to us_bank_account PaymentMethods', async () => {
    const pm = await stripe().paymentMethods.retrieve('pm_usBankAccount');
    expect(pm).toMatchObject({
      type: 'us_bank_account',
      us_bank_account: {
        bank_name: 'STRIPE TEST BANK',
        last4: '6789',
        account_type: 'checking',
        account_holder_type: 'individual',
        routing_number: '110000000',
      },
    });
    expect(pm.card).toBeUndefined();
    expect(pm.id).toMatch(/^pm_/);
  });

  it('stays processing with a pending charge, then succeeds 4 days later with the ACH fee', async () => {
    const pi = await debit('pm_usBankAccount');
    expect(pi).toMatchObject({ status: 'processing', amount_received: 0 });
    const pending = await stripe().charges.retrieve(pi.latest_charge as string);
    expect(pending).toMatchObject({
      status: 'pending',
      paid: false,
      balance_transaction: null,
      payment_method_details: { type: 'us_bank_account', us_bank_account: { last4: '6789' } },
    });
    expect(pending.id).toMatch(/^py_/);
    expect((await stripe().events.list()).data.map((e) => e.type)).toEqual([
      'payment_intent.processing',
      'charge.pending',
      'payment_intent.created',
    ]);
    expect(await failure(stripe().refunds.create({ payment_intent: pi.id }))).toMatchObject({
      code: 'payment_intent_unexpected_state',
    });

    emulator().controls.advanceClock(4 * DAY - 1000);
    expect((await stripe().paymentIntents.retrieve(pi.id)).status).toBe('processing');
    emulator().controls.advanceClock(1000);
    const done = await stripe().paymentIntents.retrieve(pi.id, { expand: ['latest_charge.balance_transaction'] });
    expect(done).toMatchObject({ status: 'succeeded', amount_received: 10000 });
    const charge = done.latest_charge as Stripe.Charge;
    expect(charge).toMatchObject({ status: 'succeeded', paid: true });
    expect(charge.balance_transaction).toMatchObject({
      type: 'payment',
      reporting_category: 'charge',
      amount: 10000,
      fee: 80,
      net: 9920,
    });
    const settled = (await stripe().events.list({ limit: 2 })).data;
    expect(settled.map((e) => [e.type, e.request?.id])).toEqual([
      ['payment_intent.succeeded', null],
      ['charge.succeeded', null],
    ]);
    expect(settled[1]!.created).toBe(pending.created + 4 * 24 * 3600);
  });

  it('caps the ACH fee at 5.00', () => {
    expect(achFee(10000)).toBe(80);
    expect(achFee(62_500)).toBe(500);
    expect(achFee(99_999_999)).toBe(500);
    expect(achFee(1063)).toBe(9); // 8.504 rounds half up to 9
  });

  it('insufficient funds: the charge fails and the PaymentIntent asks for another payment method', async () => {
    const pi = await debit('pm_usBankAccount_insufficientFunds', 5000);
    expect(pi.status).toBe('processing');
    emulator().controls.advanceClock(4 * DAY);
    const failed = await stripe().paymentIntents.retrieve(pi.id);
    expect(failed).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
      last_payment_error: {
        code: 'insufficient_funds',
        type: 'card_error',
        charge: pi.latest_charge,
        payment_method: { type: 'us_bank_account' },
      },
    });
    expect(await stripe().charges.retrieve(pi.latest_charge as string)).toMatchObject({
      status: 'failed',
      failure_code: 'insufficient_funds',
      balance_transaction: null,
      paid: false,
    });
    expect((await stripe().events.list({ limit: 2 })).data.map((e) => e.type)).toEqual([
      'payment_intent.payment_failed',
      'charge.failed',
    ]);
    expect((await stripe().balanceTransactions.list()).data).toEqual([]);
  });

  it('takes usd only and no manual capture', async () => {
    expect(
      await failure(
        stripe().paymentIntents.create({
          amount: 1000,
          currency: 'eur',
          payment_method: 'pm_usBankAccount',
          confirm: true,
          automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        }),
      ),
    ).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', code: 'payment_method_currency_mismatch' });
    expect(
      await failure(
        stripe().paymentIntents.create({
          amount: 1000,
          currency: 'usd',
          payment_method: 'pm_usBankAccount',
          confirm: true,
          automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
          capture_method: 'manual',
        }),
      ),
    ).toMatchObject({ statusCode: 400, code: 'payment_intent_invalid_parameter', param: 'capture_method' });
    const cardOnly = await raw(
      emulator(),
      'POST',
      '/v1/payment_intents',
      'amount=1000&currency=usd&payment_method_types[]=card',
    );
    expect(cardOnly.json.payment_method_types).toEqual(['card']);
    expect(
      await failure(stripe().paymentIntents.confirm(cardOnly.json.id, { payment_method: 'pm_usBankAccount' })),
    ).toMatchObject({ statusCode: 400, code: 'payment_intent_incompatible_payment_method' });
  });

  it('a processing debit can be canceled: it never settles', async () => {
    const pi = await debit('pm_usBankAccount');
    expect(await stripe().paymentIntents.cancel(pi.id)).toMatchObject({ status: 'canceled' });
    emulator().controls.advanceClock(5 * DAY);
    expect(await stripe().charges.retrieve(pi.latest_charge as string)).toMatchObject({ status: 'failed' });
    expect((await stripe().paymentIntents.retrieve(pi.id)).status).toBe('canceled');
  });
});
