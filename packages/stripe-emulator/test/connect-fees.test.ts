// Connect: direct charges with application fees (ApplicationFees.d.ts, FeeRefunds.d.ts;
// docs.stripe.com/connect/direct-charges), fee refunds, and refunds with refund_application_fee (Refunds.d.ts).
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { failure, useEmulator } from './helpers.js';

const { stripe } = useEmulator();

async function account(): Promise<string> {
  return (await stripe().accounts.create({ type: 'standard', country: 'US' })).id;
}

async function directCharge(
  acct: string,
  fee: number,
  extra: Partial<Stripe.PaymentIntentCreateParams> = {},
): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create(
    {
      amount: 10_000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      capture_method: 'automatic',
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      application_fee_amount: fee,
      ...extra,
    },
    { stripeAccount: acct },
  );
}

const platformFees = async (): Promise<Stripe.ApplicationFee[]> => (await stripe().applicationFees.list()).data;

describe('application fees on direct charges', () => {
  it('a fee_ on the platform, the charge points at it, the account pays it (fee_details application_fee)', async () => {
    const acct = await account();
    const pi = await directCharge(acct, 500);
    const charge = await stripe().charges.retrieve(pi.latest_charge as string, {}, { stripeAccount: acct });
    const feeId = charge.application_fee as string;
    expect(feeId).toMatch(/^fee_/);
    expect(charge.application_fee_amount).toBe(500);

    const fee = await stripe().applicationFees.retrieve(feeId);
    expect(fee).toMatchObject({
      object: 'application_fee',
      account: acct,
      amount: 500,
      amount_refunded: 0,
      charge: charge.id,
      currency: 'usd',
      refunded: false,
      refunds: { object: 'list', data: [], total_count: 0 },
    });
    // The platform's side: +500, pending like the charge's funds.
    expect(await stripe().balanceTransactions.retrieve(fee.balance_transaction as string)).toMatchObject({
      type: 'application_fee',
      amount: 500,
      net: 500,
      source: feeId,
      status: 'pending',
    });
    expect((await stripe().balance.retrieve()).pending.find((b) => b.currency === 'usd')!.amount).toBe(500);

    // The account's side: its charge BT counts the processing fee (290 + 30) and the application fee.
    const bt = await stripe().balanceTransactions.retrieve(
      charge.balance_transaction as string,
      {},
      { stripeAccount: acct },
    );
    expect(bt).toMatchObject({ amount: 10_000, fee: 820, net: 9180 });
    expect(bt.fee_details.map((d) => [d.type, d.amount])).toEqual([
      ['stripe_fee', 320],
      ['application_fee', 500],
    ]);
    expect((await stripe().balance.retrieve({}, { stripeAccount: acct })).pending[0]!.amount).toBe(9180);

    // The account does not see the platform's fee; the platform lists it; application_fee.created is the platform's.
    expect(await failure(stripe().applicationFees.retrieve(feeId, {}, { stripeAccount: acct }))).toMatchObject({
      statusCode: 404,
    });
    expect((await platformFees()).map((f) => f.id)).toEqual([feeId]);
    expect((await stripe().applicationFees.list({ charge: 'ch_other' })).data).toEqual([]);
    const ev = (await stripe().events.list({ type: 'application_fee.created' })).data;
    expect(ev.map((e) => (e.data.object as Stripe.ApplicationFee).id)).toEqual([feeId]);
    expect(ev[0]).not.toHaveProperty('account');
  });

  it('manual capture: the fee comes at capture, at most what is captured', async () => {
    const acct = await account();
    const pi = await directCharge(acct, 500, { capture_method: 'manual' });
    expect(await platformFees()).toEqual([]);
    await stripe().paymentIntents.capture(pi.id, { amount_to_capture: 300 }, { stripeAccount: acct });
    const [fee] = await platformFees();
    expect(fee).toMatchObject({ amount: 300, charge: pi.latest_charge });
  });

  it('no fee: on the platform (no Stripe-Account), or with application_fee_amount 0', async () => {
    const acct = await account();
    await directCharge(acct, 0);
    await stripe().paymentIntents.create({
      amount: 10_000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      transfer_data: { destination: acct },
      application_fee_amount: 100,
    });
    expect(await platformFees()).toEqual([]);
  });
});

describe('application fee refunds', () => {
  it('partial, then the rest: fr_ refunds, BTs on both sides, amount_refunded, refunded, events', async () => {
    const acct = await account();
    const pi = await directCharge(acct, 500);
    const [fee] = await platformFees();
    const r1 = await stripe().applicationFees.createRefund(fee!.id, { amount: 200, metadata: { why: 'goodwill' } });
    expect(r1.id).toMatch(/^fr_/);
    expect(r1).toMatchObject({
      object: 'fee_refund',
      amount: 200,
      fee: fee!.id,
      currency: 'usd',
      metadata: { why: 'goodwill' },
    });
    expect(await stripe().balanceTransactions.retrieve(r1.balance_transaction as string)).toMatchObject({
      type: 'application_fee_refund',
      amount: -200,
      source: r1.id,
    });
    const acctBts = (
      await stripe().balanceTransactions.list({ type: 'application_fee_refund' }, { stripeAccount: acct })
    ).data;
    expect(acctBts.map((b) => [b.amount, b.source])).toEqual([[200, r1.id]]);
    expect(await stripe().applicationFees.retrieve(fee!.id)).toMatchObject({ amount_refunded: 200, refunded: false });

    const r2 = await stripe().applicationFees.createRefund(fee!.id);
    expect(r2.amount).toBe(300);
    const done = await stripe().applicationFees.retrieve(fee!.id);
    expect(done).toMatchObject({ amount_refunded: 500, refunded: true });
    expect(done.refunds.data.map((r) => r.id)).toEqual([r2.id, r1.id]);
    expect((await stripe().applicationFees.listRefunds(fee!.id)).data.map((r) => r.id)).toEqual([r2.id, r1.id]);
    expect(await stripe().applicationFees.retrieveRefund(fee!.id, r1.id)).toEqual(r1);
    const events = (await stripe().events.list({ type: 'application_fee.refunded' })).data;
    expect(events.map((e) => (e.data.object as Stripe.ApplicationFee).amount_refunded)).toEqual([500, 200]);
    // The charge itself is untouched.
    expect(
      (await stripe().charges.retrieve(pi.latest_charge as string, {}, { stripeAccount: acct })).amount_refunded,
    ).toBe(0);
  });

  it('refuses more than what is left, a fully refunded fee, bad amounts and unknown fees, changing nothing', async () => {
    const acct = await account();
    await directCharge(acct, 500);
    const [fee] = await platformFees();
    for (const amount of [501, 0]) {
      expect(await failure(stripe().applicationFees.createRefund(fee!.id, { amount }))).toMatchObject({
        statusCode: 400,
        param: 'amount',
      });
    }
    expect(await failure(stripe().applicationFees.createRefund('fee_nope'))).toMatchObject({ statusCode: 404 });
    expect(await failure(stripe().applicationFees.createRefund(fee!.id, {}, { stripeAccount: acct }))).toMatchObject({
      statusCode: 404,
    });
    expect((await stripe().applicationFees.retrieve(fee!.id)).amount_refunded).toBe(0);
    await stripe().applicationFees.createRefund(fee!.id);
    expect(await failure(stripe().applicationFees.createRefund(fee!.id, { amount: 1 }))).toMatchObject({
      statusCode: 400,
    });
  });

  it('concurrent full refunds of a fee: exactly one succeeds', async () => {
    const acct = await account();
    await directCharge(acct, 500);
    const [fee] = await platformFees();
    const results = await Promise.allSettled([1, 2, 3].map(() => stripe().applicationFees.createRefund(fee!.id)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await stripe().applicationFees.retrieve(fee!.id)).amount_refunded).toBe(500);
  });
});

describe('refund_application_fee on charge refunds', () => {
  it('refunds the fee in proportion to the charge refunded, the whole rest on the final refund', async () => {
    const acct = await account();
    const pi = await directCharge(acct, 500);
    const [fee] = await platformFees();
    // 2500 of 10000 refunded: a quarter of the fee, 125.
    await stripe().refunds.create(
      { payment_intent: pi.id, amount: 2500, refund_application_fee: true },
      { stripeAccount: acct },
    );
    expect(await stripe().applicationFees.retrieve(fee!.id)).toMatchObject({ amount_refunded: 125, refunded: false });
    // Without the flag the fee stays as it is.
    await stripe().refunds.create({ payment_intent: pi.id, amount: 2500 }, { stripeAccount: acct });
    expect((await stripe().applicationFees.retrieve(fee!.id)).amount_refunded).toBe(125);
    // 333 of 10000: 16.65 rounds half up to 17.
    await stripe().refunds.create(
      { payment_intent: pi.id, amount: 333, refund_application_fee: true },
      { stripeAccount: acct },
    );
    expect((await stripe().applicationFees.retrieve(fee!.id)).amount_refunded).toBe(142);
    // The final refund of the charge refunds all that is left of the fee.
    await stripe().refunds.create({ payment_intent: pi.id, refund_application_fee: true }, { stripeAccount: acct });
    expect(await stripe().applicationFees.retrieve(fee!.id)).toMatchObject({ amount_refunded: 500, refunded: true });
    expect((await stripe().applicationFees.listRefunds(fee!.id)).data.map((r) => r.amount)).toEqual([358, 17, 125]);
  });

  it('refund_application_fee=true on a charge without a fee is refused, refunding nothing', async () => {
    const acct = await account();
    const pi = await stripe().paymentIntents.create(
      {
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      },
      { stripeAccount: acct },
    );
    const err = await failure(
      stripe().refunds.create({ payment_intent: pi.id, refund_application_fee: true }, { stripeAccount: acct }),
    );
    expect(err).toMatchObject({ statusCode: 400, param: 'refund_application_fee' });
    expect((await stripe().refunds.list({}, { stripeAccount: acct })).data).toEqual([]);
  });
});
