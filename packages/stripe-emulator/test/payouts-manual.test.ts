// Payouts made through the API: create (covered by the available balance), update (metadata only), cancel (pending
// manual payouts only) and reverse (paid payouts to a bank account). Rules from the SDK's Payouts.d.ts.
import { describe, expect, it } from 'vitest';
import { DAY, failure, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

/** 10000 usd charged; its net (10000 - 2.9% - 30 = 9680) is available two days later. */
async function fund(): Promise<number> {
  await stripe().paymentIntents.create({
    amount: 10_000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    capture_method: 'automatic',
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  });
  emulator().controls.advanceClock(2 * DAY + 1000);
  const balance = await stripe().balance.retrieve();
  return balance.available.find((b) => b.currency === 'usd')!.amount;
}

const usdAvailable = async (): Promise<number> =>
  (await stripe().balance.retrieve()).available.find((b) => b.currency === 'usd')?.amount ?? 0;

describe('manual payouts', () => {
  // The emulator clock stays near noon UTC between tests (base 12:00, moves of whole days plus a second), so fund()
  // makes the money available 12 hours before the next automatic payout runs at midnight.
  it('create: a pending manual payout that debits the available balance, then arrives paid', async () => {
    const available = await fund();
    expect(available).toBe(9680); // 2.9% + 30 of 10000 is 320 [stripe.com/pricing]
    // Payouts are in the account's own money only: more than the available balance is refused, changing nothing.
    const tooMuch = await failure(stripe().payouts.create({ amount: available + 1, currency: 'usd' }));
    expect(tooMuch).toMatchObject({ statusCode: 400, code: 'balance_insufficient' });
    const payout = await stripe().payouts.create({
      amount: 5000,
      currency: 'usd',
      description: 'weekly',
      statement_descriptor: 'SETTLE WEEKLY',
      metadata: { batch: '7' },
    });
    expect(payout).toMatchObject({
      object: 'payout',
      amount: 5000,
      currency: 'usd',
      automatic: false,
      status: 'pending',
      method: 'standard',
      type: 'bank_account',
      destination: 'ba_emulator',
      reconciliation_status: 'not_applicable',
      statement_descriptor: 'SETTLE WEEKLY',
      metadata: { batch: '7' },
      arrival_date: payout.created + 2 * 86_400,
    });
    expect(await usdAvailable()).toBe(available - 5000);
    const bt = await stripe().balanceTransactions.retrieve(payout.balance_transaction as string);
    expect(bt).toMatchObject({ amount: -5000, type: 'payout', source: payout.id });
    emulator().controls.advanceClock(2 * DAY);
    expect(await stripe().payouts.retrieve(payout.id)).toMatchObject({
      status: 'paid',
      reconciliation_status: 'not_applicable',
    });
  });

  it('create refuses instant payouts, other destinations, bad amounts and unknown parameters', async () => {
    await fund();
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ method: 'instant' }, { code: 'instant_payouts_unsupported', param: 'method' }],
      [{ destination: 'ba_other' }, { statusCode: 404, code: 'resource_missing', param: 'destination' }],
      [{ amount: 0 }, { code: 'parameter_invalid_integer', param: 'amount' }],
      [{ source_type: 'bank_account' }, { code: 'balance_insufficient' }],
      [{ statement_descriptor: 'X'.repeat(23) }, { param: 'statement_descriptor' }],
      [{ transfer_group: 'g' }, { code: 'parameter_unknown' }],
    ];
    for (const [extra, expected] of cases) {
      const err = await failure(stripe().payouts.create({ amount: 100, currency: 'usd', ...extra } as never));
      expect(err).toMatchObject(expected);
    }
    expect((await stripe().payouts.list()).data.filter((p) => !p.automatic)).toEqual([]);
  });

  it('update takes metadata only (payout.updated)', async () => {
    await fund();
    const payout = await stripe().payouts.create({ amount: 100, currency: 'usd' });
    expect((await stripe().payouts.update(payout.id, { metadata: { a: '1' } })).metadata).toEqual({ a: '1' });
    expect(await failure(stripe().payouts.update(payout.id, { description: 'x' } as never))).toMatchObject({
      code: 'parameter_unknown',
    });
    const types = (await stripe().events.list({ limit: 3 })).data.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['payout.updated', 'payout.created']);
  });

  it('cancel: only a pending manual payout; the money returns to the balance', async () => {
    const available = await fund();
    const payout = await stripe().payouts.create({ amount: 3000, currency: 'usd' });
    const canceled = await stripe().payouts.cancel(payout.id);
    expect(canceled).toMatchObject({ status: 'canceled' });
    const back = await stripe().balanceTransactions.retrieve(canceled.failure_balance_transaction as string);
    expect(back).toMatchObject({ amount: 3000, type: 'payout_cancel', source: payout.id });
    expect(await usdAvailable()).toBe(available);
    expect((await stripe().events.list({ limit: 1 })).data[0]!.type).toBe('payout.canceled');
    expect(await failure(stripe().payouts.cancel(payout.id))).toMatchObject({ statusCode: 400 });
    // An automatic payout cannot be canceled ("You can't cancel automatic Stripe payouts").
    const [auto] = emulator().controls.runPayouts();
    expect(await failure(stripe().payouts.cancel(auto!.id as string))).toMatchObject({ statusCode: 400 });
  });

  it('reverse: only a paid payout; a pending one must be canceled instead', async () => {
    await fund();
    const payout = await stripe().payouts.create({ amount: 2000, currency: 'usd' });
    expect(await failure(stripe().payouts.reverse(payout.id))).toMatchObject({ statusCode: 400 });
    emulator().controls.advanceClock(2 * DAY);
    const before = await usdAvailable();
    const reversal = await stripe().payouts.reverse(payout.id, { metadata: { why: 'wrong account' } });
    expect(reversal).toMatchObject({
      amount: 2000,
      original_payout: payout.id,
      automatic: false,
      metadata: { why: 'wrong account' },
    });
    expect(await stripe().payouts.retrieve(payout.id)).toMatchObject({ status: 'paid', reversed_by: reversal.id });
    expect(await usdAvailable()).toBe(before + 2000);
    expect(await failure(stripe().payouts.reverse(payout.id))).toMatchObject({ statusCode: 400 });
  });
});
