// The legacy Charges API through the official SDK: charges.create and charges.capture (ChargeCreateParams,
// ChargeCaptureParams in the SDK's Charges.d.ts), their events, balance transactions, declines and refusals. Figures
// are literals: fees 2.9% + 30 (stripe.com/pricing), declines of docs.stripe.com/testing with the advice codes and
// messages aat-stripe observed, refusals as recorded against Stripe by the stripe-stateful-mock parity tests
// (pushplay/stripe-stateful-mock test/charges.ts).
import { describe, expect, it } from 'vitest';
import { DAY, failure, useEmulator } from './helpers.js';

const { emulator, stripe } = useEmulator();

async function eventTypes(): Promise<string[]> {
  return (await stripe().events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('charges.create', () => {
  it('charges a test token and captures by default: a card_ source, no PaymentIntent, fee 88 on 2000', async () => {
    const charge = await stripe().charges.create({
      amount: 2000,
      currency: 'usd',
      source: 'tok_visa',
      description: 'Order 42',
      metadata: { order: '42' },
      receipt_email: 'jenny@example.com',
      expand: ['balance_transaction'],
    });
    expect(charge).toMatchObject({
      object: 'charge',
      amount: 2000,
      amount_captured: 2000,
      captured: true,
      paid: true,
      status: 'succeeded',
      payment_intent: null,
      description: 'Order 42',
      metadata: { order: '42' },
      receipt_email: 'jenny@example.com',
      outcome: { network_status: 'approved_by_network', type: 'authorized' },
      payment_method_details: { type: 'card', card: { brand: 'visa', last4: '4242' } },
      source: { object: 'card', brand: 'Visa', last4: '4242', funding: 'credit', country: 'US' },
      // 2000 * 2.9% = 58, + 30 = 88 (stripe.com/pricing)
      balance_transaction: { amount: 2000, fee: 88, net: 1912, type: 'charge', source: charge.id },
    });
    expect(charge.payment_method).toMatch(/^card_/);
    expect((charge.source as { id: string }).id).toBe(charge.payment_method);
    // The PaymentMethods API reads card_ ids (the card is a payment method of type card).
    const pm = await stripe().paymentMethods.retrieve(charge.payment_method!);
    expect(pm).toMatchObject({ id: charge.payment_method, type: 'card', card: { last4: '4242' } });
    expect(await eventTypes()).toEqual(['charge.succeeded']);
    expect((await stripe().charges.list()).data.map((c) => c.id)).toEqual([charge.id]);
  });

  it('uses statement_descriptor as the suffix of a card charge when no suffix is given (ChargeCreateParams)', async () => {
    const a = await stripe().charges.create({
      amount: 2000,
      currency: 'usd',
      source: 'tok_mastercard',
      statement_descriptor: 'ORDER 42',
    });
    expect(a).toMatchObject({ calculated_statement_descriptor: 'SETTLE* ORDER 42', statement_descriptor: 'ORDER 42' });
    expect(a.source).toMatchObject({ brand: 'MasterCard', last4: '4444' });
    const b = await stripe().charges.create({
      amount: 2000,
      currency: 'usd',
      source: 'tok_visa',
      statement_descriptor: 'IGNORED',
      statement_descriptor_suffix: 'SUFFIX',
    });
    expect(b).toMatchObject({
      calculated_statement_descriptor: 'SETTLE* SUFFIX',
      statement_descriptor_suffix: 'SUFFIX',
    });
  });

  it('stores and echoes the Connect parameters and shipping', async () => {
    const charge = await stripe().charges.create({
      amount: 2000,
      currency: 'usd',
      source: 'tok_visa',
      transfer_data: { destination: 'acct_1Destination', amount: 1500 },
      application_fee_amount: 200,
      on_behalf_of: 'acct_1Destination',
      shipping: { name: 'Jenny Rosen', address: { line1: '1 Main St', city: 'Springfield', country: 'US' } },
    });
    expect(charge).toMatchObject({
      transfer_data: { destination: 'acct_1Destination', amount: 1500 },
      application_fee_amount: 200,
      on_behalf_of: 'acct_1Destination',
      shipping: { name: 'Jenny Rosen', address: { line1: '1 Main St', city: 'Springfield', country: 'US' } },
    });
  });

  it('charges a customer: its default payment method, or one of its own; nothing to charge is a 402', async () => {
    const customer = await stripe().customers.create({ email: 'jenny@example.com' });
    const none = await failure(stripe().charges.create({ amount: 2000, currency: 'usd', customer: customer.id }));
    // stripe-stateful-mock's record of Stripe's answer: card_error, code missing, param card.
    expect(none).toMatchObject({ statusCode: 402, type: 'StripeCardError', code: 'missing', param: 'card' });
    expect(none.message).toBe('Cannot charge a customer that has no active card');
    const pm = await stripe().paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe().customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    const byDefault = await stripe().charges.create({ amount: 2000, currency: 'usd', customer: customer.id });
    expect(byDefault).toMatchObject({ customer: customer.id, payment_method: pm.id, status: 'succeeded' });
    expect(byDefault.source).toMatchObject({ id: pm.id, object: 'card', customer: customer.id });
    const named = await stripe().charges.create({
      amount: 2000,
      currency: 'usd',
      customer: customer.id,
      source: pm.id,
    });
    expect(named).toMatchObject({ customer: customer.id, payment_method: pm.id });
    // A token is not one of the customer's sources.
    const token = await failure(
      stripe().charges.create({ amount: 2000, currency: 'usd', customer: customer.id, source: 'tok_visa' }),
    );
    expect(token).toMatchObject({ statusCode: 400, param: 'source' });
    expect(token.message).toBe(`Customer ${customer.id} does not have a linked source with ID tok_visa.`);
  });

  it('refuses bad input with Stripe-shaped errors and creates nothing', async () => {
    const missing = await failure(stripe().charges.create({ amount: 2000, currency: 'usd' }));
    expect(missing).toMatchObject({
      statusCode: 400,
      code: 'parameter_missing',
      message: 'Must provide source or customer.',
    });
    const unknown = await failure(stripe().charges.create({ amount: 2000, currency: 'usd', source: 'tok_nonsense' }));
    expect(unknown).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'source' });
    const small = await failure(stripe().charges.create({ amount: 49, currency: 'usd', source: 'tok_visa' }));
    expect(small).toMatchObject({ statusCode: 400, code: 'amount_too_small', param: 'amount' });
    const noAmount = await failure(stripe().charges.create({ currency: 'usd', source: 'tok_visa' }));
    expect(noAmount).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'amount' });
    const param = await failure(
      stripe().charges.create({ amount: 2000, currency: 'usd', source: 'tok_visa', transfer_group: 'g1' }),
    );
    expect(param).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'transfer_group' });
    const fee = await failure(
      stripe().charges.create({ amount: 2000, currency: 'usd', source: 'tok_visa', application_fee_amount: 2001 }),
    );
    expect(fee).toMatchObject({ statusCode: 400, param: 'application_fee_amount' });
    const customer = await failure(stripe().charges.create({ amount: 2000, currency: 'usd', customer: 'cus_nope' }));
    expect(customer).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'customer' });
    const bank = await failure(stripe().charges.create({ amount: 2000, currency: 'usd', source: 'tok_usBankAccount' }));
    expect(bank).toMatchObject({ statusCode: 404, param: 'source' });
    expect((await stripe().charges.list()).data).toHaveLength(0);
    expect(await eventTypes()).toEqual([]);
  });
});

describe('charges.create declines', () => {
  it('answers 402 card_error with the charge, no PaymentIntent, and records a failed charge (charge.failed)', async () => {
    const err = await failure(
      stripe().charges.create({ amount: 5000, currency: 'usd', source: 'tok_chargeDeclinedInsufficientFunds' }),
    );
    expect(err).toMatchObject({
      statusCode: 402,
      type: 'StripeCardError',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
    });
    expect(err.raw.advice_code).toBe('try_again_later');
    expect(err.raw.payment_intent).toBeUndefined();
    expect(err.raw.payment_method).toBeUndefined();
    const charge = await stripe().charges.retrieve(err.raw.charge);
    expect(charge).toMatchObject({
      status: 'failed',
      paid: false,
      captured: false,
      payment_intent: null,
      balance_transaction: null,
      failure_code: 'card_declined',
      failure_message: 'Your card has insufficient funds.',
      outcome: { network_status: 'declined_by_network', reason: 'insufficient_funds', type: 'issuer_declined' },
    });
    expect(await eventTypes()).toEqual(['charge.failed']);
  });

  it.each([
    [
      'tok_chargeDeclinedExpiredCard',
      'expired_card',
      'expired_card',
      'confirm_card_data',
      'exp_month',
      'Your card has expired.',
    ],
    [
      'tok_chargeDeclinedIncorrectCvc',
      'incorrect_cvc',
      'incorrect_cvc',
      'confirm_card_data',
      'cvc',
      "Your card's security code is incorrect.",
    ],
    [
      'tok_visa_chargeDeclinedLostCard',
      'card_declined',
      'lost_card',
      'do_not_try_again',
      undefined,
      'Your card was declined.',
    ],
  ])('%s: code %s, decline_code %s, advice %s', async (source, code, declineCode, advice, param, message) => {
    const err = await failure(stripe().charges.create({ amount: 5000, currency: 'usd', source }));
    expect(err).toMatchObject({ statusCode: 402, code, decline_code: declineCode, message, param });
    expect(err.raw.advice_code).toBe(advice);
  });

  it('replays a decline under the same idempotency key without a second charge', async () => {
    const params = { amount: 5000, currency: 'usd', source: 'tok_chargeDeclined' };
    const first = await failure(stripe().charges.create(params, { idempotencyKey: 'legacy-decline-1' }));
    const again = await failure(stripe().charges.create(params, { idempotencyKey: 'legacy-decline-1' }));
    expect(again.raw.charge).toBe(first.raw.charge);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((await stripe().charges.list()).data).toHaveLength(1);
  });

  it('declines a card that needs 3-D Secure: the Charges API cannot authenticate', async () => {
    const err = await failure(
      stripe().charges.create({ amount: 5000, currency: 'usd', source: 'tok_authenticationRequired' }),
    );
    expect(err).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'authentication_required' });
  });

  it('blocks a Radar-blocked card (outcome blocked, not sent to the network)', async () => {
    const err = await failure(stripe().charges.create({ amount: 5000, currency: 'usd', source: 'tok_radarBlock' }));
    expect(err).toMatchObject({ code: 'card_declined', decline_code: 'fraudulent' });
    const charge = await stripe().charges.retrieve(err.raw.charge);
    expect(charge.outcome).toMatchObject({ network_status: 'not_sent_to_network', type: 'blocked' });
  });
});

describe('charges.capture', () => {
  it('authorizes with capture=false, then captures in full (charge.captured)', async () => {
    const auth = await stripe().charges.create({ amount: 7200, currency: 'usd', source: 'tok_visa', capture: false });
    expect(auth).toMatchObject({ captured: false, amount_captured: 0, status: 'succeeded', balance_transaction: null });
    // capture_before: created + 7 days (Charges.d.ts; "Uncaptured charges expire after ... 7 by default").
    expect(auth.payment_method_details?.card?.capture_before).toBe(auth.created + 604800);
    const captured = await stripe().charges.capture(auth.id, { receipt_email: 'jenny@example.com' });
    expect(captured).toMatchObject({
      captured: true,
      amount_captured: 7200,
      amount_refunded: 0,
      receipt_email: 'jenny@example.com',
    });
    // 7200 * 2.9% = 208.8 -> 209, + 30 = 239
    const bt = await stripe().balanceTransactions.retrieve(captured.balance_transaction as string);
    expect(bt).toMatchObject({ amount: 7200, fee: 239, net: 6961 });
    expect(await eventTypes()).toEqual(['charge.succeeded', 'charge.captured']);
  });

  it('captures part: the rest is released as a Refund with a partial_capture_reversal balance transaction', async () => {
    const auth = await stripe().charges.create({ amount: 7200, currency: 'usd', source: 'tok_visa', capture: false });
    const captured = await stripe().charges.capture(auth.id, { amount: 3200, application_fee_amount: 100 });
    expect(captured).toMatchObject({
      captured: true,
      amount: 7200,
      amount_captured: 3200,
      amount_refunded: 4000,
      refunded: false,
      application_fee_amount: 100,
    });
    const [release] = (await stripe().refunds.list({ charge: auth.id, expand: ['data.balance_transaction'] })).data;
    expect(release).toMatchObject({
      amount: 4000,
      reason: null,
      payment_intent: null,
      balance_transaction: { amount: -4000, reporting_category: 'partial_capture_reversal' },
    });
    // 3200 * 2.9% = 92.8 -> 93, + 30 = 123: the fee is on what was captured.
    const bt = await stripe().balanceTransactions.retrieve(captured.balance_transaction as string);
    expect(bt).toMatchObject({ amount: 7200, fee: 123 });
    expect(await eventTypes()).toEqual(['charge.succeeded', 'charge.captured', 'refund.created', 'charge.refunded']);
  });

  it('refuses a second capture with charge_already_captured and no param (stripe-stateful-mock parity)', async () => {
    const auth = await stripe().charges.create({ amount: 7200, currency: 'usd', source: 'tok_visa', capture: false });
    await stripe().charges.capture(auth.id, { amount: 3200 });
    const err = await failure(stripe().charges.capture(auth.id, { amount: 3200 }));
    expect(err).toMatchObject({ statusCode: 400, code: 'charge_already_captured', param: undefined });
    expect(err.message).toBe(`Charge ${auth.id} has already been captured.`);
    const captured = await failure(
      stripe().charges.capture(
        (await stripe().charges.create({ amount: 2000, currency: 'usd', source: 'tok_visa' })).id,
      ),
    );
    expect(captured).toMatchObject({ statusCode: 400, code: 'charge_already_captured' });
  });

  it('lets one of two concurrent captures win; the other is charge_already_captured', async () => {
    const auth = await stripe().charges.create({ amount: 7200, currency: 'usd', source: 'tok_visa', capture: false });
    const results = await Promise.allSettled([stripe().charges.capture(auth.id), stripe().charges.capture(auth.id)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const [rejected] = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ code: 'charge_already_captured' });
    const bts = await stripe().balanceTransactions.list({ source: auth.id });
    expect(bts.data).toHaveLength(1);
  });

  it('refuses bad amounts and changes nothing', async () => {
    const auth = await stripe().charges.create({ amount: 7200, currency: 'usd', source: 'tok_visa', capture: false });
    const over = await failure(stripe().charges.capture(auth.id, { amount: 7201 }));
    expect(over).toMatchObject({ statusCode: 400, param: 'amount' });
    const small = await failure(stripe().charges.capture(auth.id, { amount: 12 }));
    expect(small).toMatchObject({ statusCode: 400, code: 'amount_too_small' });
    const zero = await failure(stripe().charges.capture(auth.id, { amount: 0 }));
    expect(zero).toMatchObject({ statusCode: 400, code: 'parameter_invalid_integer', param: 'amount' });
    const missing = await failure(stripe().charges.capture('ch_nope'));
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect(await stripe().charges.retrieve(auth.id)).toMatchObject({ captured: false, amount_captured: 0 });
    expect(await eventTypes()).toEqual(['charge.succeeded']);
  });

  it('refuses to capture after capture_before with charge_expired_for_capture (docs.stripe.com/error-codes)', async () => {
    const auth = await stripe().charges.create({ amount: 7200, currency: 'usd', source: 'tok_visa', capture: false });
    emulator().controls.advanceClock(7 * DAY);
    const err = await failure(stripe().charges.capture(auth.id));
    expect(err).toMatchObject({ statusCode: 400, code: 'charge_expired_for_capture' });
  });

  it("refuses a PaymentIntent's charge and a failed charge", async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      capture_method: 'manual',
      allowed_payment_method_types: ['card'],
    });
    const viaPi = await failure(stripe().charges.capture(pi.latest_charge as string));
    expect(viaPi).toMatchObject({ statusCode: 400 });
    const declined = await failure(
      stripe().charges.create({ amount: 5000, currency: 'usd', source: 'tok_chargeDeclined' }),
    );
    const failed = await failure(stripe().charges.capture(declined.raw.charge));
    expect(failed).toMatchObject({ statusCode: 400 });
  });

  it('opens the scripted dispute of tok_createDispute on capture', async () => {
    const charge = await stripe().charges.create({ amount: 2000, currency: 'usd', source: 'tok_createDispute' });
    const disputes = await stripe().disputes.list({ charge: charge.id });
    expect(disputes.data).toHaveLength(1);
    expect(disputes.data[0]).toMatchObject({ amount: 2000, reason: 'fraudulent', payment_intent: null });
  });
});

describe('refunds of legacy charges', () => {
  it('releases an uncaptured charge by refunding it whole: no balance transaction, then it cannot be captured', async () => {
    const auth = await stripe().charges.create({ amount: 7200, currency: 'usd', source: 'tok_visa', capture: false });
    // stripe-stateful-mock parity ("can't partially void"): 400 on amount, no code.
    const partial = await failure(stripe().refunds.create({ charge: auth.id, amount: 1200 }));
    expect(partial).toMatchObject({ statusCode: 400, param: 'amount', code: undefined });
    expect(partial.message).toBe(
      'You cannot partially refund an uncaptured charge. Instead, capture the charge for an amount less than the original amount',
    );
    const release = await stripe().refunds.create({ charge: auth.id });
    expect(release).toMatchObject({
      amount: 7200,
      balance_transaction: null,
      payment_intent: null,
      status: 'succeeded',
    });
    expect(await stripe().charges.retrieve(auth.id)).toMatchObject({
      refunded: true,
      amount_refunded: 7200,
      captured: false,
    });
    const err = await failure(stripe().charges.capture(auth.id));
    expect(err).toMatchObject({ statusCode: 400, code: 'charge_already_refunded' });
  });

  it('fails a refund of a tok_refundFail charge a day later, as for pm_card_refundFail (docs.stripe.com/testing)', async () => {
    const charge = await stripe().charges.create({ amount: 4300, currency: 'usd', source: 'tok_refundFail' });
    const refund = await stripe().refunds.create({ charge: charge.id });
    expect(refund.status).toBe('succeeded');
    emulator().controls.advanceClock(DAY);
    expect(await stripe().refunds.retrieve(refund.id)).toMatchObject({
      status: 'failed',
      failure_reason: 'expired_or_canceled_card',
    });
  });

  it('refunds a captured legacy charge like any other (refund balance transaction)', async () => {
    const charge = await stripe().charges.create({ amount: 4300, currency: 'usd', source: 'tok_visa' });
    const refund = await stripe().refunds.create({ charge: charge.id, amount: 1200, expand: ['balance_transaction'] });
    expect(refund).toMatchObject({
      amount: 1200,
      balance_transaction: { amount: -1200, reporting_category: 'refund' },
    });
  });
});
