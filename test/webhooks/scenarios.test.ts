// Gateway-driven lifecycles (W3, P9, M1, M7) replayed from the events the emulator itself emitted: bank debits that
// settle or fail days later, disputes opened, won and lost, payouts paid and failed, a refund that fails after it
// succeeded, a card updated by the card updater. Events are handed to Settle in order, reversed and duplicated.
import { expect, it } from 'vitest';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { allEmulatorEvents, emulatorOf, type EventLike, storeStripeEvent, stripeFor } from './store-event.js';

const DAY = 24 * 3600 * 1000;

/** The events the emulator made since `mark` (ids seen before), oldest first. */
async function newEvents(h: Harness, mark: Set<string>): Promise<EventLike[]> {
  return (await allEmulatorEvents(h)).filter((e) => !mark.has(e.id));
}

const markNow = async (h: Harness) => new Set((await allEmulatorEvents(h)).map((e) => e.id));

/** Stores the events (in the given order) and applies them; every one must end processed. */
async function deliver(h: Harness, events: EventLike[]): Promise<void> {
  const ids: string[] = [];
  for (const event of events) ids.push(await storeStripeEvent(h, event));
  const summary = await processWebhookEvents(h.deps, { ids: [...new Set(ids)] });
  const rows = await h.deps.db
    .selectFrom('webhook_events')
    .select(['type', 'status', 'error', 'outcome'])
    .where('id', 'in', ids)
    .execute();
  expect(summary.failed, JSON.stringify(rows.filter((r) => r.status === 'failed'))).toBe(0);
  expect(
    rows.every((r) => r.status === 'processed' || r.status === 'not_supported'),
    JSON.stringify(rows),
  ).toBe(true);
}

async function paymentMethod(h: Harness, token: string, type: 'card' | 'us_bank_account' = 'card'): Promise<string> {
  const body =
    type === 'card'
      ? { gateway_token: token, type, exp_month: 12, exp_year: 2030 }
      : { gateway_token: token, type, status: 'verified' };
  const res = await h.request('POST', '/v1/payment-methods', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function charge(h: Harness, pm: string, amount: number, action: 'capture' | 'authorize' = 'capture') {
  const created = await h.request('POST', '/v1/transactions', { amount, currency: 'usd', payment_method_id: pm });
  const res = await h.request('POST', `/v1/transactions/${created.body.id}/${action}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const get = async (h: Harness, id: string) => (await h.request('GET', `/v1/transactions/${id}`)).body;

describeEachDatabase(
  "gateway-driven lifecycles from the emulator's events",
  (harness) => {
    it('P9: a bank debit waits in pending and settles 4 days later; another fails with its reason', async () => {
      const h = harness();
      const good = await charge(h, await paymentMethod(h, 'pm_usBankAccount', 'us_bank_account'), 10000);
      const bad = await charge(
        h,
        await paymentMethod(h, 'pm_usBankAccount_insufficientFunds', 'us_bank_account'),
        7000,
      );
      expect(good.status).toBe('pending');
      expect(bad.status).toBe('pending');
      const mark = await markNow(h);
      emulatorOf(h).controls.advanceClock(5 * DAY);
      await deliver(h, await newEvents(h, mark));
      expect(await get(h, good.id)).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        captured_amount: 10000,
        balance_status: expect.any(String),
      });
      expect((await get(h, good.id)).gateway_fee).toBeGreaterThan(0);
      expect(await get(h, bad.id)).toMatchObject({
        status: 'failed',
        error_code: 'insufficient_funds',
        captured_amount: 0,
      });
    });

    it('M7: a dispute withdraws the amount and a fee; won, the amount comes back; delivered reversed and twice, the same end', async () => {
      const h = harness();
      const paid = await charge(h, await paymentMethod(h, 'pm_card_createDispute'), 8000);
      const opened = await newEvents(h, new Set());
      const disputeEvents = opened.filter((e) => e.type.startsWith('charge.dispute.'));
      expect(disputeEvents.length).toBeGreaterThan(0);
      await deliver(h, [...disputeEvents].reverse());
      const during = await get(h, paid.id);
      expect(during).toMatchObject({
        status: 'completed',
        payment_status: 'disputed',
        disputed_amount: 8000,
        retained_amount: 0,
      });
      const disputes = await h.deps.db
        .selectFrom('disputes')
        .selectAll()
        .where('transaction_id', '=', paid.id)
        .execute();
      expect(disputes).toHaveLength(1);
      expect(disputes[0]).toMatchObject({
        status: 'needs_response',
        amount: 8000,
        amount_withdrawn: 8000,
        fee: 1500,
        reason: 'fraudulent',
      });
      const fees = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('record_type', '=', 'adjustment')
        .where('original_transaction_id', '=', paid.id)
        .execute();
      expect(fees.map((f) => [f.amount, f.status, f.payment_status])).toEqual([[-1500, 'completed', 'captured']]);
      const mark = await markNow(h);
      emulatorOf(h).controls.closeDispute(disputes[0]!.gateway_dispute, 'won');
      const closing = await newEvents(h, mark);
      await deliver(h, [...closing, ...closing].reverse());
      expect(await get(h, paid.id)).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        disputed_amount: 0,
        retained_amount: 8000,
      });
      expect(
        await h.deps.db
          .selectFrom('disputes')
          .selectAll()
          .where('transaction_id', '=', paid.id)
          .executeTakeFirstOrThrow(),
      ).toMatchObject({
        status: 'won',
        amount_reinstated: 8000,
      });
      // Everything again, in order: nothing changes.
      const before = await h.deps.db.selectFrom('transactions').selectAll().orderBy('id').execute();
      await deliver(h, [...opened, ...closing]);
      await h.deps.db.updateTable('webhook_events').set({ status: 'pending' }).execute();
      await processWebhookEvents(h.deps, { limit: 1000 });
      expect(await h.deps.db.selectFrom('transactions').selectAll().orderBy('id').execute()).toEqual(before);
    });

    it('M7: a lost dispute keeps the amount withdrawn: the charge ends refunded-like with nothing retained', async () => {
      const h = harness();
      const paid = await charge(h, await paymentMethod(h, 'pm_card_createDispute'), 5000);
      const disputeId = (await stripeFor(h).disputes.list({ payment_intent: paid.gateway_ref.payment_intent })).data[0]!
        .id;
      emulatorOf(h).controls.closeDispute(disputeId, 'lost');
      await deliver(
        h,
        (await newEvents(h, new Set())).filter((e) => e.type.startsWith('charge.dispute.')),
      );
      expect(await get(h, paid.id)).toMatchObject({
        status: 'completed',
        payment_status: 'refunded',
        disputed_amount: 5000,
        retained_amount: 0,
      });
    });

    it('W3/P5: a refund that fails after it succeeded gives its amount back to the charge', async () => {
      const h = harness();
      const paid = await charge(h, await paymentMethod(h, 'pm_card_refundFail'), 6000);
      const refund = await h.request('POST', `/v1/transactions/${paid.id}/refund`, { amount: 2000 });
      expect(refund.body).toMatchObject({ status: 'completed', payment_status: 'refunded' });
      const mark = await markNow(h);
      emulatorOf(h).controls.advanceClock(2 * DAY);
      const later = await newEvents(h, mark);
      expect(later.map((e) => e.type)).toContain('refund.failed');
      await deliver(h, later);
      expect(await get(h, refund.body.id)).toMatchObject({ status: 'failed', error_code: 'expired_or_canceled_card' });
      expect(await get(h, paid.id)).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        refunded_amount: 0,
        retained_amount: 6000,
      });
    });

    it('M1: automatic payouts of the available balance become payout transactions: in transit, then paid; a failed one ends failed', async () => {
      const h = harness();
      const stripe = stripeFor(h);
      const pm = await paymentMethod(h, 'pm_card_visa');
      await charge(h, pm, 20000);
      const mark = await markNow(h);
      emulatorOf(h).controls.advanceClock(3 * DAY);
      emulatorOf(h).controls.runPayouts();
      await deliver(h, await newEvents(h, mark));
      const atGateway = await stripe.payouts.list({ limit: 100 });
      expect(atGateway.data.length).toBeGreaterThan(0);
      const payoutRows = () =>
        h.deps.db.selectFrom('transactions').selectAll().where('record_type', '=', 'payout').execute();
      const byPayout = new Map((await payoutRows()).map((r) => [r.gateway_payout, r]));
      for (const payout of atGateway.data) {
        expect(byPayout.get(payout.id), payout.id).toMatchObject({
          amount: payout.amount,
          currency: payout.currency.toUpperCase(),
          source: 'webhook',
        });
        expect(byPayout.get(payout.id)?.payment_status).toBe(payout.status === 'paid' ? 'paid' : 'in_transit');
      }
      const mark2 = await markNow(h);
      emulatorOf(h).controls.advanceClock(3 * DAY);
      await deliver(h, await newEvents(h, mark2));
      for (const payout of atGateway.data)
        expect((await get(h, byPayout.get(payout.id)!.id)).payment_status).toBe('paid');
      // The next payout fails; its events arrive in reverse.
      await charge(h, pm, 3000);
      emulatorOf(h).controls.failNextPayout();
      const mark3 = await markNow(h);
      emulatorOf(h).controls.advanceClock(3 * DAY);
      emulatorOf(h).controls.runPayouts();
      emulatorOf(h).controls.advanceClock(3 * DAY);
      await deliver(h, (await newEvents(h, mark3)).reverse());
      const failed = (await payoutRows()).filter((r) => r.status === 'failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]?.error_code).toBeTruthy();
      expect((await stripe.payouts.retrieve(failed[0]!.gateway_payout!)).status).toBe('failed');
    });

    it('P1/W3: an authorization left to expire ends uncaptured (automatic); the release Stripe books as a refund is not one', async () => {
      const h = harness();
      const held = await charge(h, await paymentMethod(h, 'pm_card_visa'), 4500, 'authorize');
      expect(held.payment_status).toBe('authorized');
      const mark = await markNow(h);
      emulatorOf(h).controls.advanceClock(8 * DAY);
      const events = await newEvents(h, mark);
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['charge.expired', 'payment_intent.canceled']));
      await deliver(h, [...events].reverse());
      expect(await get(h, held.id)).toMatchObject({
        status: 'completed',
        payment_status: 'uncaptured',
        uncaptured_method: 'automatic',
        refunded_amount: 0,
      });
      const refunds = await h.deps.db
        .selectFrom('transactions')
        .select('id')
        .where('original_transaction_id', '=', held.id)
        .execute();
      expect(refunds).toHaveLength(0);
    });

    it('P9: a payment waiting for the customer to authenticate that is canceled at the gateway ends canceled', async () => {
      const h = harness();
      const waiting = await charge(h, await paymentMethod(h, 'pm_card_authenticationRequired'), 2500, 'authorize');
      expect(waiting.status).toBe('pending_payment_intent');
      const mark = await markNow(h);
      await stripeFor(h).paymentIntents.cancel(waiting.gateway_ref.payment_intent);
      await deliver(h, await newEvents(h, mark));
      expect(await get(h, waiting.id)).toMatchObject({ status: 'canceled' });
    });

    it("W3: the card updater changes a saved card; Settle's payment method follows", async () => {
      const h = harness();
      const paid = await charge(h, await paymentMethod(h, 'pm_card_visa'), 1000);
      const pmAtGateway = (await stripeFor(h).paymentIntents.retrieve(paid.gateway_ref.payment_intent))
        .payment_method as string;
      const mine = await paymentMethod(h, pmAtGateway);
      const mark = await markNow(h);
      emulatorOf(h).controls.updatePaymentMethod(pmAtGateway, { exp_month: 3, exp_year: 2033 });
      await deliver(h, await newEvents(h, mark));
      expect((await h.request('GET', `/v1/payment-methods/${mine}`)).body).toMatchObject({
        exp_month: 3,
        exp_year: 2033,
      });
    });
  },
  { emulator: true },
);
