// Fees, net and currency conversion (issue 18, M3 and M4) through the HTTP API against the Stripe emulator, on each
// database. The emulator's account settles in USD at fixed rates (packages/stripe-emulator/src/fx.ts: EUR -> USD
// 1.10) with a fee of 2.9% + 30 cents of the settled amount, plus 1% when the charge was converted: the pinned
// example is a 10.00 EUR charge settling 1100 (USD) with a fee of 73. Every figure asserted here is the gateway's,
// read back from its balance transaction with the SDK, and the ledger's copy of it.
import { expect, it } from 'vitest';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { allEmulatorEvents, type EventLike, storeStripeEvent, stripeFor } from '../webhooks/store-event.js';

async function paymentMethod(h: Harness, token = 'pm_card_visa'): Promise<string> {
  const res = await h.request('POST', '/v1/payment-methods', {
    gateway_token: token,
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function charge(h: Harness, amount: number, currency: string, token = 'pm_card_visa') {
  const created = await h.request('POST', '/v1/transactions', {
    amount,
    currency,
    payment_method_id: await paymentMethod(h, token),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const res = await h.request('POST', `/v1/transactions/${created.body.id}/capture`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function refund(h: Harness, id: string, amount?: number) {
  const res = await h.request('POST', `/v1/transactions/${id}/refund`, amount === undefined ? {} : { amount });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const get = async (h: Harness, id: string) => (await h.request('GET', `/v1/transactions/${id}`)).body;

/** Stores and applies the emulator's events not seen before `mark`; every one must end processed. */
async function deliverSince(h: Harness, mark: Set<string>): Promise<void> {
  const events: EventLike[] = (await allEmulatorEvents(h)).filter((e) => !mark.has(e.id));
  const ids: string[] = [];
  for (const event of events) ids.push(await storeStripeEvent(h, event));
  const summary = await processWebhookEvents(h.deps, { ids: [...new Set(ids)] });
  expect(summary.failed).toBe(0);
}

describeEachDatabase(
  'fees, net and conversion from the balance transactions',
  (harness) => {
    it('M4: a EUR charge on a USD account settles 1100 USD at 1.1 with a fee of 73; net and fees are in USD', async () => {
      const h = harness();
      const paid = await charge(h, 1000, 'eur');
      expect(paid).toMatchObject({
        currency: 'EUR',
        amount: 1000,
        captured_amount: 1000,
        settlement_currency: 'USD',
        settlement_amount: 1100,
        exchange_rate: '1.1',
        gateway_fee: 73,
        refunded_gateway_fee: 0,
        net_gateway_fee: 73,
        net_amount: 1027,
        retained_net_amount: 1027,
        balance_status: 'pending',
      });
      // The ledger holds what the gateway's balance transaction says, to the cent.
      const bt = await stripeFor(h).balanceTransactions.retrieve(paid.gateway_ref.balance_transaction as string);
      expect([bt.currency, bt.amount, bt.fee, bt.net, bt.exchange_rate]).toEqual(['usd', 1100, 73, 1027, 1.1]);
    });

    it('M4: a refund of a converted charge converts at its own rate, from its own balance transaction', async () => {
      const h = harness();
      const paid = await charge(h, 1000, 'eur');
      const back = await refund(h, paid.id, 400);
      expect(back).toMatchObject({ currency: 'EUR', amount: -400, settlement_currency: 'USD', exchange_rate: '1.1' });
      const bt = await stripeFor(h).balanceTransactions.retrieve(back.gateway_ref.balance_transaction as string);
      expect(back.settlement_amount).toBe(bt.amount);
      expect(back.net_amount).toBe(bt.net);
      expect(bt.amount).toBe(-440);
      // The charge keeps its own fee (Stripe does not return it on a refund) and its retained net falls by the refund.
      expect(await get(h, paid.id)).toMatchObject({
        gateway_fee: 73,
        refunded_gateway_fee: 0,
        net_gateway_fee: 73,
        net_amount: 1027,
        retained_net_amount: 1027 - 440,
      });
    });

    it('M3: an unconverted charge keeps its meaning: currency = settlement_currency, no rate; a partial refund', async () => {
      const h = harness();
      const paid = await charge(h, 10000, 'usd');
      expect(paid).toMatchObject({
        settlement_currency: 'USD',
        settlement_amount: 10000,
        exchange_rate: null,
        gateway_fee: 320,
        net_amount: 9680,
        retained_net_amount: 9680,
      });
      await refund(h, paid.id, 2500);
      expect(await get(h, paid.id)).toMatchObject({
        net_amount: 9680,
        net_gateway_fee: 320,
        retained_net_amount: 9680 - 2500,
        refunded_amount: 2500,
      });
    });

    it('M3: fully refunded, retained_net_amount is minus the fee Stripe kept (negative)', async () => {
      const h = harness();
      const paid = await charge(h, 10000, 'usd');
      await refund(h, paid.id);
      expect(await get(h, paid.id)).toMatchObject({
        payment_status: 'refunded',
        net_amount: 9680,
        gateway_fee: 320,
        net_gateway_fee: 320,
        retained_net_amount: -320,
      });
    });

    it('M3: a refund made at the gateway (dashboard) counts on the charge once, however often it is read', async () => {
      const h = harness();
      const paid = await charge(h, 5000, 'usd');
      const mark = new Set((await allEmulatorEvents(h)).map((e) => e.id));
      h.emulator!.controls.dashboardRefund({ payment_intent: paid.gateway_ref.payment_intent as string, amount: 1000 });
      await deliverSince(h, mark);
      await deliverSince(h, mark); // the same events again: nothing changes
      const fee = 30 + Math.floor((5000 * 29 + 500) / 1000);
      expect(await get(h, paid.id)).toMatchObject({
        refunded_amount: 1000,
        net_amount: 5000 - fee,
        retained_net_amount: 5000 - fee - 1000,
      });
    });

    it('M3: a dispute takes the amount and its fee; the fee adjustment carries the dispute balance transaction', async () => {
      const h = harness();
      const mark = new Set((await allEmulatorEvents(h)).map((e) => e.id));
      const paid = await charge(h, 8000, 'usd', 'pm_card_createDispute');
      await deliverSince(h, mark);
      const fee = 30 + Math.floor((8000 * 29 + 500) / 1000); // 262
      const after = await get(h, paid.id);
      expect(after).toMatchObject({ disputed_amount: 8000, net_amount: 8000 - fee, net_gateway_fee: fee });
      const dispute = await h.deps.db
        .selectFrom('disputes')
        .selectAll()
        .where('transaction_id', '=', paid.id)
        .executeTakeFirstOrThrow();
      expect(after.retained_net_amount).toBe(8000 - fee - dispute.amount_withdrawn - dispute.fee);
      const adjustments = (
        await h.request('GET', `/v1/transactions?original_transaction_id=${paid.id}`)
      ).body.data.filter((t: { record_type: string }) => t.record_type === 'adjustment');
      expect(adjustments).toHaveLength(1);
      const bt = await stripeFor(h).balanceTransactions.retrieve(adjustments[0].gateway_ref.balance_transaction);
      expect(adjustments[0]).toMatchObject({
        gateway_fee: bt.fee,
        net_amount: bt.net,
        settlement_currency: bt.currency.toUpperCase(),
      });
    });
  },
  { emulator: true },
);
