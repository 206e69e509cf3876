// Checkout payments attached by API (issue 20, O3): POST /v1/orders/{id}/payments with a PaymentIntent a storefront
// made with the real SDK against the emulator (same account), on each database. Each test checks the transaction,
// the order's payment summary and records (made by the database at commit), and what the emulator holds; each
// refusal writes nothing (row counts before and after).
import type Stripe from 'stripe';
import { expect, it } from 'vitest';
import { applyPayment } from '../../src/app/webhooks/sync-payment.js';
import type { SyncContext } from '../../src/app/webhooks/sync-context.js';
import { describeEachDatabase, describePostgres, type Harness } from '../support/harness.js';
import { deliverSince, markEvents } from '../totals/support.js';
import {
  chargeOf,
  checkout,
  countRows,
  createOrder,
  createPaymentMethod,
  expectError,
  expectRefusal,
  expectReplay,
  expectStatus,
  getOrder,
  stripeOf,
  uniqueExternalId,
  type Json,
} from './support.js';

const order = (h: Harness, fields: Json = {}) =>
  createOrder(h, { external_id: uniqueExternalId(h, 'checkout'), ...fields });

const attach = (h: Harness, orderId: string, body: Json, key?: string) =>
  h.request('POST', `/v1/orders/${orderId}/payments`, body, key === undefined ? {} : { 'idempotency-key': key });

/** The tables an attach may write. */
const TABLES = [
  'transactions',
  'transaction_history',
  'payment_methods',
  'order_payment_summaries',
  'order_payment_records',
  'gateway_logs',
  'idempotency_keys',
] as const;

const rowCounts = (h: Harness) => countRows(h, TABLES);

/** The attach is refused with `status` and `code`, and nothing is written; returns the error. */
const refused = (h: Harness, orderId: string, body: Json, status: number, code: string) =>
  expectRefusal(h, () => attach(h, orderId, body), status, code, { tables: TABLES });

describeEachDatabase(
  'checkout payments attached by API',
  (get) => {
    it('checkout-authorized: an external authorization on the order, its reference the PaymentIntent', async () => {
      const h = get();
      const o = await order(h, { total: 6000 });
      const pi = await checkout(h, 6000, 'manual');
      expect(pi.status).toBe('requires_capture');
      const res = await attach(h, o.id, { gateway_ref_number: pi.id });
      expectStatus(res, 201);
      const t = res.body.transaction;
      expect(t).toMatchObject({
        order_id: o.id,
        processing_mode: 'external',
        status: 'completed',
        payment_status: 'authorized',
        authorized_amount: 6000,
        captured_amount: 0,
        authorize: true,
        gateway_ref: expect.objectContaining({ payment_intent: pi.id }),
        source: 'api',
      });
      // A one-time method made from the PaymentIntent's.
      const pm = await h.request('GET', `/v1/payment-methods/${t.payment_method_id}`);
      expectStatus(pm, 200);
      expect(pm.body).toMatchObject({ status: 'one_time', type: 'card', gateway_token: pi.payment_method });
      expect(pm.body.last4).toBe('4242');
      // The response's order is read after the commit: the summary is there.
      expect(res.body.order.id).toBe(o.id);
      expect(res.body.order.payment_summaries).toHaveLength(1);
      const s = res.body.order.payment_summaries[0];
      expect(s).toMatchObject({
        payment_method_id: t.payment_method_id,
        currency: 'USD',
        authorized_amount: 6000,
        captured_amount: 0,
        available_to_capture: 6000,
        pending_amount: 0,
        balance: 0,
      });
      expect(s.authorizations).toEqual([
        expect.objectContaining({
          kind: 'authorization',
          transaction_id: t.id,
          amount: 6000,
          status: 'processed',
          result_code: 'success',
          processing_mode: 'external',
          gateway_ref_number: pi.id,
          payment_intent: pi.id,
        }),
      ]);
      expect(s.payments).toEqual([]);
      expect((await getOrder(h, o.id)).payment_summaries).toEqual(res.body.order.payment_summaries);
      // The read of the PaymentIntent is logged, on the transaction and its summary.
      const logs = await h.deps.db
        .selectFrom('gateway_logs')
        .select(['transaction_id', 'order_payment_summary_id'])
        .where('transaction_id', '=', t.id)
        .execute();
      expect(logs.length).toBeGreaterThan(0);
      expect(logs.every((l) => l.order_payment_summary_id === s.id)).toBe(true);

      // Attached again to the same order: the existing attachment, 200, nothing written.
      const before = await rowCounts(h);
      const again = await attach(h, o.id, { gateway_ref_number: pi.id });
      expectStatus(again, 200);
      expect(again.body.transaction.id).toBe(t.id);
      expect(again.body.order.payment_summaries).toEqual(res.body.order.payment_summaries);
      expect(await rowCounts(h)).toEqual(before);
    });

    it('checkout-captured: an external payment whose reference is the charge balance transaction', async () => {
      const h = get();
      const o = await order(h, { total: 2500 });
      const pi = await checkout(h, 2500, 'automatic');
      expect(pi.status).toBe('succeeded');
      const res = await attach(h, o.id, { gateway_ref_number: pi.id });
      expectStatus(res, 201);
      const charge = await stripeOf(h).charges.retrieve(pi.latest_charge as string);
      const txn = charge.balance_transaction as string;
      expect(txn).toMatch(/^txn_/);
      const t = res.body.transaction;
      expect(t).toMatchObject({
        processing_mode: 'external',
        status: 'completed',
        payment_status: 'captured',
        captured_amount: 2500,
        authorize: false,
        gateway_ref: expect.objectContaining({ payment_intent: pi.id, charge: charge.id, balance_transaction: txn }),
      });
      const [s] = res.body.order.payment_summaries;
      expect(s).toMatchObject({ authorized_amount: 0, captured_amount: 2500, available_to_capture: 0, balance: 2500 });
      expect(s.authorizations).toEqual([]);
      expect(s.payments).toEqual([
        expect.objectContaining({
          kind: 'payment',
          amount: 2500,
          status: 'processed',
          processing_mode: 'external',
          gateway_ref_number: txn,
          payment_intent: pi.id,
        }),
      ]);
    });

    it('automatic_async: attached by API, the balance transaction is read with the PaymentIntent', async () => {
      const h = get();
      const o = await order(h, { total: 1800 });
      const pi = await checkout(h, 1800, 'automatic_async');
      const res = await attach(h, o.id, { gateway_ref_number: pi.id });
      expectStatus(res, 201);
      const charge = await stripeOf(h).charges.retrieve(pi.latest_charge as string);
      expect(res.body.transaction).toMatchObject({ authorize: false, captured_amount: 1800 });
      expect(res.body.order.payment_summaries[0].payments[0]).toMatchObject({
        gateway_ref_number: charge.balance_transaction,
        status: 'processed',
      });
    });

    it('automatic_async: a payment recorded before its balance transaction is known gets it from charge.updated', async () => {
      const h = get();
      const o = await order(h, { total: 4100 });
      const mark = await markEvents(h);
      const pi = await checkout(h, 4100, 'automatic_async', { metadata: { settle_order_id: o.id } });
      // What Stripe's read shows during the first hour of an automatic_async capture (docs.stripe.com/payments/
      // paymentintents/lifecycle): the charge without its balance transaction. The emulator shows it null only in
      // the confirming response, so the payment as Settle's adapter reads it is applied with it removed.
      const gatewayRow = await h.deps.db
        .selectFrom('gateways')
        .selectAll()
        .where('is_default', '=', true)
        .executeTakeFirstOrThrow();
      const gateway = h.deps.gateways.forRecord(gatewayRow);
      const read = await gateway.retrieve(pi.id);
      if (read.kind !== 'succeeded') throw new Error(`read ${read.kind}`);
      const early = { ...read.result, refs: { ...read.result.refs, balance_transaction: null }, balance: null };
      const method = await gateway.retrievePaymentMethod(pi.payment_method as string);
      const ctx: SyncContext = {
        deps: h.deps,
        gatewayRow,
        gateway,
        actor: 'test:early-read',
        now: h.clock.now(),
        day: '2026-11-24',
        eventTypes: new Set(['payment_intent.succeeded']),
      };
      await h.deps.db
        .transaction()
        .execute((trx) => applyPayment(trx, ctx, early, null, method.kind === 'succeeded' ? method.result : null));
      const first = (await getOrder(h, o.id)).payment_summaries[0];
      expect(first.captured_amount).toBe(4100);
      expect(first.payments).toEqual([
        expect.objectContaining({ status: 'processed', processing_mode: 'external', gateway_ref_number: null }),
      ]);
      // The emulator's events (charge.succeeded, payment_intent.succeeded, then charge.updated with the balance
      // transaction) delivered: the record's reference becomes the txn_ id.
      expect(await deliverSince(h, mark)).toContain('charge.updated');
      const charge = await stripeOf(h).charges.retrieve(pi.latest_charge as string);
      const after = (await getOrder(h, o.id)).payment_summaries;
      expect(after).toHaveLength(1);
      expect(after[0].payments).toEqual([
        expect.objectContaining({ id: first.payments[0].id, gateway_ref_number: charge.balance_transaction }),
      ]);
      expect(after[0].captured_amount).toBe(4100);
    });

    it('processing: a bank debit still processing is a pending payment record', async () => {
      const h = get();
      const o = await order(h, { total: 9000 });
      const pi = await checkout(h, 9000, 'automatic', {
        payment_method: 'pm_usBankAccount',
        mandate_data: {
          customer_acceptance: { type: 'online', online: { ip_address: '127.0.0.1', user_agent: 'test' } },
        },
      });
      expect(pi.status).toBe('processing');
      const res = await attach(h, o.id, { gateway_ref_number: pi.id });
      expectStatus(res, 201);
      expect(res.body.transaction).toMatchObject({ status: 'pending', authorize: false, captured_amount: 0 });
      const pm = await h.request('GET', `/v1/payment-methods/${res.body.transaction.payment_method_id}`);
      expect(pm.body).toMatchObject({ type: 'us_bank_account', status: 'one_time' });
      const [s] = res.body.order.payment_summaries;
      expect(s).toMatchObject({ pending_amount: 9000, captured_amount: 0, authorized_amount: 0 });
      expect(s.payments).toEqual([
        expect.objectContaining({
          status: 'pending',
          amount: 9000,
          processing_mode: 'external',
          gateway_ref_number: null,
        }),
      ]);
    });

    it('refusals write nothing: unknown, other currency, unexpected state, bad payment method, bad reference', async () => {
      const h = get();
      const o = await order(h, { total: 5000 });
      await refused(h, o.id, { gateway_ref_number: 'pi_doesnotexist123' }, 400, 'payment_intent_not_found');
      await refused(h, o.id, { gateway_ref_number: 'ch_123' }, 400, 'invalid_gateway_ref_number');
      await refused(h, 'ord_missing', { gateway_ref_number: 'pi_doesnotexist123' }, 404, 'resource_missing');
      const eur = await checkout(h, 1000, 'automatic', { currency: 'eur' });
      await refused(h, o.id, { gateway_ref_number: eur.id }, 400, 'currency_mismatch');
      const unconfirmed = await stripeOf(h).paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        capture_method: 'manual',
      });
      await refused(h, o.id, { gateway_ref_number: unconfirmed.id }, 400, 'payment_intent_unexpected_state');
      const declined = await checkout(h, 1000, 'automatic', { payment_method: 'pm_card_visa_chargeDeclined' }).catch(
        (e: Stripe.errors.StripeError) => e.payment_intent as Stripe.PaymentIntent,
      );
      await refused(h, o.id, { gateway_ref_number: declined.id }, 400, 'payment_intent_unexpected_state');
      const pi = await checkout(h, 1000, 'manual');
      await refused(
        h,
        o.id,
        { gateway_ref_number: pi.id, payment_method_id: 'pmt_missing' },
        400,
        'payment_method_not_found',
      );
      const other = await createPaymentMethod(h, 'pm_card_mastercard');
      await refused(h, o.id, { gateway_ref_number: pi.id, payment_method_id: other }, 400, 'payment_method_mismatch');
      expect((await getOrder(h, o.id)).payment_summaries).toEqual([]);
    });

    it('a payment method given must be the PaymentIntent one; it is then used, not a new one', async () => {
      const h = get();
      const o = await order(h, { total: 3000 });
      const pi = await checkout(h, 3000, 'manual');
      const pm = await createPaymentMethod(h, pi.payment_method as string);
      const before = await rowCounts(h);
      const res = await attach(h, o.id, { gateway_ref_number: pi.id, payment_method_id: pm });
      expectStatus(res, 201);
      expect(res.body.transaction.payment_method_id).toBe(pm);
      expect(res.body.order.payment_summaries[0].payment_method_id).toBe(pm);
      expect((await rowCounts(h)).payment_methods).toBe(before.payment_methods);
    });

    it('past the total: 400 order_total_exceeded, nothing written; allow_overpayment attaches it', async () => {
      const h = get();
      const o = await order(h, { total: 5000 });
      const first = await checkout(h, 3000, 'automatic');
      expectStatus(await attach(h, o.id, { gateway_ref_number: first.id }), 201);
      const second = await checkout(h, 2500, 'manual');
      // 3000 captured + 2500 authorized > 5000.
      const error = await refused(h, o.id, { gateway_ref_number: second.id }, 400, 'order_total_exceeded');
      expect(error.message).toContain('allow_overpayment');
      const exact = await checkout(h, 2000, 'manual');
      expectStatus(await attach(h, o.id, { gateway_ref_number: exact.id }), 201);
      // Now 5000 held: any more needs allow_overpayment.
      await refused(h, o.id, { gateway_ref_number: second.id }, 400, 'order_total_exceeded');
      const over = await attach(h, o.id, { gateway_ref_number: second.id, allow_overpayment: true });
      expectStatus(over, 201);
      const summaries = over.body.order.payment_summaries as Json[];
      expect(summaries).toHaveLength(3);
      expect(summaries.reduce((n, s) => n + s.captured_amount, 0)).toBe(3000);
      expect(summaries.reduce((n, s) => n + s.authorized_amount, 0)).toBe(4500);
    });

    it('a PaymentIntent on another order: 400 payment_intent_on_another_order, nothing written', async () => {
      const h = get();
      const a = await order(h);
      const b = await order(h);
      const pi = await checkout(h, 1500, 'automatic');
      expectStatus(await attach(h, a.id, { gateway_ref_number: pi.id }), 201);
      await refused(h, b.id, { gateway_ref_number: pi.id }, 400, 'payment_intent_on_another_order');
      expect((await getOrder(h, b.id)).payment_summaries).toEqual([]);
    });

    it('an external payment first seen by webhook, then attached by API: the same transaction', async () => {
      const h = get();
      const o = await order(h, { total: 7000 });
      const mark = await markEvents(h);
      const pi = await checkout(h, 7000, 'manual');
      await deliverSince(h, mark);
      const seen = await chargeOf(h, pi.id);
      expect(seen).toMatchObject({ processing_mode: 'external', order_id: null, payment_method_id: null });
      const before = await rowCounts(h);
      const res = await attach(h, o.id, { gateway_ref_number: pi.id });
      expectStatus(res, 201);
      expect(res.body.transaction).toMatchObject({
        id: seen.id,
        order_id: o.id,
        authorize: true,
        payment_status: 'authorized',
      });
      const after = await rowCounts(h);
      expect(after.transactions).toBe(before.transactions);
      expect(after.payment_methods).toBe(before.payment_methods + 1);
      const [s] = res.body.order.payment_summaries;
      expect(s).toMatchObject({ authorized_amount: 7000, available_to_capture: 7000 });
      expect(s.authorizations).toEqual([
        expect.objectContaining({ transaction_id: seen.id, gateway_ref_number: pi.id, status: 'processed' }),
      ]);
      // Its events delivered again change nothing.
      await deliverSince(h, mark);
      expect((await rowCounts(h)).transactions).toBe(after.transactions);
      expect((await getOrder(h, o.id)).payment_summaries).toEqual(res.body.order.payment_summaries);
    });

    it('Idempotency-Key: the same key replays the first answer; another body with it is 409', async () => {
      const h = get();
      const o = await order(h, { total: 1200 });
      const pi = await checkout(h, 1200, 'automatic');
      const key = `attach-${h.kind}-${pi.id}`;
      const first = await attach(h, o.id, { gateway_ref_number: pi.id }, key);
      expectStatus(first, 201);
      const before = await rowCounts(h);
      const again = await attach(h, o.id, { gateway_ref_number: pi.id }, key);
      expectStatus(again, 201);
      expectReplay(again, first.body);
      expect(await rowCounts(h)).toEqual(before);
      expectError(
        await attach(h, o.id, { gateway_ref_number: pi.id, allow_overpayment: true }, key),
        409,
        'idempotency_key_reused',
      );
      expect(await rowCounts(h)).toEqual(before);
    });
  },
  { emulator: true },
);

describePostgres(
  'checkout payments attached concurrently',
  (get) => {
    it('two attaches racing for the same order total: one attached, the other 400 order_total_exceeded', async () => {
      const h = get();
      const o = await order(h, { total: 5000 });
      const a = await checkout(h, 3000, 'automatic');
      const b = await checkout(h, 3000, 'manual');
      const results = await Promise.all([
        attach(h, o.id, { gateway_ref_number: a.id }),
        attach(h, o.id, { gateway_ref_number: b.id }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
      expect(results.find((r) => r.status === 400)!.body.error.code).toBe('order_total_exceeded');
      const summaries = (await getOrder(h, o.id)).payment_summaries as Json[];
      expect(summaries).toHaveLength(1);
      expect(summaries[0]!.captured_amount + summaries[0]!.authorized_amount).toBe(3000);
    });

    it('the same PaymentIntent attached twice at once: one transaction, answered 201 and 200', async () => {
      const h = get();
      const o = await order(h, { total: 4000 });
      const pi = await checkout(h, 4000, 'manual');
      const before = await rowCounts(h);
      const results = await Promise.all([
        attach(h, o.id, { gateway_ref_number: pi.id }),
        attach(h, o.id, { gateway_ref_number: pi.id }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 201]);
      expect(results[0].body.transaction.id).toBe(results[1].body.transaction.id);
      const after = await rowCounts(h);
      expect(after.transactions).toBe(before.transactions + 1);
      expect(after.payment_methods).toBe(before.payment_methods + 1);
      const [s] = (await getOrder(h, o.id)).payment_summaries as Json[];
      expect(s).toMatchObject({ authorized_amount: 4000, available_to_capture: 4000 });
    });
  },
  { emulator: true, poolSize: 4 },
);
