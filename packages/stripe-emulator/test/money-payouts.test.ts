// Payouts of converted money, and a failed payout's money paid out again. Payouts.d.ts: the failure_balance_transaction
// "returns the funds from the failed payout back in your balance", and an automatic payout's transactions are listed
// by GET /v1/balance_transactions?payout= (docs.stripe.com/payouts/reconciliation). Fees: 2.9% + 30, + 1% when
// converted (stripe.com/pricing); rates: the README's fixed table (EUR 1.10).
import { describe, expect, it } from 'vitest';
import { DAY, failure, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

function untilMidnight(extra = 0): number {
  const now = emulator().controls.now().getTime();
  return Math.ceil(now / DAY) * DAY - now + extra;
}

async function pay(amount: number, currency: string): Promise<void> {
  await stripe().paymentIntents.create({
    amount,
    currency,
    payment_method: 'pm_card_visa',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  });
}

describe('a failed payout', () => {
  it('is paid out again by the next automatic payout, which lists the payout_failure transaction', async () => {
    await pay(5000, 'usd'); // net 4825 (145 + 30)
    emulator().controls.advanceClock(2 * DAY);
    emulator().controls.failNextPayout('no_account');
    const [first] = emulator().controls.runPayouts();
    expect(first).toMatchObject({ amount: 4825, currency: 'usd', status: 'in_transit' });
    const firstId = first!.id as string;
    await pay(2000, 'usd'); // net 1912 (58 + 30), available with the failure, 2 days on
    emulator().controls.advanceClock(2 * DAY);
    const failed = await stripe().payouts.retrieve(firstId);
    expect(failed).toMatchObject({ status: 'failed', failure_code: 'no_account' });
    const failureBt = await stripe().balanceTransactions.retrieve(failed.failure_balance_transaction as string);
    expect(failureBt).toMatchObject({
      type: 'payout_failure',
      reporting_category: 'payout_reversal',
      amount: 4825,
      net: 4825,
      currency: 'usd',
      status: 'available',
      source: firstId,
    });
    // The failed payout keeps listing what it had paid out, not the failure.
    const firstListed = (await stripe().balanceTransactions.list({ payout: firstId })).data;
    expect(firstListed.map((b) => [b.type, b.amount]).sort()).toEqual([
      ['charge', 5000],
      ['payout', -4825],
    ]);
    expect((await stripe().balance.retrieve()).available).toMatchObject([{ amount: 4825 + 1912, currency: 'usd' }]);

    emulator().controls.advanceClock(untilMidnight(1000));
    const next = (await stripe().payouts.list({ status: 'in_transit' })).data;
    expect(next).toMatchObject([{ amount: 6737, currency: 'usd', automatic: true }]);
    const listed = (await stripe().balanceTransactions.list({ payout: next[0]!.id })).data;
    expect(listed.map((b) => [b.type, b.amount]).sort()).toEqual([
      ['charge', 2000],
      ['payout', -6737],
      ['payout_failure', 4825],
    ]);
    expect(listed.find((b) => b.type === 'payout_failure')!.id).toBe(failureBt.id);
    expect(listed.reduce((s, b) => s + b.net, 0)).toBe(0);
    expect((await stripe().balance.retrieve()).available).toMatchObject([{ amount: 0, currency: 'usd' }]);
    // It arrives paid and reconciled; nothing is paid out twice.
    emulator().controls.advanceClock(2 * DAY);
    expect(await stripe().payouts.retrieve(next[0]!.id)).toMatchObject({
      status: 'paid',
      reconciliation_status: 'completed',
    });
    expect(emulator().controls.runPayouts()).toEqual([]);
  });
});

describe('payouts of converted balances', () => {
  it('pay out in the settlement currency; currencies without a rate are paid out on their own', async () => {
    await pay(1000, 'eur'); // 1100 USD, fee 73
    await pay(1000, 'usd'); // fee 59
    await pay(5000, 'aud'); // no rate: 5000 AUD, fee 175
    emulator().controls.advanceClock(2 * DAY);
    const payouts = emulator().controls.runPayouts();
    expect(payouts.map((p) => [p.currency, p.amount])).toEqual([
      ['usd', 1027 + 941],
      ['aud', 4825],
    ]);
    const usd = await stripe().balanceTransactions.retrieve(payouts[0]!.balance_transaction as string);
    expect(usd).toMatchObject({ type: 'payout', amount: -1968, currency: 'usd', exchange_rate: null, fee: 0 });
    const listed = (await stripe().balanceTransactions.list({ payout: payouts[0]!.id as string })).data;
    expect(listed.map((b) => [b.type, b.amount, b.currency, b.exchange_rate])).toEqual([
      ['payout', -1968, 'usd', null],
      ['charge', 1000, 'usd', null],
      ['charge', 1100, 'usd', 1.1],
    ]);
  });

  it('a manual payout takes the converted balance; one in the presentment currency has no balance to take', async () => {
    await pay(1000, 'eur');
    emulator().controls.advanceClock(2 * DAY);
    expect(await failure(stripe().payouts.create({ amount: 500, currency: 'eur' }))).toMatchObject({
      statusCode: 400,
      code: 'balance_insufficient',
    });
    expect(await failure(stripe().payouts.create({ amount: 1028, currency: 'usd' }))).toMatchObject({
      statusCode: 400,
      code: 'balance_insufficient',
    });
    expect((await stripe().payouts.list()).data).toEqual([]);
    const manual = await stripe().payouts.create({ amount: 1027, currency: 'usd' });
    expect(manual).toMatchObject({ amount: 1027, currency: 'usd', automatic: false });
    expect(await stripe().balanceTransactions.retrieve(manual.balance_transaction as string)).toMatchObject({
      amount: -1027,
      currency: 'usd',
      exchange_rate: null,
    });
    expect((await stripe().balance.retrieve()).available).toMatchObject([{ amount: 0, currency: 'usd' }]);
  });
});
