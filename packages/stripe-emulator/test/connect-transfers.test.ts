// Connect: transfers from the platform to connected accounts, their reversals (Transfers.d.ts, TransferReversals.d.ts)
// and payouts from a connected account's balance (Payouts.d.ts with the Stripe-Account header).
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DAY, failure, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

async function account(): Promise<string> {
  return (await stripe().accounts.create({ type: 'express', country: 'US' })).id;
}

async function pay(amount = 10_000): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    capture_method: 'automatic',
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  });
}

/** 10000 usd charged on the platform and made available: 9680 (10000 - 2.9% - 30) [stripe.com/pricing]. */
async function fundPlatform(): Promise<void> {
  await pay();
  emulator().controls.advanceClock(2 * DAY + 1000);
}

const usd = (list: { amount: number; currency: string }[]): number =>
  list.find((x) => x.currency === 'usd')?.amount ?? 0;
const available = async (stripeAccount?: string): Promise<number> =>
  usd((await stripe().balance.retrieve({}, stripeAccount === undefined ? {} : { stripeAccount })).available);
const pending = async (stripeAccount?: string): Promise<number> =>
  usd((await stripe().balance.retrieve({}, stripeAccount === undefined ? {} : { stripeAccount })).pending);

describe('transfers', () => {
  it('debit the platform (a transfer BT) and credit the destination (a py_ payment with a payment BT)', async () => {
    await fundPlatform();
    const dest = await account();
    expect(await available()).toBe(9680);
    const transfer = await stripe().transfers.create({
      amount: 5000,
      currency: 'usd',
      destination: dest,
      transfer_group: 'order-7',
      description: 'payout share',
      metadata: { order: '7' },
    });
    expect(transfer.id).toMatch(/^tr_/);
    expect(transfer).toMatchObject({
      object: 'transfer',
      amount: 5000,
      amount_reversed: 0,
      currency: 'usd',
      destination: dest,
      reversed: false,
      source_transaction: null,
      transfer_group: 'order-7',
      description: 'payout share',
      metadata: { order: '7' },
      reversals: { object: 'list', data: [], has_more: false, total_count: 0 },
    });
    const bt = await stripe().balanceTransactions.retrieve(transfer.balance_transaction as string);
    expect(bt).toMatchObject({ type: 'transfer', amount: -5000, fee: 0, net: -5000, source: transfer.id });
    expect(await available()).toBe(4680);

    // The destination's side: a py_ payment and its `payment` BT, available at once, seen only by the account.
    const py = transfer.destination_payment as string;
    expect(py).toMatch(/^py_/);
    const payment = await stripe().charges.retrieve(py, {}, { stripeAccount: dest });
    expect(payment).toMatchObject({ amount: 5000, status: 'succeeded', source_transfer: transfer.id });
    const destBts = (await stripe().balanceTransactions.list({}, { stripeAccount: dest })).data;
    expect(destBts.map((t) => [t.type, t.amount, t.source])).toEqual([['payment', 5000, py]]);
    expect(await available(dest)).toBe(5000);
    expect(await failure(stripe().charges.retrieve(py))).toMatchObject({ statusCode: 404 });

    // Retrieve, list (filters), event.
    expect(await stripe().transfers.retrieve(transfer.id)).toEqual(transfer);
    const other = await account();
    await stripe().transfers.create({ amount: 100, currency: 'usd', destination: other });
    expect((await stripe().transfers.list({ destination: dest })).data.map((t) => t.id)).toEqual([transfer.id]);
    expect((await stripe().transfers.list({ transfer_group: 'order-7' })).data.map((t) => t.id)).toEqual([transfer.id]);
    expect((await stripe().transfers.list()).data).toHaveLength(2);
    const created = (await stripe().events.list({ type: 'transfer.created' })).data;
    expect(created.map((e) => (e.data.object as Stripe.Transfer).id)).toContain(transfer.id);
    expect(created[0]).not.toHaveProperty('account');
    // A connected account does not see the platform's transfers.
    expect(await failure(stripe().transfers.retrieve(transfer.id, {}, { stripeAccount: dest }))).toMatchObject({
      statusCode: 404,
    });
  });

  it('refuses what it cannot do, with a 400, moving no money', async () => {
    await fundPlatform();
    const dest = await account();
    const cases: [Record<string, unknown>, string | undefined, string | undefined, number?][] = [
      [{ amount: 9681, currency: 'usd', destination: dest }, undefined, 'balance_insufficient'],
      [{ amount: 100, currency: 'usd', destination: 'acct_1Unknown000000000' }, 'destination', 'resource_missing', 404],
      [{ amount: 0, currency: 'usd', destination: dest }, 'amount', 'parameter_invalid_integer'],
      [{ currency: 'usd', destination: dest }, 'amount', 'parameter_missing'],
      [{ amount: 100, destination: dest }, 'currency', 'parameter_missing'],
      [{ amount: 100, currency: 'usd' }, 'destination', 'parameter_missing'],
      [
        { amount: 100, currency: 'usd', destination: dest, source_transaction: 'ch_nope' },
        'source_transaction',
        'resource_missing',
        404,
      ],
      [{ amount: 100, currency: 'usd', destination: dest, speed: 'fast' }, 'speed', 'parameter_unknown'],
    ];
    for (const [params, param, code, status = 400] of cases) {
      const err = await failure(stripe().transfers.create(params as unknown as Stripe.TransferCreateParams));
      expect(err).toMatchObject({ statusCode: status, param, code });
    }
    // Only the platform transfers.
    expect(
      await failure(
        stripe().transfers.create({ amount: 1, currency: 'usd', destination: dest }, { stripeAccount: dest }),
      ),
    ).toMatchObject({ statusCode: 400 });
    expect(await available()).toBe(9680);
    expect((await stripe().transfers.list()).data).toEqual([]);
    expect((await stripe().balanceTransactions.list({}, { stripeAccount: dest })).data).toEqual([]);
  });

  it('source_transaction: funded by a pending charge, at most what is left of it; the funds follow the charge', async () => {
    const dest = await account();
    const pi = await pay(); // pending: available in 2 days
    const charge = pi.latest_charge as string;
    expect(await available()).toBe(0);
    const t1 = await stripe().transfers.create({
      amount: 6000,
      currency: 'usd',
      destination: dest,
      source_transaction: charge,
    });
    expect(t1.source_transaction).toBe(charge);
    expect(await pending(dest)).toBe(6000);
    expect(await available(dest)).toBe(0);
    const tooMuch = await failure(
      stripe().transfers.create({ amount: 4001, currency: 'usd', destination: dest, source_transaction: charge }),
    );
    expect(tooMuch).toMatchObject({ statusCode: 400, param: 'amount' });
    await stripe().transfers.create({ amount: 4000, currency: 'usd', destination: dest, source_transaction: charge });
    emulator().controls.advanceClock(2 * DAY + 1000);
    expect(await pending(dest)).toBe(0);
    // 10000 on the destination, less whatever its own automatic payout took at midnight.
    const paidOut = (await stripe().payouts.list({}, { stripeAccount: dest })).data.reduce((s, p) => s + p.amount, 0);
    expect((await available(dest)) + paidOut).toBe(10_000);
  });

  it('updates take description and metadata only (transfer.updated)', async () => {
    await fundPlatform();
    const dest = await account();
    const t = await stripe().transfers.create({ amount: 100, currency: 'usd', destination: dest });
    const updated = await stripe().transfers.update(t.id, { metadata: { a: '1' }, description: 'x' });
    expect(updated).toMatchObject({ metadata: { a: '1' }, description: 'x' });
    const ev = (await stripe().events.list({ type: 'transfer.updated' })).data[0]!;
    expect(ev.data.previous_attributes).toEqual({ metadata: { a: null }, description: null });
    expect(
      await failure(stripe().transfers.update(t.id, { amount: 5 } as unknown as Stripe.TransferUpdateParams)),
    ).toMatchObject({ statusCode: 400, code: 'parameter_unknown' });
  });
});

describe('transfer reversals', () => {
  it('partial then the rest: transfer_refund / payment_refund BTs, amount_reversed, reversed, events', async () => {
    await fundPlatform();
    const dest = await account();
    const t = await stripe().transfers.create({ amount: 5000, currency: 'usd', destination: dest });
    const r1 = await stripe().transfers.createReversal(t.id, { amount: 2000, metadata: { why: 'partial' } });
    expect(r1.id).toMatch(/^trr_/);
    expect(r1).toMatchObject({ object: 'transfer_reversal', amount: 2000, currency: 'usd', transfer: t.id });
    expect(await stripe().balanceTransactions.retrieve(r1.balance_transaction as string)).toMatchObject({
      type: 'transfer_refund',
      amount: 2000,
      reporting_category: 'transfer_reversal',
      source: r1.id,
    });
    expect(await available()).toBe(9680 - 5000 + 2000);
    expect(await available(dest)).toBe(3000);
    const destBt = (await stripe().balanceTransactions.list({ type: 'payment_refund' }, { stripeAccount: dest })).data;
    expect(destBt.map((b) => [b.amount, b.source])).toEqual([[-2000, r1.destination_payment_refund]]);
    let now = await stripe().transfers.retrieve(t.id);
    expect(now).toMatchObject({ amount_reversed: 2000, reversed: false });
    expect(now.reversals.data.map((r) => r.id)).toEqual([r1.id]);

    // No amount: the rest.
    const r2 = await stripe().transfers.createReversal(t.id);
    expect(r2.amount).toBe(3000);
    now = await stripe().transfers.retrieve(t.id);
    expect(now).toMatchObject({ amount_reversed: 5000, reversed: true });
    expect(now.reversals.data.map((r) => r.id)).toEqual([r2.id, r1.id]);
    expect(await available()).toBe(9680);
    expect(await available(dest)).toBe(0);
    const payment = await stripe().charges.retrieve(t.destination_payment as string, {}, { stripeAccount: dest });
    expect(payment).toMatchObject({ amount_refunded: 5000, refunded: true });

    const events = (await stripe().events.list({ type: 'transfer.reversed' })).data;
    expect(events.map((e) => (e.data.object as Stripe.Transfer).amount_reversed)).toEqual([5000, 2000]);
    expect(events[1]!.data.previous_attributes).toMatchObject({ amount_reversed: 0 });

    // Retrieve and list reversals.
    expect(await stripe().transfers.retrieveReversal(t.id, r1.id)).toEqual(r1);
    expect((await stripe().transfers.listReversals(t.id)).data.map((r) => r.id)).toEqual([r2.id, r1.id]);
    expect(await failure(stripe().transfers.retrieveReversal(t.id, 'trr_nope'))).toMatchObject({ statusCode: 404 });
  });

  it('refuses more than what is left, a fully reversed transfer and bad amounts, changing nothing', async () => {
    await fundPlatform();
    const dest = await account();
    const t = await stripe().transfers.create({ amount: 1000, currency: 'usd', destination: dest });
    for (const amount of [1001, 0, -5]) {
      expect(await failure(stripe().transfers.createReversal(t.id, { amount }))).toMatchObject({
        statusCode: 400,
        param: 'amount',
      });
    }
    expect(await failure(stripe().transfers.createReversal('tr_nope'))).toMatchObject({ statusCode: 404 });
    expect(await failure(stripe().transfers.createReversal(t.id, { refund_application_fee: true }))).toMatchObject({
      statusCode: 400,
      param: 'refund_application_fee',
    });
    expect((await stripe().transfers.retrieve(t.id)).amount_reversed).toBe(0);
    await stripe().transfers.createReversal(t.id, { amount: 1000 });
    expect(await failure(stripe().transfers.createReversal(t.id, { amount: 1 }))).toMatchObject({
      statusCode: 400,
      param: 'amount',
    });
    expect(await failure(stripe().transfers.createReversal(t.id))).toMatchObject({ statusCode: 400 });
    expect((await stripe().transfers.listReversals(t.id)).data).toHaveLength(1);
  });

  it('concurrent reversals of the whole transfer: exactly one succeeds', async () => {
    await fundPlatform();
    const dest = await account();
    const t = await stripe().transfers.create({ amount: 1000, currency: 'usd', destination: dest });
    const results = await Promise.allSettled([1, 2, 3].map(() => stripe().transfers.createReversal(t.id)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await stripe().transfers.retrieve(t.id)).amount_reversed).toBe(1000);
    expect(await available(dest)).toBe(0);
  });

  it('concurrent transfers that together exceed the balance: the balance never goes below zero', async () => {
    await fundPlatform();
    const dest = await account();
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => stripe().transfers.create({ amount: 4000, currency: 'usd', destination: dest })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ statusCode: 400, code: 'balance_insufficient' });
    expect(await available()).toBe(1680);
    expect(await available(dest)).toBe(8000);
  });
});

describe('payouts of a connected account', () => {
  it("a manual payout with Stripe-Account comes from the account's balance and is the account's", async () => {
    await fundPlatform();
    const dest = await account();
    await stripe().transfers.create({ amount: 5000, currency: 'usd', destination: dest });
    const tooMuch = await failure(stripe().payouts.create({ amount: 5001, currency: 'usd' }, { stripeAccount: dest }));
    expect(tooMuch).toMatchObject({ statusCode: 400, code: 'balance_insufficient' });
    const payout = await stripe().payouts.create({ amount: 3000, currency: 'usd' }, { stripeAccount: dest });
    expect(payout).toMatchObject({ amount: 3000, status: 'pending', automatic: false });
    expect(await available(dest)).toBe(2000);
    expect(await available()).toBe(4680); // the platform's balance is untouched
    expect((await stripe().payouts.list({}, { stripeAccount: dest })).data.map((p) => p.id)).toEqual([payout.id]);
    expect((await stripe().payouts.list()).data).toEqual([]);
    expect(await failure(stripe().payouts.retrieve(payout.id))).toMatchObject({ statusCode: 404 });
    const created = (await stripe().events.list({ type: 'payout.created' }, { stripeAccount: dest })).data;
    expect(created.map((e) => [e.account, (e.data.object as Stripe.Payout).id])).toEqual([[dest, payout.id]]);
    // It arrives on the account's own timeline.
    emulator().controls.advanceClock(2 * DAY);
    expect((await stripe().payouts.retrieve(payout.id, {}, { stripeAccount: dest })).status).toBe('paid');
  });
});
