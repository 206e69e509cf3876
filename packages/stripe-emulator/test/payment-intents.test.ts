import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DAY, failure, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

async function authorize(
  amount: number,
  extra: Partial<Stripe.PaymentIntentCreateParams> = {},
): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    capture_method: 'manual',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    ...extra,
  });
}

async function chargeOf(pi: Stripe.PaymentIntent): Promise<Stripe.Charge> {
  return stripe().charges.retrieve(pi.latest_charge as string, { expand: ['balance_transaction'] });
}

describe('PaymentIntent lifecycle', () => {
  it('starts in requires_payment_method, then requires_confirmation once a payment method is set', async () => {
    const bare = await stripe().paymentIntents.create({ amount: 1000, currency: 'usd' });
    expect(bare).toMatchObject({
      object: 'payment_intent',
      status: 'requires_payment_method',
      amount: 1000,
      currency: 'usd',
      latest_charge: null,
      capture_method: 'automatic_async',
      livemode: false,
    });
    expect(bare.id).toMatch(/^pi_/);
    expect(bare.client_secret).toMatch(new RegExp(`^${bare.id}_secret_`));
    const withPm = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
    });
    expect(withPm.status).toBe('requires_confirmation');
    expect(withPm.payment_method).toMatch(/^pm_/); // a magic test id becomes a new PaymentMethod
    // Under automatic payment methods (allow_redirects 'always' by default) server-side confirmation needs a return_url.
    const confirmed = await stripe().paymentIntents.confirm(bare.id, {
      payment_method: 'pm_card_visa',
      return_url: 'https://example.com/return',
    });
    expect(confirmed).toMatchObject({ status: 'succeeded', amount_received: 1000 });
  });

  it('manual capture: requires_capture with amount_capturable, then a full capture', async () => {
    const pi = await authorize(5000);
    expect(pi).toMatchObject({ status: 'requires_capture', amount_capturable: 5000, amount_received: 0 });
    const auth = await chargeOf(pi);
    expect(auth).toMatchObject({
      captured: false,
      amount_captured: 0,
      status: 'succeeded',
      paid: true,
      balance_transaction: null,
    });
    const captureBefore = auth.payment_method_details?.card?.capture_before;
    expect(captureBefore).toBe(auth.created + 7 * 24 * 3600);

    const captured = await stripe().paymentIntents.capture(pi.id);
    expect(captured).toMatchObject({ status: 'succeeded', amount_capturable: 0, amount_received: 5000 });
    const charge = await chargeOf(captured);
    expect(charge).toMatchObject({ captured: true, amount_captured: 5000, amount_refunded: 0, refunded: false });
    const bt = charge.balance_transaction as Stripe.BalanceTransaction;
    expect(bt).toMatchObject({
      type: 'charge',
      reporting_category: 'charge',
      amount: 5000,
      fee: 175,
      net: 4825,
      currency: 'usd',
      exchange_rate: null,
      status: 'pending',
      source: charge.id,
    });
  });

  it('partial capture releases the rest: amount_refunded on the charge and a partial_capture_reversal BT', async () => {
    const pi = await authorize(10000);
    const captured = await stripe().paymentIntents.capture(pi.id, { amount_to_capture: 6000 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 6000, amount_capturable: 0 });
    const charge = await chargeOf(captured);
    expect(charge).toMatchObject({
      amount: 10000,
      amount_captured: 6000,
      amount_refunded: 4000,
      refunded: false,
      captured: true,
    });

    const refunds = await stripe().refunds.list({ payment_intent: pi.id });
    expect(refunds.data).toHaveLength(1);
    const release = refunds.data[0]!;
    expect(release).toMatchObject({ amount: 4000, status: 'succeeded', charge: charge.id });
    const bts = await stripe().balanceTransactions.list({ limit: 100 });
    const reversal = bts.data.find((b) => b.reporting_category === 'partial_capture_reversal')!;
    expect(reversal).toMatchObject({ type: 'refund', amount: -4000, fee: 0, net: -4000, source: release.id });
    const chargeBt = bts.data.find((b) => b.type === 'charge')!;
    expect(chargeBt.amount + reversal.amount).toBe(6000); // the two sum to what was captured
    expect(chargeBt.fee).toBe(204); // 2.9% of 6000 = 174, + 30

    // Only what was captured can be refunded.
    const err = await failure(stripe().refunds.create({ payment_intent: pi.id, amount: 6001 }));
    // No code on Stripe, only param amount (aat-stripe plans/refunds/refund-limits.yaml).
    expect(err).toMatchObject({ type: 'StripeInvalidRequestError', code: undefined, param: 'amount', statusCode: 400 });
    const full = await stripe().refunds.create({ payment_intent: pi.id });
    expect(full.amount).toBe(6000);
    expect((await chargeOf(captured)).refunded).toBe(true);
  });

  it('rejects a capture larger than amount_capturable', async () => {
    const pi = await authorize(1000);
    const err = await failure(stripe().paymentIntents.capture(pi.id, { amount_to_capture: 1001 }));
    expect(err).toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'amount_too_large',
      param: 'amount_to_capture',
    });
    expect((await stripe().paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
  });

  it('cancel of requires_capture releases amount_capturable; later operations give payment_intent_unexpected_state', async () => {
    const pi = await authorize(2500);
    const canceled = await stripe().paymentIntents.cancel(pi.id, { cancellation_reason: 'requested_by_customer' });
    expect(canceled).toMatchObject({
      status: 'canceled',
      amount_capturable: 0,
      amount_received: 0,
      cancellation_reason: 'requested_by_customer',
    });
    expect(canceled.canceled_at).toEqual(expect.any(Number));
    expect(await chargeOf(canceled)).toMatchObject({
      refunded: true,
      amount_refunded: 2500,
      captured: false,
      balance_transaction: null,
    });
    for (const op of [
      () => stripe().paymentIntents.capture(pi.id),
      () => stripe().paymentIntents.cancel(pi.id),
      () => stripe().paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' }),
    ]) {
      const err = await failure(op());
      expect(err).toMatchObject({
        type: 'StripeInvalidRequestError',
        statusCode: 400,
        code: 'payment_intent_unexpected_state',
      });
      expect(err.raw.payment_intent.status).toBe('canceled');
    }
  });

  it('a succeeded PaymentIntent cannot be captured, canceled or confirmed again', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'automatic',
    });
    expect(pi.status).toBe('succeeded');
    for (const op of [
      () => stripe().paymentIntents.capture(pi.id),
      () => stripe().paymentIntents.cancel(pi.id),
      () => stripe().paymentIntents.confirm(pi.id),
    ]) {
      expect(await failure(op())).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
    }
  });

  it('automatic_async (the default) hides balance_transaction in the confirming response only', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      expand: ['latest_charge'],
    });
    expect(pi.capture_method).toBe('automatic_async');
    expect((pi.latest_charge as Stripe.Charge).balance_transaction).toBeNull();
    const later = await stripe().paymentIntents.retrieve(pi.id, { expand: ['latest_charge.balance_transaction'] });
    const bt = (later.latest_charge as Stripe.Charge).balance_transaction as Stripe.BalanceTransaction;
    expect(bt).toMatchObject({ amount: 2000, fee: 88, net: 1912 });
  });

  it('an uncaptured authorization lapses 7 days after creation on the emulator clock', async () => {
    const pi = await authorize(3000);
    emulator().controls.advanceClock(7 * DAY - 1000);
    expect((await stripe().paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
    emulator().controls.advanceClock(1000);
    const lapsed = await stripe().paymentIntents.retrieve(pi.id);
    expect(lapsed).toMatchObject({ status: 'canceled', cancellation_reason: 'automatic', amount_capturable: 0 });
    expect(await failure(stripe().paymentIntents.capture(pi.id))).toMatchObject({
      code: 'payment_intent_unexpected_state',
    });
  });

  it('applies Stripe amount rules with Stripe error codes', async () => {
    const cases: [number, string, string][] = [
      [49, 'usd', 'amount_too_small'],
      [100_000_000, 'usd', 'amount_too_large'],
      [1005, 'kwd', 'invalid_charge_amount'], // three-decimal currencies must end in 0 (stripe-rules.test.ts)
      [0, 'usd', 'amount_too_small'],
    ];
    for (const [amount, currency, code] of cases) {
      const err = await failure(stripe().paymentIntents.create({ amount, currency }));
      expect(err, `${amount} ${currency}`).toMatchObject({
        type: 'StripeInvalidRequestError',
        statusCode: 400,
        code,
        param: 'amount',
      });
    }
    await expect(stripe().paymentIntents.create({ amount: 50, currency: 'usd' })).resolves.toMatchObject({
      amount: 50,
    });
    await expect(stripe().paymentIntents.create({ amount: 99_999_999, currency: 'usd' })).resolves.toMatchObject({
      amount: 99_999_999,
    });
    await expect(stripe().paymentIntents.create({ amount: 1010, currency: 'kwd' })).resolves.toMatchObject({
      currency: 'kwd',
    });
  });

  it('retrieves with latest_charge.balance_transaction expanded and lists by customer with pagination', async () => {
    const customer = await stripe().customers.create({ email: 'a@example.com' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await stripe().paymentIntents.create({ amount: 1000 + i, currency: 'usd', customer: customer.id })).id);
    }
    await stripe().paymentIntents.create({ amount: 999, currency: 'usd' });
    const page1 = await stripe().paymentIntents.list({ customer: customer.id, limit: 2 });
    expect(page1.data.map((p) => p.id)).toEqual([ids[2], ids[1]]); // newest first
    expect(page1.has_more).toBe(true);
    const page2 = await stripe().paymentIntents.list({ customer: customer.id, limit: 2, starting_after: ids[1] });
    expect(page2.data.map((p) => p.id)).toEqual([ids[0]]);
    expect(page2.has_more).toBe(false);
    const all: string[] = [];
    for await (const p of stripe().paymentIntents.list({ customer: customer.id, limit: 1 })) all.push(p.id);
    expect(all).toEqual([...ids].reverse());
  });

  it('finds PaymentIntents by metadata with the search API', async () => {
    const a = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      metadata: { settle_txn: 'txn_A' },
    });
    await stripe().paymentIntents.create({ amount: 1000, currency: 'usd', metadata: { settle_txn: 'txn_B' } });
    const found = await stripe().paymentIntents.search({ query: "metadata['settle_txn']:'txn_A'" });
    expect(found).toMatchObject({ object: 'search_result', has_more: false, next_page: null });
    expect(found.data.map((p) => p.id)).toEqual([a.id]);
    const both = await stripe().paymentIntents.search({
      query: "status:'requires_payment_method' AND currency:'usd'",
      limit: 1,
    });
    expect(both.has_more).toBe(true);
    const next = await stripe().paymentIntents.search({
      query: "status:'requires_payment_method' AND currency:'usd'",
      limit: 1,
      page: both.next_page!,
    });
    expect(next.data).toHaveLength(1);
    expect(next.data[0]!.id).not.toBe(both.data[0]!.id);
    const none = await stripe().paymentIntents.search({ query: "metadata['settle_txn']:'nope'" });
    expect(none.data).toEqual([]);
  });

  it('attaches test payment methods to customers and resolves them to card objects', async () => {
    const customer = await stripe().customers.create({ name: 'Ada', metadata: { ours: '1' } });
    expect(customer).toMatchObject({ object: 'customer', name: 'Ada', metadata: { ours: '1' } });
    expect(await stripe().customers.retrieve(customer.id)).toMatchObject({ id: customer.id });
    const pm = await stripe().paymentMethods.attach('pm_card_visa', { customer: customer.id });
    expect(pm).toMatchObject({
      object: 'payment_method',
      type: 'card',
      customer: customer.id,
      card: { brand: 'visa', last4: '4242', exp_month: 12 },
    });
    expect(await stripe().paymentMethods.retrieve(pm.id)).toMatchObject({ id: pm.id, customer: customer.id });
    expect(await stripe().paymentMethods.retrieve('pm_card_visa_chargeDeclined')).toMatchObject({
      card: { last4: '0002' },
    });
    const pi = await stripe().paymentIntents.create({
      amount: 700,
      currency: 'usd',
      customer: customer.id,
      payment_method: pm.id,
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      off_session: true,
    });
    expect(pi).toMatchObject({ status: 'succeeded', customer: customer.id, payment_method: pm.id });
  });
});
