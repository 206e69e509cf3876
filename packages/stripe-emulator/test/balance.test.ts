import fc from 'fast-check';
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { stripeFee } from '../src/index.js';
import { DAY, failure, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

describe('Stripe fee (2.9% + 30 cents, half-up to the cent)', () => {
  it('matches worked examples', () => {
    expect(stripeFee(10000)).toBe(320);
    expect(stripeFee(1099)).toBe(62); // 31.871 -> 32, + 30
    expect(stripeFee(50)).toBe(31); // 1.45 -> 1, + 30
    expect(stripeFee(1500)).toBe(74); // 43.5 -> 44 (half up), + 30
  });

  it('is the exact percentage rounded half up, for every 8-digit amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 99_999_999 }), (amount) => {
        const variable = stripeFee(amount) - 30;
        const diff = variable * 1000 - amount * 29; // 1000 x (rounded - exact)
        return diff > -500 && diff <= 500 && Number.isSafeInteger(stripeFee(amount));
      }),
    );
  });
});

describe('balance transactions', () => {
  it('a 100.00 USD charge: fee 3.20, net 96.80, pending for 2 days of emulator clock', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 10000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'automatic',
    });
    const charge = await stripe().charges.retrieve(pi.latest_charge as string, { expand: ['balance_transaction'] });
    const bt = charge.balance_transaction as Stripe.BalanceTransaction;
    expect(bt).toMatchObject({
      object: 'balance_transaction',
      type: 'charge',
      reporting_category: 'charge',
      amount: 10000,
      fee: 320,
      net: 9680,
      currency: 'usd',
      exchange_rate: null,
      status: 'pending',
      source: charge.id,
      balance_type: 'payments',
      fee_details: [
        { amount: 320, currency: 'usd', type: 'stripe_fee', application: null, description: expect.any(String) },
      ],
    });
    expect(bt.available_on).toBe(bt.created + 2 * 24 * 3600);
    emulator().controls.advanceClock(2 * DAY - 1000);
    expect((await stripe().balanceTransactions.retrieve(bt.id)).status).toBe('pending');
    emulator().controls.advanceClock(1000);
    expect((await stripe().balanceTransactions.retrieve(bt.id)).status).toBe('available');
  });

  it('lists by source and type, newest first, with pagination', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'manual',
    });
    await stripe().paymentIntents.capture(pi.id, { amount_to_capture: 4000 });
    const r = await stripe().refunds.create({ payment_intent: pi.id, amount: 1000 });
    const all = await stripe().balanceTransactions.list();
    expect(all.data.map((b) => [b.type, b.reporting_category, b.amount])).toEqual([
      ['refund', 'refund', -1000],
      ['refund', 'partial_capture_reversal', -1000],
      ['charge', 'charge', 5000],
    ]);
    expect(all.data.reduce((sum, b) => sum + b.amount, 0)).toBe(3000); // captured 4000 minus the 1000 refund
    expect(all.data.reduce((sum, b) => sum + b.net, 0)).toBe(3000 - 146);
    expect((await stripe().balanceTransactions.list({ type: 'charge' })).data).toHaveLength(1);
    expect((await stripe().balanceTransactions.list({ source: r.id })).data.map((b) => b.id)).toEqual([
      r.balance_transaction,
    ]);
    const page = await stripe().balanceTransactions.list({ limit: 2 });
    expect(page.has_more).toBe(true);
    const rest = await stripe().balanceTransactions.list({ limit: 2, starting_after: page.data[1]!.id });
    expect(rest.data.map((b) => b.type)).toEqual(['charge']);
    expect(await failure(stripe().balanceTransactions.list({ payout: 'po_123' }))).toMatchObject({
      statusCode: 404,
      param: 'payout',
    });
  });
});
