// Stripe's money rules as the emulator must apply them, pinned with literal figures taken from Stripe's own pages
// (each test names its source), never with values the emulator's functions compute: if a rule in src/ drifts, a
// test here fails. Requests go through the official SDK, so the figures are checked where clients read them.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { achFee, stripeFee } from '../src/index.js';
import { failure, useEmulator } from './helpers.js';

const { stripe } = useEmulator();

const PRICING = 'https://stripe.com/pricing';
const CURRENCIES = 'https://docs.stripe.com/currencies';
const PI_AMOUNT = 'https://docs.stripe.com/api/payment_intents/create (amount)';

/** The fee, net and amount of a captured card charge's balance transaction. */
async function cardCharge(amount: number, currency: string): Promise<Stripe.BalanceTransaction> {
  const pi = await stripe().paymentIntents.create({
    amount,
    currency,
    payment_method: 'pm_card_visa',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    capture_method: 'automatic',
  });
  const read = await stripe().paymentIntents.retrieve(pi.id, { expand: ['latest_charge.balance_transaction'] });
  return (read.latest_charge as Stripe.Charge).balance_transaction as Stripe.BalanceTransaction;
}

/** The error Stripe's API answers for creating a PaymentIntent of this amount. */
async function refusal(amount: number, currency: string): Promise<{ statusCode: number; code: string; param: string }> {
  return failure(stripe().paymentIntents.create({ amount, currency }));
}

async function accepts(amount: number, currency: string): Promise<void> {
  await expect(stripe().paymentIntents.create({ amount, currency }), `${amount} ${currency}`).resolves.toMatchObject({
    amount,
    currency,
  });
}

describe(`card processing fee: 2.9% + 30 cents per successful domestic card charge (${PRICING})`, () => {
  it('10.00 USD pays 0.59 (29 + 30) and nets 9.41', async () => {
    expect(stripeFee(1000)).toBe(59);
    expect(await cardCharge(1000, 'usd')).toMatchObject({ amount: 1000, fee: 59, net: 941, currency: 'usd' });
  });

  it('20.00 USD pays 0.88 (58 + 30); 100.00 USD pays 3.20 (290 + 30)', async () => {
    expect(stripeFee(2000)).toBe(88);
    expect(stripeFee(10000)).toBe(320);
    expect(await cardCharge(2000, 'usd')).toMatchObject({
      fee: 88,
      net: 1912,
      fee_details: [{ amount: 88, type: 'stripe_fee' }],
    });
  });

  it('the smallest USD charge, 0.50, pays 0.31 (1.45 cents rounds to 1, + 30)', async () => {
    // Stripe does not publish its rounding of the percentage; half-up to the cent is the emulator's documented choice.
    expect(await cardCharge(50, 'usd')).toMatchObject({ fee: 31, net: 19 });
  });
});

describe(`ACH Direct Debit fee: 0.8%, at most 5.00 (${PRICING})`, () => {
  it('100.00 USD pays 0.80; 625.00 USD and more pay the 5.00 cap', () => {
    expect(achFee(10000)).toBe(80);
    expect(achFee(62_500)).toBe(500);
    expect(achFee(99_999_999)).toBe(500);
  });
});

describe(`largest amount: eight digits, 99999999 for a USD charge of 999,999.99 (${PI_AMOUNT})`, () => {
  it('takes 99999999 and refuses 100000000 with amount_too_large', async () => {
    await accepts(99_999_999, 'usd');
    expect(await refusal(100_000_000, 'usd')).toMatchObject({
      statusCode: 400,
      code: 'amount_too_large',
      param: 'amount',
    });
    await accepts(99_999_999, 'jpy');
    expect(await refusal(100_000_000, 'jpy')).toMatchObject({ code: 'amount_too_large' });
  });
});

describe(`smallest amount per currency (${CURRENCIES}#minimum-and-maximum-charge-amounts)`, () => {
  // Stripe's table: USD 0.50, GBP 0.30, EUR 0.50, JPY ¥50, HUF 175.00, MXN 10.00, THB 10.00.
  const minimums: [string, number][] = [
    ['usd', 50],
    ['gbp', 30],
    ['eur', 50],
    ['jpy', 50],
    ['huf', 17500],
    ['mxn', 1000],
    ['thb', 1000],
  ];

  it.each(minimums)('%s: %i is taken, one less is amount_too_small', async (currency, minimum) => {
    await accepts(minimum, currency);
    expect(await refusal(minimum - 1, currency)).toMatchObject({
      statusCode: 400,
      code: 'amount_too_small',
      param: 'amount',
    });
  });

  it(`an amount must be a positive integer (${PI_AMOUNT}); 0 is refused`, async () => {
    // The code Stripe gives for 0 is not observed; amount_too_small is the emulator's answer.
    expect(await refusal(0, 'usd')).toMatchObject({ statusCode: 400, code: 'amount_too_small' });
  });
});

describe(`zero-decimal and special currencies (${CURRENCIES}#zero-decimal, #special-cases)`, () => {
  it('a zero-decimal amount counts whole units: 500 jpy is ¥500, and its minimum reads ¥50, not ¥0.50', async () => {
    const pi = await stripe().paymentIntents.create({ amount: 500, currency: 'jpy' });
    expect(pi).toMatchObject({ amount: 500, currency: 'jpy' });
    expect(await refusal(49, 'jpy')).toMatchObject({
      code: 'amount_too_small',
      message: 'Amount must be at least 50 jpy.',
    });
    expect(await refusal(49, 'usd')).toMatchObject({ message: 'Amount must be at least 0.50 usd.' });
  });

  it('KRW and VND, zero-decimal too, take whole units', async () => {
    await accepts(50, 'krw');
    await accepts(1, 'vnd');
  });

  it('ISK and UGX are sent as two-decimal values ending in 00: 500 is 5 ISK; 550 is refused', async () => {
    await accepts(500, 'isk');
    await accepts(100, 'ugx');
    expect(await refusal(550, 'isk')).toMatchObject({
      statusCode: 400,
      code: 'invalid_charge_amount',
      param: 'amount',
    });
    expect(await refusal(101, 'ugx')).toMatchObject({ code: 'invalid_charge_amount' });
  });

  it('a three-decimal amount must end in 0: 5.120 KWD (5120) is taken, 5.124 KWD (5124) is refused', async () => {
    // Stripe's example of the rule (the archived currencies page, web.archive.org/web/20221231002856/https://stripe.com/docs/currencies).
    await accepts(5120, 'kwd');
    for (const currency of ['bhd', 'jod', 'kwd', 'omr', 'tnd']) {
      expect(await refusal(5124, currency), currency).toMatchObject({
        statusCode: 400,
        code: 'invalid_charge_amount',
        param: 'amount',
      });
    }
  });

  it('a currency Stripe does not present is refused on the currency parameter', async () => {
    expect(await refusal(1000, 'xxx')).toMatchObject({ statusCode: 400, param: 'currency' });
  });
});
