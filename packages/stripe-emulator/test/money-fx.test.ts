// Money movement on a USD account: charges in other currencies settle in USD at the emulator's fixed rates (README,
// "Settlement currency and conversion": EUR 1.10, GBP 1.27, JPY 0.0067, CAD 0.74), with Stripe's card fee of 2.9% +
// 30 plus the 1% conversion fee on the settled amount (stripe.com/pricing), each percentage half-up on its own.
// Figures are literals worked by hand from that table; the first is the example of Settle issue 18 (10.00 EUR at
// 1.10 settles 11.00 USD with a fee of 0.73). Shape: BalanceTransactions.d.ts `exchange_rate` ("the amount in
// currency A, multiplied by the exchange_rate, equals the amount in currency B").
import fc from 'fast-check';
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { convert } from '../src/fx.js';
import { conversionFee } from '../src/index.js';
import { DAY, failure, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

async function pay(
  amount: number,
  currency: string,
  extra: Partial<Stripe.PaymentIntentCreateParams> = {},
): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount,
    currency,
    payment_method: 'pm_card_visa',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    capture_method: 'automatic',
    ...extra,
  });
}

async function chargeBt(pi: Stripe.PaymentIntent): Promise<Stripe.BalanceTransaction> {
  const charge = await stripe().charges.retrieve(pi.latest_charge as string, { expand: ['balance_transaction'] });
  return charge.balance_transaction as Stripe.BalanceTransaction;
}

describe('the conversion arithmetic (fx.ts, balance.ts)', () => {
  it('conversionFee is 1% half-up to the minor unit', () => {
    expect(conversionFee(1100)).toBe(11);
    expect(conversionFee(1050)).toBe(11); // 10.5 -> 11 (half up)
    expect(conversionFee(1049)).toBe(10);
    expect(conversionFee(34)).toBe(0);
  });

  it('converts exactly, rounding half up on the magnitude, for every 8-digit amount', () => {
    // [from, to, rate numerator, rate denominator x 10^(from decimals) / 10^(to decimals)]
    const pairs: [string, string, bigint, bigint][] = [
      ['eur', 'usd', 110n, 100n], // 1.10, cents to cents
      ['jpy', 'usd', 67n, 100n], // 0.0067 USD per yen = 0.67 cents per yen
      ['usd', 'jpy', 14925n, 10000n], // 149.25 yen per USD = 1.4925 yen per cent
      ['gbp', 'eur', 1154557n, 1000000n], // 1.27 x 0.9091
    ];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 99_999_999 }), fc.constantFrom(...pairs), (amount, [from, to, n, d]) => {
        const settled = convert(amount, from, to);
        const diff = BigInt(settled.amount) * d * 2n - BigInt(amount) * n * 2n; // 2d x (rounded - exact)
        return (
          settled.currency === to &&
          diff > -d &&
          diff <= d &&
          convert(-amount, from, to).amount === -settled.amount &&
          Number.isSafeInteger(settled.amount)
        );
      }),
    );
  });

  it('leaves same-currency and unlisted pairs alone', () => {
    expect(convert(1234, 'usd', 'usd')).toEqual({ amount: 1234, currency: 'usd', exchange_rate: null });
    expect(convert(1234, 'aud', 'usd')).toEqual({ amount: 1234, currency: 'aud', exchange_rate: null });
    expect(convert(-1234, 'eur', 'usd')).toEqual({ amount: -1357, currency: 'usd', exchange_rate: 1.1 }); // 1357.4
  });
});

describe('charges in another currency settle in USD', () => {
  it('10.00 EUR at 1.10: 1100 USD, fee 73 (32 + 30 + 11), net 1027, exchange_rate 1.1', async () => {
    const pi = await pay(1000, 'eur');
    const charge = await stripe().charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ amount: 1000, currency: 'eur' }); // the charge keeps its presentment currency
    expect(await chargeBt(pi)).toMatchObject({
      type: 'charge',
      amount: 1100,
      currency: 'usd',
      exchange_rate: 1.1,
      fee: 73,
      net: 1027,
      status: 'pending',
      fee_details: [{ amount: 73, currency: 'usd', type: 'stripe_fee' }],
    });
  });

  it('GBP, JPY (zero-decimal) and CAD at their rates; USD and unlisted currencies are not converted', async () => {
    const cases: [number, string, Record<string, unknown>][] = [
      // 12.70 USD: 36.83 -> 37, + 30, + 12.7 -> 13
      [1000, 'gbp', { amount: 1270, currency: 'usd', exchange_rate: 1.27, fee: 80, net: 1190 }],
      // ¥500 x 0.0067 = 3.35 USD: 9.715 -> 10, + 30, + 3.35 -> 3
      [500, 'jpy', { amount: 335, currency: 'usd', exchange_rate: 0.0067, fee: 43, net: 292 }],
      // ¥50 x 0.0067 = 0.335 USD: 33.5 cents rounds half up to 34; 0.986 -> 1, + 30, + 0.34 -> 0
      [50, 'jpy', { amount: 34, currency: 'usd', exchange_rate: 0.0067, fee: 31, net: 3 }],
      // 7.40 USD: 21.46 -> 21, + 30, + 7.4 -> 7
      [1000, 'cad', { amount: 740, currency: 'usd', exchange_rate: 0.74, fee: 58, net: 682 }],
      // 10.05 EUR x 1.10 = 1105.5 cents -> 1106 (half up); 32.074 -> 32, + 30, + 11.06 -> 11
      [1005, 'eur', { amount: 1106, currency: 'usd', exchange_rate: 1.1, fee: 73, net: 1033 }],
      [10000, 'usd', { amount: 10000, currency: 'usd', exchange_rate: null, fee: 320, net: 9680 }],
      // No fixed rate for AUD: a balance of its own, the card fee alone.
      [5000, 'aud', { amount: 5000, currency: 'aud', exchange_rate: null, fee: 175, net: 4825 }],
    ];
    for (const [amount, currency, expected] of cases) {
      expect(await chargeBt(await pay(amount, currency)), `${amount} ${currency}`).toMatchObject(expected);
    }
  });

  it('a partial capture: the fee on the captured 6.60 USD, the released part converted on its own', async () => {
    const pi = await pay(1000, 'eur', { capture_method: 'manual' });
    await stripe().paymentIntents.capture(pi.id, { amount_to_capture: 600 });
    const bts = (await stripe().balanceTransactions.list()).data;
    expect(bts.map((b) => [b.reporting_category, b.amount, b.fee, b.currency, b.exchange_rate])).toEqual([
      ['partial_capture_reversal', -440, 0, 'usd', 1.1],
      // 660: 19.14 -> 19, + 30, + 6.6 -> 7
      ['charge', 1100, 56, 'usd', 1.1],
    ]);
  });
});

describe('refunds of converted charges', () => {
  it('are negative in USD with their own exchange_rate, converted from the refund amount; no fee returned', async () => {
    const pi = await pay(1000, 'eur');
    const first = await stripe().refunds.create({ payment_intent: pi.id, amount: 333 });
    const second = await stripe().refunds.create({ payment_intent: pi.id, amount: 667 });
    expect(first).toMatchObject({ amount: 333, currency: 'eur' });
    const bt1 = await stripe().balanceTransactions.retrieve(first.balance_transaction as string);
    const bt2 = await stripe().balanceTransactions.retrieve(second.balance_transaction as string);
    // 3.33 EUR x 1.10 = 366.3 -> 366; 6.67 EUR x 1.10 = 733.7 -> 734: 1100 in all, as the charge settled.
    expect(bt1).toMatchObject({ type: 'refund', amount: -366, fee: 0, net: -366, currency: 'usd', exchange_rate: 1.1 });
    expect(bt2).toMatchObject({ type: 'refund', amount: -734, fee: 0, net: -734, currency: 'usd', exchange_rate: 1.1 });
    expect(bt1.fee_details).toEqual([]);
    // The charge's fee stays with Stripe: the balance is the charge's net less the refunds' gross.
    const balance = await stripe().balance.retrieve();
    expect(balance.available).toMatchObject([{ amount: -1100, currency: 'usd' }]);
    expect(balance.pending).toMatchObject([{ amount: 1027, currency: 'usd' }]);
  });

  it('concurrent refunds each convert their own amount and never exceed the charge', async () => {
    const pi = await pay(1000, 'eur');
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => stripe().refunds.create({ payment_intent: pi.id, amount: 300 })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(3); // 900 of 1000; a fourth 300 is more than what is left
    const refunds = (await stripe().balanceTransactions.list({ type: 'refund' })).data;
    // 3.00 EUR x 1.10 = 330 each
    expect(refunds.map((b) => [b.amount, b.currency, b.exchange_rate])).toEqual([
      [-330, 'usd', 1.1],
      [-330, 'usd', 1.1],
      [-330, 'usd', 1.1],
    ]);
  });

  it('a refund more than what is left is refused and converts nothing', async () => {
    const pi = await pay(1000, 'gbp');
    expect(await failure(stripe().refunds.create({ payment_intent: pi.id, amount: 1001 }))).toMatchObject({
      statusCode: 400,
      param: 'amount',
    });
    expect((await stripe().balanceTransactions.list({ type: 'refund' })).data).toEqual([]);
  });

  it('a failing refund (pm_card_refundFail) returns the same converted amount', async () => {
    const pi = await pay(1000, 'eur', { payment_method: 'pm_card_refundFail' });
    const refund = await stripe().refunds.create({ payment_intent: pi.id, amount: 500 });
    emulator().controls.advanceClock(DAY);
    const failed = await stripe().refunds.retrieve(refund.id, { expand: ['failure_balance_transaction'] });
    expect(failed.status).toBe('failed');
    expect(failed.failure_balance_transaction).toMatchObject({
      type: 'refund_failure',
      amount: 550,
      currency: 'usd',
      exchange_rate: 1.1,
    });
  });
});

describe('disputes on converted charges', () => {
  it('withdraw the converted amount and a 15.00 USD fee; a won dispute reinstates the converted amount', async () => {
    const pi = await pay(2000, 'eur', { payment_method: 'pm_card_createDispute' });
    const [dispute] = (await stripe().disputes.list({ payment_intent: pi.id })).data;
    expect(dispute).toMatchObject({ amount: 2000, currency: 'eur' });
    // 20.00 EUR x 1.10 = 22.00 USD
    expect(dispute!.balance_transactions).toMatchObject([
      {
        type: 'adjustment',
        reporting_category: 'dispute',
        amount: -2200,
        fee: 1500,
        net: -3700,
        currency: 'usd',
        exchange_rate: 1.1,
        fee_details: [{ amount: 1500, currency: 'usd', description: 'Dispute fee' }],
      },
    ]);
    const won = emulator().controls.closeDispute(dispute!.id, 'won') as unknown as Stripe.Dispute;
    expect(won.balance_transactions[1]).toMatchObject({
      reporting_category: 'dispute_reversal',
      amount: 2200,
      fee: 0,
      currency: 'usd',
      exchange_rate: 1.1,
    });
    // Charge 2200 - 116 (63.8 -> 64, + 30, + 22), withdrawn 2200 + 1500, reinstated 2200.
    const balance = await stripe().balance.retrieve();
    expect(balance.available).toMatchObject([{ amount: -1500, currency: 'usd' }]);
    expect(balance.pending).toMatchObject([{ amount: 2200 - 116, currency: 'usd' }]);
  });
});

describe('GET /v1/balance with conversions', () => {
  it('counts converted charges in USD; unlisted currencies keep entries of their own', async () => {
    await pay(1000, 'eur'); // 1100 - 73
    await pay(500, 'jpy'); // 335 - 43
    await pay(10000, 'usd'); // 10000 - 320
    await pay(5000, 'aud'); // 5000 - 175
    let balance = await stripe().balance.retrieve();
    expect(balance.pending).toEqual([
      { amount: 4825, currency: 'aud', source_types: { card: 4825 } },
      { amount: 1027 + 292 + 9680, currency: 'usd', source_types: { card: 10999 } },
    ]);
    expect(balance.available).toMatchObject([
      { amount: 0, currency: 'aud' },
      { amount: 0, currency: 'usd' },
    ]);
    // Available at noon two days on (BASE_TIME is noon); the two midnights crossed had nothing to pay out.
    emulator().controls.advanceClock(2 * DAY);
    balance = await stripe().balance.retrieve();
    expect(balance.available).toMatchObject([
      { amount: 4825, currency: 'aud' },
      { amount: 10999, currency: 'usd' },
    ]);
  });
});
