// The worked order of docs/ORDERS.md, step by step, against the Stripe emulator through the real adapter: every figure
// the page shows is asserted here, so the page cannot drift from what Settle does.
//
// Order SO-1001, 150.00 USD. At checkout the storefront authorizes 90.00 on a Visa card and 60.00 on a Mastercard (two
// manual-capture PaymentIntents) and Settle attaches both. Two shipments: 90.00 (captured on the Visa authorization),
// then 60.00 (the Mastercard one). One item of 25.00 comes back: refunded from the newest payment.
import type Stripe from 'stripe';
import { expect, it } from 'vitest';
import { totalsDifferences } from '../../src/store/totals-repo.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { checkout, expectStatus, type Json } from './support.js';

/** A storefront's checkout: a PaymentIntent authorized (manual capture) on the given test card. */
const authorizeAtCheckout = (h: Harness, amount: number, card: string, order: string): Promise<Stripe.PaymentIntent> =>
  checkout(h, amount, 'manual', { payment_method: card, metadata: { storefront_order: order } });

const summaryOf = (order: Json, pi: string): Json =>
  order.payment_summaries.find((s: Json) => s.authorizations.some((a: Json) => a.payment_intent === pi));

describeEachDatabase(
  'the worked order of docs/ORDERS.md',
  (get) => {
    it('two payment methods authorized at checkout, two shipments, one return', async () => {
      const h = get();
      const external = `SO-1001-${h.kind}`;
      const created = await h.request('POST', '/v1/orders', { external_id: external, currency: 'usd', total: 15000 });
      expectStatus(created, 201);
      const orderId = created.body.id as string;

      // 1. Checkout: two authorizations, attached to the order.
      const visa = await authorizeAtCheckout(h, 9000, 'pm_card_visa', external);
      const mastercard = await authorizeAtCheckout(h, 6000, 'pm_card_mastercard', external);
      for (const pi of [visa, mastercard]) {
        expectStatus(await h.request('POST', `/v1/orders/${orderId}/payments`, { gateway_ref_number: pi.id }), 201);
      }
      let order = (await h.request('GET', `/v1/orders/${orderId}`)).body;
      expect(order.payment_summaries).toHaveLength(2);
      for (const [pi, amount] of [
        [visa.id, 9000],
        [mastercard.id, 6000],
      ] as const) {
        const s = summaryOf(order, pi);
        expect(s).toMatchObject({
          authorized_amount: amount,
          captured_amount: 0,
          available_to_capture: amount,
          balance: 0,
        });
        expect(s.authorizations).toEqual([
          expect.objectContaining({
            amount,
            status: 'processed',
            processing_mode: 'external',
            gateway_ref_number: pi,
            payment_intent: pi,
          }),
        ]);
      }

      // 2. First shipment, 90.00: the Visa authorization is the oldest whose whole amount fits.
      const first = await h.request(
        'POST',
        `/v1/orders/${orderId}/capture`,
        { amount: 9000 },
        { 'Idempotency-Key': `ship-1-${h.kind}` },
      );
      expectStatus(first, 200);
      expect(first.body.captures).toEqual([
        expect.objectContaining({ amount: 9000, released_amount: 0, status: 'succeeded' }),
      ]);
      // 3. Second shipment, 60.00: the Mastercard authorization.
      const second = await h.request(
        'POST',
        `/v1/orders/${orderId}/capture`,
        { amount: 6000 },
        { 'Idempotency-Key': `ship-2-${h.kind}` },
      );
      expectStatus(second, 200);
      expect(second.body.captures).toEqual([
        expect.objectContaining({ amount: 6000, released_amount: 0, status: 'succeeded' }),
      ]);
      // 4. A return of 25.00: refunded from the newest payment (the Mastercard one).
      const back = await h.request(
        'POST',
        `/v1/orders/${orderId}/refund`,
        { amount: 2500 },
        { 'Idempotency-Key': `return-1-${h.kind}` },
      );
      expectStatus(back, 200);
      expect(back.body.refunds).toEqual([expect.objectContaining({ amount: 2500, status: 'succeeded' })]);

      order = (await h.request('GET', `/v1/orders/${orderId}`)).body;
      const v = summaryOf(order, visa.id);
      const m = summaryOf(order, mastercard.id);
      expect(v).toMatchObject({
        authorized_amount: 9000,
        captured_amount: 9000,
        refunded_amount: 0,
        pending_amount: 0,
        available_to_capture: 0,
        available_to_refund: 9000,
        balance: 9000,
      });
      expect(m).toMatchObject({
        authorized_amount: 6000,
        captured_amount: 6000,
        refunded_amount: 2500,
        pending_amount: 0,
        available_to_capture: 0,
        available_to_refund: 3500,
        balance: 3500,
      });
      // Settle's own actions are platform records, referenced by the idempotency key Settle sent.
      for (const record of [...v.payments, ...m.payments, ...m.refunds]) {
        expect(record).toMatchObject({ status: 'processed', processing_mode: 'platform', result_code: 'success' });
        expect(record.gateway_ref_number).toMatch(/^settle_gatt_/);
      }
      expect(v.payments.map((r: Json) => r.amount)).toEqual([9000]);
      expect(m.payments.map((r: Json) => r.amount)).toEqual([6000]);
      expect(m.refunds.map((r: Json) => r.amount)).toEqual([2500]);
      expect(v.refunds).toEqual([]);

      // The order's totals: fees at 2.9% + 30 cents per charge (261 + 30 and 174 + 30); Stripe keeps them on a refund.
      expect(order.totals).toEqual([
        expect.objectContaining({
          currency: 'USD',
          authorized_amount: 0,
          captured_amount: 15000,
          refunded_amount: 2500,
          retained_amount: 12500,
          gateway_fee: 495,
          net_amount: 12005,
          count_completed: 2,
        }),
      ]);

      // The gateway log of the Mastercard summary: the read at checkout, the capture and the refund.
      const logs = await h.request('GET', `/v1/payment-summaries/${m.id}/gateway-logs`);
      expectStatus(logs, 200);
      expect(logs.body.data.map((l: Json) => l.interaction_type)).toEqual([
        'referenced_refund',
        'capture',
        'sync',
        'sync',
      ]);
      const keys = logs.body.data.map((l: Json) => l.idempotency_key).filter((k: string | null) => k !== null);
      expect(keys).toEqual(expect.arrayContaining([m.payments[0].gateway_ref_number, m.refunds[0].gateway_ref_number]));
      for (const row of logs.body.data) expect(row.order_payment_summary_id).toBe(m.id);

      expect(await h.deps.db.transaction().execute((trx) => totalsDifferences(trx))).toEqual([]);
    });
  },
  { emulator: true },
);
