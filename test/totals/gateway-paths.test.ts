// Totals (issue 19, R2) moved by the gateway's paths, end to end against the emulator on each database: webhook
// events the emulator itself emitted (a refund made in the dashboard, a capture made at the gateway, disputes won and
// lost, a bank debit that settles and one that fails, an authorization left to expire, a refund that fails after it
// succeeded), the daily_charges job and a reattempt, and the recovery of a charge left in process. Each test has
// owners of its own and asserts each one's entries exactly, then that the auditor's recomputation finds nothing.
import { expect, it } from 'vitest';
import { recoverInFlight } from '../../src/app/processing/recover.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { emulatorOf, stripeFor } from '../webhooks/store-event.js';
import {
  act,
  createFor,
  DAY,
  deliverSince,
  expectStatus,
  expectTotals,
  gatewayCharge,
  getTrx,
  markEvents,
  newOwners,
  type Owners,
  paymentMethod,
  processedAt,
  TODAY,
} from './support.js';

/** A charge captured through the API for the owners, with what the totals then hold. */
async function captured(h: Harness, o: Owners, amount: number, token = 'pm_card_visa') {
  const open = await gatewayCharge(h, o, amount, token);
  const paid = await act(h, open.id, 'capture');
  expect(paid).toMatchObject({ status: 'completed', payment_status: 'captured', captured_amount: amount });
  return {
    paid,
    entry: {
      captured_amount: amount,
      retained_amount: amount,
      gateway_fee: paid.gateway_fee as number,
      net_amount: paid.net_amount as number,
      count_completed: 1,
      last_payment_at: await processedAt(h, open.id),
    },
  };
}

const cardFee = (amount: number) => 30 + Math.round((amount * 29) / 1000);

describeEachDatabase(
  "totals through the gateway's paths",
  (get) => {
    it('webhook: a refund made in the dashboard moves refunded, retained and net once, however often delivered', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const { paid, entry } = await captured(h, o, 5000);
      expect(entry).toMatchObject({ gateway_fee: cardFee(5000), net_amount: 5000 - cardFee(5000) });
      await expectTotals(h, o, { USD: entry });
      const mark = await markEvents(h);
      emulatorOf(h).controls.dashboardRefund({ payment_intent: paid.gateway_ref.payment_intent, amount: 1000 });
      await deliverSince(h, mark);
      await deliverSince(h, mark);
      const after = { ...entry, refunded_amount: 1000, retained_amount: 4000, net_amount: entry.net_amount - 1000 };
      await expectTotals(h, o, { USD: after });
      const refunds = await h.request('GET', `/v1/transactions?original_transaction_id=${paid.id}`);
      expect(refunds.body.data.map((r: any) => [r.amount, r.parent_id, r.source])).toEqual([
        [-1000, o.parent_id, 'webhook'],
      ]);
    });

    it('webhook: an authorization captured at the gateway moves authorized to captured', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const open = await gatewayCharge(h, o, 4000);
      const held = await act(h, open.id, 'authorize');
      await expectTotals(h, o, { USD: { authorized_amount: 4000, count_completed: 1 } });
      const mark = await markEvents(h);
      await stripeFor(h).paymentIntents.capture(held.gateway_ref.payment_intent);
      await deliverSince(h, mark);
      const now = await getTrx(h, open.id);
      expect(now).toMatchObject({ payment_status: 'captured', gateway_fee: cardFee(4000) });
      await expectTotals(h, o, {
        USD: {
          captured_amount: 4000,
          retained_amount: 4000,
          gateway_fee: cardFee(4000),
          net_amount: 4000 - cardFee(4000),
          count_completed: 1,
          last_payment_at: await processedAt(h, open.id),
        },
      });
    });

    it('webhook: a dispute opened takes the amount (disputed_amount, retained_amount, net); won, it comes back', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const mark = await markEvents(h);
      const { paid, entry } = await captured(h, o, 8000, 'pm_card_createDispute');
      await expectTotals(h, o, { USD: entry });
      await deliverSince(h, mark, (events) => [...events].reverse());
      const during = await getTrx(h, paid.id);
      expect(during).toMatchObject({ payment_status: 'disputed', disputed_amount: 8000, net_gateway_fee: 262 });
      // Net: the charge's 7738, less the dispute's balance transaction (the 8000 withdrawn and the 1500 fee).
      expect(during.retained_net_amount).toBe(7738 - 8000 - 1500);
      await expectTotals(h, o, {
        USD: {
          ...entry,
          disputed_amount: 8000,
          retained_amount: 0,
          // The dispute's 1500 fee (its adjustment) counts in gateway_fee as well as in the net.
          gateway_fee: entry.gateway_fee + 1500,
          net_amount: during.retained_net_amount,
        },
      });
      // The dispute fee's adjustment belongs to the charge's owners, parent included.
      const fees = await h.deps.db
        .selectFrom('transactions')
        .select(['account_id', 'contact_id', 'parent_id', 'invoice_id', 'amount'])
        .where('record_type', '=', 'adjustment')
        .where('original_transaction_id', '=', paid.id)
        .execute();
      expect(fees).toEqual([
        {
          account_id: o.account_id,
          contact_id: o.contact_id,
          parent_id: o.parent_id,
          invoice_id: o.invoice_id,
          amount: -1500,
        },
      ]);
      const dispute = await h.deps.db
        .selectFrom('disputes')
        .select('gateway_dispute')
        .where('transaction_id', '=', paid.id)
        .executeTakeFirstOrThrow();
      const closing = await markEvents(h);
      emulatorOf(h).controls.closeDispute(dispute.gateway_dispute, 'won');
      await deliverSince(h, closing);
      const won = await getTrx(h, paid.id);
      expect(won).toMatchObject({ payment_status: 'captured', disputed_amount: 0, retained_amount: 8000 });
      // The emulator keeps the 1500 dispute fee on a won dispute: it stays in the net and in gateway_fee (the fee
      // adjustment's, beside the charge's own net_gateway_fee).
      expect(won.retained_net_amount).toBe(8000 - 262 - 1500);
      await expectTotals(h, o, {
        USD: { ...entry, gateway_fee: entry.gateway_fee + 1500, net_amount: won.retained_net_amount },
      });
    });

    it('webhook: a dispute lost keeps the amount withdrawn: nothing retained, nothing refunded', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const mark = await markEvents(h);
      const { paid, entry } = await captured(h, o, 5000, 'pm_card_createDispute');
      const [dispute] = (await stripeFor(h).disputes.list({ payment_intent: paid.gateway_ref.payment_intent })).data;
      emulatorOf(h).controls.closeDispute(dispute!.id, 'lost');
      await deliverSince(h, mark);
      const lost = await getTrx(h, paid.id);
      expect(lost).toMatchObject({ payment_status: 'refunded', disputed_amount: 5000, refunded_amount: 0 });
      await expectTotals(h, o, {
        USD: {
          ...entry,
          disputed_amount: 5000,
          retained_amount: 0,
          gateway_fee: entry.gateway_fee + 1500,
          net_amount: lost.retained_net_amount,
        },
      });
    });

    it('webhook: a dispute of a converted charge: disputed in its own currency, the withdrawal in the settlement one', async () => {
      const h = get();
      const o = await newOwners(h);
      const mark = await markEvents(h);
      const open = await gatewayCharge(h, o, 1000, 'pm_card_createDispute', 'eur');
      const paid = await act(h, open.id, 'capture');
      expect(paid).toMatchObject({ currency: 'EUR', settlement_currency: 'USD', gateway_fee: 73, net_amount: 1027 });
      await deliverSince(h, mark);
      const disputed = await getTrx(h, open.id);
      expect(disputed).toMatchObject({ payment_status: 'disputed', disputed_amount: 1000 });
      // The withdrawal is 1000 EUR at 1.1 (1100 USD) plus the 1500 fee in USD minor units.
      expect(disputed.retained_net_amount).toBe(1027 - 1100 - 1500);
      await expectTotals(h, o, {
        EUR: {
          captured_amount: 1000,
          disputed_amount: 1000,
          count_completed: 1,
          last_payment_at: await processedAt(h, open.id),
        },
        USD: { gateway_fee: 73 + 1500, net_amount: 1027 - 1100 - 1500 },
      });
    });

    it('webhook: a refund that fails after it succeeded gives its amount back', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const { paid, entry } = await captured(h, o, 6000, 'pm_card_refundFail');
      await act(h, paid.id, 'refund', { amount: 2000 }, 201);
      await expectTotals(h, o, {
        USD: { ...entry, refunded_amount: 2000, retained_amount: 4000, net_amount: entry.net_amount - 2000 },
      });
      const mark = await markEvents(h);
      emulatorOf(h).controls.advanceClock(2 * DAY);
      expect(await deliverSince(h, mark)).toContain('refund.failed');
      const back = await getTrx(h, paid.id);
      expect(back).toMatchObject({ payment_status: 'captured', refunded_amount: 0, retained_amount: 6000 });
      await expectTotals(h, o, { USD: { ...entry, net_amount: back.retained_net_amount } });
      // The money came back: the retained net is the charge's whole net again.
      expect(back.retained_net_amount).toBe(entry.net_amount);
    });

    it('webhook: a bank debit pending counts nowhere; settled it is captured, failed it counts in count_failed', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const good = await gatewayCharge(h, o, 10000, 'pm_usBankAccount');
      const bad = await gatewayCharge(h, o, 7000, 'pm_usBankAccount_insufficientFunds');
      await expectTotals(h, o, { USD: { open_amount: 17000, count_open: 2 } });
      expect(await act(h, good.id, 'capture')).toMatchObject({ status: 'pending' });
      expect(await act(h, bad.id, 'capture')).toMatchObject({ status: 'pending' });
      await expectTotals(h, o, { USD: {} });
      const mark = await markEvents(h);
      emulatorOf(h).controls.advanceClock(5 * DAY);
      await deliverSince(h, mark);
      const settled = await getTrx(h, good.id);
      expect(settled).toMatchObject({ status: 'completed', payment_status: 'captured' });
      expect(await getTrx(h, bad.id)).toMatchObject({ status: 'failed', error_code: 'insufficient_funds' });
      await expectTotals(h, o, {
        USD: {
          captured_amount: 10000,
          retained_amount: 10000,
          gateway_fee: settled.gateway_fee,
          net_amount: settled.net_amount,
          count_completed: 1,
          count_failed: 1,
          last_payment_at: await processedAt(h, good.id),
        },
      });
      expect(settled.gateway_fee).toBeGreaterThan(0);
    });

    it('webhook: an authorization left to expire leaves nothing authorized', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const open = await gatewayCharge(h, o, 4500);
      await act(h, open.id, 'authorize');
      await expectTotals(h, o, { USD: { authorized_amount: 4500, count_completed: 1 } });
      const mark = await markEvents(h);
      emulatorOf(h).controls.advanceClock(8 * DAY);
      await deliverSince(h, mark, (events) => [...events].reverse());
      expect(await getTrx(h, open.id)).toMatchObject({ payment_status: 'uncaptured', uncaptured_method: 'automatic' });
      await expectTotals(h, o, { USD: { count_completed: 1 } });
    });

    it('job: daily_charges charges a due open charge and fails another; a reattempt is open again, then paid', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const visa = await paymentMethod(h);
      const declining = await paymentMethod(h, 'pm_card_visa_chargeDeclinedInsufficientFunds');
      const base = { auto_process: true, due_date: TODAY };
      const good = await createFor(h, o, { ...base, amount: 1200, payment_method_id: visa });
      const bad = await createFor(h, o, { ...base, amount: 800, payment_method_id: declining });
      await expectTotals(h, o, { USD: { open_amount: 2000, count_open: 2, next_due_date: TODAY } });
      const started = await h.request('POST', '/v1/jobs/daily_charges/run');
      expectStatus(started, 202);
      let run = started.body;
      for (let i = 0; i < 1500 && run.status === 'running'; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        run = (await h.request('GET', `/v1/job-runs/${started.body.id}`)).body;
      }
      expect(run).toMatchObject({ status: 'succeeded', picked: 2, succeeded: 1, failed: 1 });
      const paid = {
        captured_amount: 1200,
        retained_amount: 1200,
        gateway_fee: cardFee(1200),
        net_amount: 1200 - cardFee(1200),
        count_completed: 1,
        last_payment_at: await processedAt(h, good.id),
      };
      await expectTotals(h, o, { USD: { ...paid, count_failed: 1 } });

      const again = await act(h, bad.id, 'reattempt', undefined, 201);
      expect(again).toMatchObject({ status: 'open', parent_id: o.parent_id, reattempt_of_id: bad.id });
      await expectTotals(h, o, {
        USD: { ...paid, count_failed: 1, open_amount: 800, count_open: 1, next_due_date: TODAY },
      });
      expectStatus(await h.request('PATCH', `/v1/transactions/${again.id}`, { payment_method_id: visa }), 200);
      h.clock.advance(60_000);
      await act(h, again.id, 'capture');
      await expectTotals(h, o, {
        USD: {
          captured_amount: 2000,
          retained_amount: 2000,
          gateway_fee: cardFee(1200) + cardFee(800),
          net_amount: 2000 - cardFee(1200) - cardFee(800),
          count_completed: 2,
          count_failed: 1,
          last_payment_at: await processedAt(h, again.id),
        },
      });
    });

    it('recovery: a capture whose answer was lost leaves the charge in process (counted nowhere); recovery applies it', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const open = await gatewayCharge(h, o, 7000);
      emulatorOf(h).controls.injectFault({
        method: 'POST',
        path: '/v1/payment_intents',
        kind: 'drop_response',
        times: 2,
      });
      try {
        const res = await h.request('POST', `/v1/transactions/${open.id}/capture`);
        expectStatus(res, 202);
        expect(res.body.status).toBe('process');
      } finally {
        emulatorOf(h).controls.clearFaults();
      }
      await expectTotals(h, o, { USD: {} });
      const report = await recoverInFlight(h.deps);
      expect(report).toMatchObject({ applied: 1, errors: [] });
      const after = await getTrx(h, open.id);
      expect(after).toMatchObject({ status: 'completed', payment_status: 'captured', captured_amount: 7000 });
      await expectTotals(h, o, {
        USD: {
          captured_amount: 7000,
          retained_amount: 7000,
          gateway_fee: after.gateway_fee,
          net_amount: after.net_amount,
          count_completed: 1,
          last_payment_at: await processedAt(h, open.id),
        },
      });
      expect(after.gateway_fee).toBe(cardFee(7000));
    });
  },
  { emulator: true },
);
