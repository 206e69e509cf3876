// Refunds create's Connect parameters reverse_transfer and refund_application_fee (RefundCreateParams in the SDK's
// Refunds.d.ts): booleans, taken on charges with something to act on (transfer_data, application_fee_amount). The
// emulator has no transfers or application fees, so a Refund's transfer_reversal stays null (README, Approximations).
import { describe, expect, it } from 'vitest';
import { failure, raw, useEmulator } from './helpers.js';

const { emulator, stripe } = useEmulator();

async function destinationCharge(): Promise<string> {
  const pi = await stripe().paymentIntents.create({
    amount: 2000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    allowed_payment_method_types: ['card'],
    transfer_data: { destination: 'acct_1Destination' },
    application_fee_amount: 200,
  });
  return pi.id;
}

async function plainCharge(): Promise<string> {
  const charge = await stripe().charges.create({ amount: 2000, currency: 'usd', source: 'tok_visa' });
  return charge.id;
}

describe('refunds.create reverse_transfer and refund_application_fee', () => {
  it('takes both on a destination charge with an application fee, partially and then in full', async () => {
    const pi = await destinationCharge();
    const part = await stripe().refunds.create({
      payment_intent: pi,
      amount: 500,
      reverse_transfer: true,
      refund_application_fee: true,
    });
    expect(part).toMatchObject({ amount: 500, status: 'succeeded', transfer_reversal: null });
    const rest = await stripe().refunds.create({
      payment_intent: pi,
      reverse_transfer: true,
      refund_application_fee: true,
    });
    expect(rest).toMatchObject({ amount: 1500, status: 'succeeded', transfer_reversal: null });
    const charge = (await stripe().charges.list({ payment_intent: pi })).data[0];
    expect(charge).toMatchObject({
      amount_refunded: 2000,
      refunded: true,
      transfer_data: { destination: 'acct_1Destination' },
      application_fee_amount: 200,
    });
  });

  it('takes both on a legacy charge made with transfer_data and application_fee_amount', async () => {
    const charge = await stripe().charges.create({
      amount: 2000,
      currency: 'usd',
      source: 'tok_visa',
      transfer_data: { destination: 'acct_1Destination', amount: 1500 },
      application_fee_amount: 100,
    });
    const refund = await stripe().refunds.create({
      charge: charge.id,
      reverse_transfer: true,
      refund_application_fee: true,
    });
    expect(refund).toMatchObject({ amount: 2000, transfer_reversal: null });
  });

  it('accepts false on any charge', async () => {
    const refund = await stripe().refunds.create({
      charge: await plainCharge(),
      amount: 700,
      reverse_transfer: false,
      refund_application_fee: false,
    });
    expect(refund).toMatchObject({ amount: 700, status: 'succeeded' });
  });

  it('refuses true where there is nothing to act on (400 on the parameter, no code), refunding nothing', async () => {
    const chargeId = await plainCharge();
    const reverse = await failure(stripe().refunds.create({ charge: chargeId, reverse_transfer: true }));
    expect(reverse).toMatchObject({
      statusCode: 400,
      type: 'StripeInvalidRequestError',
      param: 'reverse_transfer',
      code: undefined,
    });
    const fee = await failure(stripe().refunds.create({ charge: chargeId, refund_application_fee: true }));
    expect(fee).toMatchObject({ statusCode: 400, param: 'refund_application_fee', code: undefined });
    // A destination charge without an application fee has a transfer to reverse but no fee to refund.
    const pi = await stripe().paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      allowed_payment_method_types: ['card'],
      transfer_data: { destination: 'acct_1Destination' },
    });
    const noFee = await failure(
      stripe().refunds.create({ payment_intent: pi.id, reverse_transfer: true, refund_application_fee: true }),
    );
    expect(noFee).toMatchObject({ statusCode: 400, param: 'refund_application_fee' });
    expect((await stripe().refunds.list()).data).toHaveLength(0);
    expect(await stripe().charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 0, refunded: false });
    expect((await stripe().events.list({ type: 'refund.created' })).data).toHaveLength(0);
  });

  it('refuses a value that is not a boolean (parameter_invalid_string)', async () => {
    const chargeId = await plainCharge();
    const res = await raw(emulator(), 'POST', '/v1/refunds', `charge=${chargeId}&reverse_transfer=yes`);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'parameter_invalid_string', param: 'reverse_transfer' });
    expect((await stripe().refunds.list()).data).toHaveLength(0);
  });
});
