// Orders (issue 20: O1, O2, O5) through the API against the Stripe emulator: create, list and read with their
// refusals writing nothing; transactions on an order (order_id on create, view and list); the payment summaries and
// records the database derives from an order's transactions, exactly, after an authorization, a partial capture and a
// refund made through /v1/transactions; and the gateway log of an order and of a summary.
import { expect, it } from 'vitest';
import type { Harness } from '../support/harness.js';
import { describeEachDatabase } from '../support/harness.js';
import {
  createAccount,
  createOrder,
  createOrderCharge,
  createPaymentMethod,
  expectRefusal,
  expectStatus,
  getOrder,
  type Json,
  rowCounts,
} from './support.js';

const MISSING_ORDER = 'ord_00000000000000000000000000';
const MISSING_SUMMARY = 'ops_00000000000000000000000000';

async function action(h: Harness, transactionId: string, name: string, body?: Json): Promise<Json> {
  const res = await h.request('POST', `/v1/transactions/${transactionId}/${name}`, body);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body;
}

async function gatewayLog(h: Harness, id: string): Promise<Json> {
  const res = await h.request('GET', `/v1/gateway-logs/${id}`);
  expectStatus(res, 200);
  return res.body;
}

describeEachDatabase(
  'orders',
  (get) => {
    it('creates an order (201): currency upper-case, no totals or summaries yet; GET returns the same', async () => {
      const h = get();
      const acc = await createAccount(h);
      const before = await rowCounts(h);
      const res = await h.request('POST', '/v1/orders', {
        external_id: `shop-${h.kind}-1`,
        account_id: acc,
        currency: 'eur',
        total: 12345,
        description: 'Two chairs',
        metadata: { cart: 'c_1' },
      });
      expectStatus(res, 201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^ord_[0-9a-z]{26}$/),
        object: 'order',
        external_id: `shop-${h.kind}-1`,
        account_id: acc,
        currency: 'EUR',
        total: 12345,
        description: 'Two chairs',
        metadata: { cart: 'c_1' },
        totals: [],
        payment_summaries: [],
        created_at: '2026-11-24T12:00:00.000Z',
        updated_at: '2026-11-24T12:00:00.000Z',
      });
      expect(await rowCounts(h)).toEqual({ ...before, orders: before.orders + 1 });
      expect(await getOrder(h, res.body.id)).toEqual(res.body);
      // The optional fields default to null and {}; a total of 0 is allowed.
      const bare = await createOrder(h, { total: 0 });
      expect(bare).toMatchObject({ external_id: null, account_id: null, description: null, metadata: {}, total: 0 });
    });

    it('refuses bad input with 400 and writes nothing: currency, total, unknown fields, an unknown account', async () => {
      const h = get();
      const post = (body: Json) => () => h.request('POST', '/v1/orders', body);
      await expectRefusal(h, post({ currency: 'usx', total: 100 }), 400, 'invalid_currency');
      await expectRefusal(h, post({ currency: 12, total: 100 }), 400, 'parameter_invalid_type');
      await expectRefusal(h, post({ total: 100 }), 400, 'parameter_missing');
      await expectRefusal(h, post({ currency: 'usd' }), 400, 'parameter_missing');
      await expectRefusal(h, post({ currency: 'usd', total: -1 }), 400, 'invalid_amount');
      await expectRefusal(h, post({ currency: 'usd', total: 1.5 }), 400, 'parameter_invalid_type');
      await expectRefusal(h, post({ currency: 'usd', total: '100' }), 400, 'parameter_invalid_type');
      await expectRefusal(h, post({ currency: 'usd', total: 100, status: 'paid' }), 400, 'parameter_unknown');
      await expectRefusal(h, post({ currency: 'usd', total: 100, external_id: '' }), 400, 'parameter_invalid');
      const error = await expectRefusal(
        h,
        post({ currency: 'usd', total: 100, account_id: 'acc_00000000000000000000000000' }),
        400,
        'unknown_account',
      );
      expect(error.param).toBe('account_id');
    });

    it('external_id is unique: a second order with it is 409 order_exists and writes nothing', async () => {
      const h = get();
      const first = await createOrder(h, { external_id: `dup-${h.kind}` });
      const error = await expectRefusal(
        h,
        () => h.request('POST', '/v1/orders', { external_id: `dup-${h.kind}`, currency: 'usd', total: 5 }),
        409,
        'order_exists',
      );
      expect(error.message).toContain('external_id');
      const listed = await h.request('GET', `/v1/orders?external_id=dup-${h.kind}`);
      expect(listed.body.data.map((o: Json) => o.id)).toEqual([first.id]);
    });

    it('honours an Idempotency-Key: the same request answers the same order once; another body is refused', async () => {
      const h = get();
      const key = { 'Idempotency-Key': `order-${h.kind}` };
      const body = { currency: 'usd', total: 700, external_id: `idem-${h.kind}` };
      const first = await h.request('POST', '/v1/orders', body, key);
      expectStatus(first, 201);
      const before = await rowCounts(h);
      const again = await h.request('POST', '/v1/orders', body, key);
      expectStatus(again, 201);
      expect(again.body).toEqual(first.body);
      expect(await rowCounts(h)).toEqual(before);
      await expectRefusal(
        h,
        () => h.request('POST', '/v1/orders', { ...body, total: 701 }, key),
        409,
        'idempotency_key_reused',
      );
    });

    it('lists newest first, filtered by account_id and external_id, a page at a time', async () => {
      const h = get();
      const acc = await createAccount(h);
      const a = await createOrder(h, { account_id: acc, external_id: `list-${h.kind}-a` });
      const b = await createOrder(h, { account_id: acc });
      const c = await createOrder(h, { account_id: acc });
      await createOrder(h, {}); // another account's (none)
      const all = await h.request('GET', `/v1/orders?account_id=${acc}`);
      expectStatus(all, 200);
      expect(all.body.data.map((o: Json) => o.id)).toEqual([c.id, b.id, a.id]);
      expect(all.body.data[2]).toEqual(a);
      const page1 = await h.request('GET', `/v1/orders?account_id=${acc}&limit=2`);
      expect(page1.body).toMatchObject({ has_more: true, next_cursor: b.id });
      expect(page1.body.data.map((o: Json) => o.id)).toEqual([c.id, b.id]);
      const page2 = await h.request('GET', `/v1/orders?account_id=${acc}&limit=2&starting_after=${b.id}`);
      expect(page2.body).toMatchObject({ has_more: false, next_cursor: null });
      expect(page2.body.data.map((o: Json) => o.id)).toEqual([a.id]);
      const byExternal = await h.request('GET', `/v1/orders?external_id=list-${h.kind}-a`);
      expect(byExternal.body.data.map((o: Json) => o.id)).toEqual([a.id]);
      const foreign = await h.request('GET', `/v1/orders?starting_after=${acc}`);
      expectStatus(foreign, 400);
      expect(foreign.body.error.code).toBe('invalid_cursor');
      expect((await h.request('GET', '/v1/orders?status=open')).status).toBe(400);
    });

    it('404s an unknown order, payment summary, and their gateway logs; PATCH and DELETE are no routes', async () => {
      const h = get();
      for (const path of [
        `/v1/orders/${MISSING_ORDER}`,
        `/v1/orders/${MISSING_ORDER}/payment-summaries`,
        `/v1/orders/${MISSING_ORDER}/gateway-logs`,
        `/v1/payment-summaries/${MISSING_SUMMARY}`,
        `/v1/payment-summaries/${MISSING_SUMMARY}/gateway-logs`,
      ]) {
        const res = await h.request('GET', path);
        expectStatus(res, 404);
        expect(res.body.error.code, path).toBe('resource_missing');
      }
      const order = await createOrder(h);
      expect((await h.request('PATCH', `/v1/orders/${order.id}`, { total: 1 })).status).toBe(404);
      expect((await h.request('DELETE', `/v1/orders/${order.id}`)).status).toBe(404);
      expect((await getOrder(h, order.id)).total).toBe(10000);
    });

    it('transactions take order_id: unknown order 400, another currency 400, nothing written; shown and filtered', async () => {
      const h = get();
      const order = await createOrder(h, { total: 2000 });
      const pm = await createPaymentMethod(h);
      const create = (body: Json) => () =>
        h.request('POST', '/v1/transactions', { amount: 1000, currency: 'USD', payment_method_id: pm, ...body });
      const unknown = await expectRefusal(h, create({ order_id: MISSING_ORDER }), 400, 'unknown_order');
      expect(unknown.param).toBe('order_id');
      await expectRefusal(h, create({ order_id: order.id, currency: 'EUR' }), 400, 'currency_mismatch');
      const charge = await createOrderCharge(h, order.id, pm, 1000);
      expect(charge.order_id).toBe(order.id);
      const other = await createOrderCharge(h, (await createOrder(h)).id, pm, 500);
      const none = await h.request('POST', '/v1/transactions', { amount: 300, currency: 'USD' });
      expect(none.body.order_id).toBeNull();
      const listed = await h.request('GET', `/v1/transactions?order_id=${order.id}`);
      expectStatus(listed, 200);
      expect(listed.body.data.map((t: Json) => t.id)).toEqual([charge.id]);
      expect(listed.body.data[0].order_id).toBe(order.id);
      expect((await h.request('GET', `/v1/transactions?order_id=${other.order_id}`)).body.data).toHaveLength(1);
      // PATCH does not take order_id: the field is unknown, and the transaction keeps its order.
      const patch = await h.request('PATCH', `/v1/transactions/${charge.id}`, { order_id: null });
      expectStatus(patch, 400);
      expect(patch.body.error.code).toBe('parameter_unknown');
      expect((await h.request('GET', `/v1/transactions/${charge.id}`)).body.order_id).toBe(order.id);
      // A clone (and so a reattempt, which clones) stays on the order.
      const clone = await h.request('POST', `/v1/transactions/${charge.id}/clone`);
      expectStatus(clone, 201);
      expect(clone.body.order_id).toBe(order.id);
      // The order's summary for that payment method exists from the commit; an open charge Settle has not sent yet has
      // no gateway attempt, so no record.
      const summaries = (await getOrder(h, order.id)).payment_summaries;
      expect(summaries).toHaveLength(1);
      expect(summaries[0]).toMatchObject({
        payment_method_id: pm,
        authorized_amount: 0,
        captured_amount: 0,
        pending_amount: 0,
        balance: 0,
        authorizations: [],
        payments: [],
        refunds: [],
      });
    });

    it('authorize, capture in part, refund in part: the summary and its platform records exactly, totals, logs', async () => {
      const h = get();
      const order = await createOrder(h, { total: 6000 });
      const pm = await createPaymentMethod(h);
      const charge = await createOrderCharge(h, order.id, pm, 6000, { authorize: true });
      const authorized = await action(h, charge.id, 'authorize');
      expect(authorized).toMatchObject({ status: 'completed', payment_status: 'authorized', order_id: order.id });
      await action(h, charge.id, 'capture', { amount: 4000 });
      const refund = await action(h, charge.id, 'refund', { amount: 1000 });
      // The refund is on the charge's order (the database copies it from its original).
      expect(refund).toMatchObject({ amount: -1000, original_transaction_id: charge.id, order_id: order.id });
      const pi = authorized.gateway_ref.payment_intent as string;
      expect(pi).toMatch(/^pi_/);

      const view = await getOrder(h, order.id);
      expect(view.totals).toEqual([
        expect.objectContaining({
          currency: 'USD',
          authorized_amount: 0,
          captured_amount: 4000,
          refunded_amount: 1000,
          retained_amount: 3000,
          count_completed: 1,
        }),
      ]);
      expect(view.payment_summaries).toHaveLength(1);
      const summary = view.payment_summaries[0];
      expect(summary).toMatchObject({
        id: expect.stringMatching(/^ops_/),
        object: 'order_payment_summary',
        order_id: order.id,
        payment_method_id: pm,
        currency: 'USD',
        authorized_amount: 6000,
        captured_amount: 4000,
        refunded_amount: 1000,
        pending_amount: 0,
        available_to_capture: 0,
        available_to_refund: 3000,
        balance: 3000,
      });
      const record = (kind: string, transactionId: string, amount: number) => ({
        id: expect.stringMatching(/^opr_/),
        object: 'order_payment_record',
        kind,
        transaction_id: transactionId,
        amount,
        status: 'processed',
        result_code: 'success',
        gateway_ref_number: expect.stringMatching(/^settle_gatt_/),
        processing_mode: 'platform',
        payment_intent: pi,
        gateway_date: expect.any(String),
        gateway_log_id: expect.stringMatching(/^glog_/),
        created_at: expect.any(String),
      });
      expect(summary.authorizations).toEqual([record('authorization', charge.id, 6000)]);
      expect(summary.payments).toEqual([record('payment', charge.id, 4000)]);
      expect(summary.refunds).toEqual([record('refund', refund.id, 1000)]);
      const records = [...summary.authorizations, ...summary.payments, ...summary.refunds];
      // Each platform record's reference is the idempotency key Settle sent, as its gateway log entry says.
      const expectedTypes = ['authorization', 'capture', 'referenced_refund'];
      for (const [i, r] of records.entries()) {
        const log = await gatewayLog(h, r.gateway_log_id);
        expect(log).toMatchObject({
          idempotency_key: r.gateway_ref_number,
          interaction_type: expectedTypes[i],
          transaction_id: r.transaction_id,
          order_payment_summary_id: summary.id,
        });
      }

      // The summary alone, and the order's list of them, show the same.
      const one = await h.request('GET', `/v1/payment-summaries/${summary.id}`);
      expectStatus(one, 200);
      expect(one.body).toEqual(summary);
      const list = await h.request('GET', `/v1/orders/${order.id}/payment-summaries`);
      expectStatus(list, 200);
      expect(list.body).toEqual({ object: 'list', data: [summary], has_more: false, next_cursor: null });

      // Both gateway-log lists: the three calls, newest first, each naming the summary; paginated.
      const logIds = records.map((r) => r.gateway_log_id).reverse();
      for (const path of [`/v1/orders/${order.id}/gateway-logs`, `/v1/payment-summaries/${summary.id}/gateway-logs`]) {
        const logs = await h.request('GET', path);
        expectStatus(logs, 200);
        expect(
          logs.body.data.map((l: Json) => l.id),
          path,
        ).toEqual(logIds);
        for (const l of logs.body.data) expect(l.order_payment_summary_id).toBe(summary.id);
        const page1 = await h.request('GET', `${path}?limit=2`);
        expect(page1.body).toMatchObject({ has_more: true, next_cursor: logIds[1] });
        const page2 = await h.request('GET', `${path}?limit=2&starting_after=${logIds[1]}`);
        expect(page2.body.data.map((l: Json) => l.id)).toEqual([logIds[2]]);
        const filtered = await h.request('GET', `${path}?interaction_type=capture`);
        expect(filtered.body.data.map((l: Json) => l.id)).toEqual([logIds[1]]);
      }
      // GET /v1/gateway-logs shows the field and filters on it.
      const byField = await h.request('GET', `/v1/gateway-logs?order_payment_summary_id=${summary.id}`);
      expect(byField.body.data.map((l: Json) => l.id)).toEqual(logIds);
      const charges = await h.request('GET', `/v1/transactions/${charge.id}/gateway-logs`);
      expect(charges.body.data[0].order_payment_summary_id).toBe(summary.id);
      // A refund created by hand belongs to its charge's order: naming another is refused, and writes nothing.
      const elsewhere = await createOrder(h);
      const mismatch = await expectRefusal(
        h,
        () =>
          h.request('POST', '/v1/transactions', {
            transaction_type: 'refund',
            amount: -100,
            currency: 'USD',
            original_transaction_id: charge.id,
            order_id: elsewhere.id,
          }),
        400,
        'order_mismatch',
      );
      expect(mismatch.param).toBe('order_id');
      expect(await getOrder(h, order.id)).toEqual(view);
    });

    it('two payment methods on one order: two summaries, each with its own records and gateway logs', async () => {
      const h = get();
      const order = await createOrder(h, { total: 5000 });
      const visa = await createPaymentMethod(h, 'pm_card_visa');
      const mastercard = await createPaymentMethod(h, 'pm_card_mastercard');
      const first = await createOrderCharge(h, order.id, visa, 3000);
      const second = await createOrderCharge(h, order.id, mastercard, 2000);
      await action(h, first.id, 'capture');
      await action(h, second.id, 'capture');
      const view = await getOrder(h, order.id);
      expect(view.payment_summaries.map((s: Json) => [s.payment_method_id, s.captured_amount, s.balance])).toEqual([
        [visa, 3000, 3000],
        [mastercard, 2000, 2000],
      ]);
      for (const [i, s] of view.payment_summaries.entries()) {
        const charge = [first, second][i]!;
        expect(s.authorizations).toEqual([]);
        expect(s.refunds).toEqual([]);
        expect(s.payments).toEqual([
          expect.objectContaining({
            kind: 'payment',
            transaction_id: charge.id,
            amount: charge.amount,
            status: 'processed',
            processing_mode: 'platform',
            gateway_ref_number: expect.stringMatching(/^settle_gatt_/),
          }),
        ]);
        const logs = await h.request('GET', `/v1/payment-summaries/${s.id}/gateway-logs`);
        expect(logs.body.data.map((l: Json) => l.id)).toEqual([s.payments[0].gateway_log_id]);
      }
      expect(view.totals).toEqual([expect.objectContaining({ captured_amount: 5000, count_completed: 2 })]);
      const orderLogs = await h.request('GET', `/v1/orders/${order.id}/gateway-logs`);
      expect(orderLogs.body.data.map((l: Json) => l.order_payment_summary_id)).toEqual(
        view.payment_summaries.map((s: Json) => s.id).reverse(),
      );
      // Another order's list shows none of them.
      const empty = await createOrder(h);
      expect((await h.request('GET', `/v1/orders/${empty.id}/gateway-logs`)).body.data).toEqual([]);
      expect((await h.request('GET', `/v1/orders/${empty.id}/payment-summaries`)).body.data).toEqual([]);
      // The list of orders carries each order's summaries too.
      const page = await h.request('GET', `/v1/orders?starting_after=${empty.id}&limit=1`);
      expect(page.body.data).toEqual([view]);
    });
  },
  { emulator: true },
);
