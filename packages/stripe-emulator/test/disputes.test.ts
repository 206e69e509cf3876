import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { failure, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

async function disputed(
  amount = 5000,
  extra: Partial<Stripe.PaymentIntentCreateParams> = {},
): Promise<{ pi: Stripe.PaymentIntent; dispute: Stripe.Dispute }> {
  const pi = await stripe().paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: 'pm_card_createDispute',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    capture_method: 'automatic',
    ...extra,
  });
  const [dispute] = (await stripe().disputes.list({ payment_intent: pi.id })).data;
  return { pi, dispute: dispute! };
}

describe('disputes (pm_card_createDispute)', () => {
  it('opens at once on capture: needs_response, funds and a 15.00 fee withdrawn, the charge disputed', async () => {
    const { pi, dispute } = await disputed();
    expect(dispute).toMatchObject({
      object: 'dispute',
      amount: 5000,
      currency: 'usd',
      charge: pi.latest_charge,
      payment_intent: pi.id,
      reason: 'fraudulent',
      status: 'needs_response',
      is_charge_refundable: false,
      livemode: false,
      metadata: {},
      evidence_details: {
        due_by: dispute.created + 7 * 24 * 3600,
        has_evidence: false,
        past_due: false,
        submission_count: 0,
      },
    });
    expect(dispute.id).toMatch(/^dp_/);
    expect(dispute.balance_transactions).toMatchObject([
      {
        object: 'balance_transaction',
        type: 'adjustment',
        reporting_category: 'dispute',
        amount: -5000,
        fee: 1500,
        net: -6500,
        source: dispute.id,
        status: 'available',
      },
    ]);
    expect(await stripe().charges.retrieve(pi.latest_charge as string)).toMatchObject({ disputed: true });
    const types = (await stripe().events.list()).data.map((e) => e.type).reverse();
    expect(types.slice(-3)).toEqual(['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.updated']);
    expect(await stripe().disputes.retrieve(dispute.id)).toMatchObject({ id: dispute.id });
    expect((await stripe().disputes.list({ charge: pi.latest_charge as string })).data).toHaveLength(1);
    expect((await stripe().disputes.list({ charge: 'ch_other' })).data).toHaveLength(0);
  });

  it('opens only when a manual authorization is captured', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 3000,
      currency: 'usd',
      payment_method: 'pm_card_createDispute',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'manual',
    });
    expect((await stripe().disputes.list()).data).toHaveLength(0);
    await stripe().paymentIntents.capture(pi.id, { amount_to_capture: 2000 });
    expect((await stripe().disputes.list()).data).toMatchObject([{ amount: 2000, payment_intent: pi.id }]);
  });

  it('a disputed charge cannot be refunded', async () => {
    const { pi } = await disputed();
    expect(await failure(stripe().refunds.create({ payment_intent: pi.id }))).toMatchObject({
      statusCode: 400,
      code: 'charge_disputed',
    });
    expect(() => emulator().controls.dashboardRefund({ payment_intent: pi.id })).toThrow();
  });

  it('evidence, submission (under_review) and a win that returns the amount but not the fee', async () => {
    const { dispute } = await disputed(4000);
    const updated = await stripe().disputes.update(dispute.id, {
      evidence: { customer_name: 'Ada', uncategorized_text: 'signed' },
      metadata: { case: '7' },
    });
    expect(updated).toMatchObject({
      status: 'needs_response',
      evidence: { customer_name: 'Ada' },
      evidence_details: { has_evidence: true, submission_count: 0 },
      metadata: { case: '7' },
    });
    const submitted = await stripe().disputes.update(dispute.id, { submit: true });
    expect(submitted).toMatchObject({ status: 'under_review', evidence_details: { submission_count: 1 } });
    const upd = (await stripe().events.list({ type: 'charge.dispute.updated' })).data;
    expect(upd).toHaveLength(2);
    expect(upd[0]!.data.previous_attributes).toMatchObject({ status: 'needs_response' });
    expect(await failure(stripe().disputes.update(dispute.id, { evidence: { customer_name: 'X' } }))).toMatchObject({
      statusCode: 400,
    });

    const won = emulator().controls.closeDispute(dispute.id, 'won');
    expect(won).toMatchObject({ status: 'won' });
    const after = await stripe().disputes.retrieve(dispute.id);
    expect(after.balance_transactions.map((b) => [b.reporting_category, b.amount, b.fee, b.net])).toEqual([
      ['dispute', -4000, 1500, -5500],
      ['dispute_reversal', 4000, 0, 4000],
    ]);
    const closing = (await stripe().events.list({ limit: 2 })).data.map((e) => [e.type, e.request?.id]);
    expect(closing).toEqual([
      ['charge.dispute.closed', null],
      ['charge.dispute.funds_reinstated', null],
    ]);
    expect(() => emulator().controls.closeDispute(dispute.id, 'lost')).toThrow(/cannot be closed/);
  });

  it('accepting via the API loses it; the control and its HTTP form can lose it too', async () => {
    const { dispute } = await disputed();
    const closed = await stripe().disputes.close(dispute.id);
    expect(closed.status).toBe('lost');
    expect((await stripe().events.list({ limit: 1 })).data[0]).toMatchObject({
      type: 'charge.dispute.closed',
      request: { id: expect.stringMatching(/^req_/) },
    });
    expect(await failure(stripe().disputes.close(dispute.id))).toMatchObject({ statusCode: 400 });

    const second = await disputed(1000);
    const res = await fetch(`${emulator().url}/_emulator/disputes/${second.dispute.id}/close`, {
      method: 'POST',
      body: JSON.stringify({ outcome: 'lost' }),
    });
    expect(await res.json()).toMatchObject({ status: 'lost' });
    expect((await stripe().balanceTransactions.list({ source: second.dispute.id })).data).toHaveLength(1); // no reinstatement
    expect(await failure(stripe().disputes.retrieve('dp_missing'))).toMatchObject({ statusCode: 404 });
  });
});
