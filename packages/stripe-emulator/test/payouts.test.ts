import { describe, expect, it } from 'vitest';
import { BASE_TIME, DAY, failure, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

/** Milliseconds from the emulator's now to the next UTC midnight plus `extra`. */
function untilMidnight(extra = 0): number {
  const now = emulator().controls.now().getTime();
  return Math.ceil(now / DAY) * DAY - now + extra;
}

describe('automatic payouts', () => {
  it('pay out the available balance at UTC midnight, list their balance transactions, then arrive paid', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 10000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    await stripe().refunds.create({ payment_intent: pi.id, amount: 2000 });
    emulator().controls.advanceClock(2 * DAY); // the charge is available now; the refund was at once
    expect((await stripe().payouts.list()).data).toHaveLength(0);
    emulator().controls.advanceClock(untilMidnight(1000));
    const [payout] = (await stripe().payouts.list()).data;
    const amount = 10000 - 320 - 2000;
    expect(payout).toMatchObject({
      object: 'payout',
      amount,
      currency: 'usd',
      automatic: true,
      method: 'standard',
      type: 'bank_account',
      source_type: 'card',
      status: 'in_transit',
      failure_code: null,
      failure_balance_transaction: null,
      reconciliation_status: 'in_progress',
      description: 'STRIPE PAYOUT',
    });
    expect(payout!.created % (24 * 3600)).toBe(0); // at midnight
    expect(payout!.arrival_date).toBe(payout!.created + 2 * 24 * 3600);
    const listed = (await stripe().balanceTransactions.list({ payout: payout!.id })).data;
    expect(listed.map((b) => b.type).sort()).toEqual(['charge', 'payout', 'refund']);
    expect(listed.reduce((s, b) => s + b.net, 0)).toBe(0);
    expect(await stripe().balanceTransactions.retrieve(payout!.balance_transaction as string)).toMatchObject({
      type: 'payout',
      amount: -amount,
      fee: 0,
    });
    expect((await stripe().balance.retrieve()).available[0]).toMatchObject({ amount: 0, currency: 'usd' });
    expect((await stripe().events.list({ type: 'payout.*' })).data.map((e) => e.type)).toEqual([
      'payout.updated',
      'payout.created',
    ]);

    emulator().controls.advanceClock(2 * DAY);
    const paid = await stripe().payouts.retrieve(payout!.id);
    expect(paid).toMatchObject({ status: 'paid', reconciliation_status: 'completed' });
    const events = (await stripe().events.list({ type: 'payout.*' })).data.reverse();
    expect(events.map((e) => e.type)).toEqual([
      'payout.created',
      'payout.updated',
      'payout.updated',
      'payout.paid',
      'payout.reconciliation_completed',
    ]);
    expect(events[2]!.data.previous_attributes).toMatchObject({ status: 'in_transit' });
    expect(events[3]!.created).toBe(payout!.arrival_date);
    // Nothing left to pay: later midnights create nothing.
    emulator().controls.advanceClock(3 * DAY);
    expect((await stripe().payouts.list()).data).toHaveLength(1);
  });

  it('failNextPayout: the payout fails at arrival and the money returns to the balance', async () => {
    await stripe().paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    emulator().controls.advanceClock(2 * DAY);
    emulator().controls.failNextPayout('account_closed');
    const [created] = emulator().controls.runPayouts();
    expect(created).toMatchObject({ status: 'in_transit', amount: 5000 - 175 });
    emulator().controls.advanceClock(2 * DAY);
    const failed = await stripe().payouts.retrieve(created!.id as string, { expand: ['failure_balance_transaction'] });
    expect(failed).toMatchObject({
      status: 'failed',
      failure_code: 'account_closed',
      failure_message: expect.any(String),
    });
    expect(failed.failure_balance_transaction).toMatchObject({ type: 'payout_failure', amount: 5000 - 175 });
    expect((await stripe().events.list({ type: 'payout.failed' })).data).toHaveLength(1);
    expect((await stripe().events.list({ type: 'payout.paid' })).data).toHaveLength(0);
    // The next midnight pays the returned money out again.
    emulator().controls.advanceClock(untilMidnight(1));
    expect((await stripe().payouts.list({ status: 'in_transit' })).data).toMatchObject([{ amount: 5000 - 175 }]);
  });

  it('lists by status, created and arrival_date; unknown payouts are 404; runs over HTTP', async () => {
    await stripe().paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    emulator().controls.advanceClock(2 * DAY);
    const res = await fetch(`${emulator().url}/_emulator/payouts/run`, { method: 'POST' });
    const [p] = (await res.json()) as { id: string; created: number; arrival_date: number }[];
    expect((await stripe().payouts.list({ status: 'paid' })).data).toHaveLength(0);
    expect((await stripe().payouts.list({ created: { gte: p!.created } })).data).toHaveLength(1);
    expect((await stripe().payouts.list({ arrival_date: { gt: p!.arrival_date } })).data).toHaveLength(0);
    expect(await failure(stripe().payouts.retrieve('po_missing'))).toMatchObject({ statusCode: 404 });
    expect(await failure(stripe().balanceTransactions.list({ payout: 'po_missing' }))).toMatchObject({
      statusCode: 404,
      param: 'payout',
    });
    expect(emulator().controls.runPayouts()).toEqual([]); // nothing more to pay
    expect(BASE_TIME.getUTCHours()).toBe(12);
  });
});
