// Checkout payments attached by webhook (issue 20): a PaymentIntent a storefront made (real SDK, emulator) whose
// metadata names an order (settle_order_id or order_external_id) is recorded on that order when its events are
// delivered: the external charge with order_id, the order's account, a one-time payment method and `authorize` per
// capture_method; the database then makes the summary and records. An order that does not exist or is in another
// currency: the payment is recorded without order, and its history says why.
import { expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { deliverSince, markEvents } from '../totals/support.js';
import {
  chargeOf,
  checkout as checkoutWith,
  countOf,
  countRows,
  createAccount,
  createOrder,
  getOrder,
  stripeOf,
  uniqueExternalId,
  type Json,
} from './support.js';

let customers = 0;

/** An order of a new customer's account, with an external_id. */
async function order(h: Harness, fields: Json = {}): Promise<Json> {
  customers += 1;
  const account = await createAccount(h, `Shop customer ${customers}`);
  return createOrder(h, { external_id: uniqueExternalId(h, 'web'), account_id: account, ...fields });
}

/** A storefront's checkout whose PaymentIntent carries `metadata`. */
const checkout = (
  h: Harness,
  amount: number,
  captureMethod: 'manual' | 'automatic',
  metadata: Record<string, string> = {},
) => checkoutWith(h, amount, captureMethod, { metadata });

async function historyOf(h: Harness, id: string): Promise<string[]> {
  const rows = await h.deps.db
    .selectFrom('transaction_history')
    .select('action')
    .where('transaction_id', '=', id)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.action);
}

const summariesOf = async (h: Harness, orderId: string): Promise<Json[]> =>
  (await getOrder(h, orderId)).payment_summaries;

describeEachDatabase(
  'checkout payments attached by webhook',
  (get) => {
    it('settle_order_id, authorized at checkout: an external authorization on the order', async () => {
      const h = get();
      const o = await order(h, { total: 6400 });
      const mark = await markEvents(h);
      const pi = await checkout(h, 6400, 'manual', { settle_order_id: o.id });
      await deliverSince(h, mark);
      const t = await chargeOf(h, pi.id);
      expect(t).toMatchObject({
        order_id: o.id,
        account_id: o.account_id,
        processing_mode: 'external',
        status: 'completed',
        payment_status: 'authorized',
        authorize: true,
        source: 'webhook',
      });
      const pm = await h.request('GET', `/v1/payment-methods/${t.payment_method_id}`);
      expect(pm.body).toMatchObject({ status: 'one_time', gateway_token: pi.payment_method, account_id: o.account_id });
      expect((await historyOf(h, t.id))[0]).toContain(`on order ${o.id}`);
      const [s, more] = await summariesOf(h, o.id);
      expect(more).toBeUndefined();
      expect(s).toMatchObject({ authorized_amount: 6400, available_to_capture: 6400, captured_amount: 0 });
      expect(s!.authorizations).toEqual([
        expect.objectContaining({ processing_mode: 'external', gateway_ref_number: pi.id, status: 'processed' }),
      ]);
      expect(s!.payments).toEqual([]);
      // Delivered again: nothing created twice.
      const before = await countRows(h, ['transactions', 'payment_methods']);
      await deliverSince(h, mark);
      expect(await countRows(h, ['transactions', 'payment_methods'])).toEqual(before);
      expect(await summariesOf(h, o.id)).toEqual([s]);
    });

    it('order_external_id, captured at checkout: an external payment referenced by its balance transaction', async () => {
      const h = get();
      const o = await order(h, { total: 3300 });
      const mark = await markEvents(h);
      const pi = await checkout(h, 3300, 'automatic', { order_external_id: o.external_id });
      await deliverSince(h, mark);
      const t = await chargeOf(h, pi.id);
      expect(t).toMatchObject({ order_id: o.id, authorize: false, payment_status: 'captured', captured_amount: 3300 });
      const charge = await stripeOf(h).charges.retrieve(pi.latest_charge as string);
      const [s] = await summariesOf(h, o.id);
      expect(s).toMatchObject({ captured_amount: 3300, authorized_amount: 0, balance: 3300 });
      expect(s!.payments).toEqual([
        expect.objectContaining({
          processing_mode: 'external',
          status: 'processed',
          gateway_ref_number: charge.balance_transaction,
          payment_intent: pi.id,
        }),
      ]);
    });

    it('an order that does not exist: the payment is recorded without order, and the history says so', async () => {
      const h = get();
      const mark = await markEvents(h);
      const methods = await countOf(h, 'payment_methods');
      const pi = await checkout(h, 1500, 'automatic', { settle_order_id: 'ord_doesnotexist' });
      await deliverSince(h, mark);
      const t = await chargeOf(h, pi.id);
      expect(t).toMatchObject({ order_id: null, processing_mode: 'external', payment_status: 'captured' });
      expect(t.payment_method_id).toBeNull();
      expect(await countOf(h, 'payment_methods')).toBe(methods);
      const [created] = await historyOf(h, t.id);
      expect(created).toContain('without order');
      expect(created).toContain('ord_doesnotexist');
      const byExternal = await checkout(h, 1500, 'automatic', { order_external_id: 'no-such-order' });
      await deliverSince(h, mark);
      const u = await chargeOf(h, byExternal.id);
      expect(u.order_id).toBeNull();
      expect((await historyOf(h, u.id))[0]).toContain('order_external_id no-such-order');
    });

    it('an order in another currency: recorded without order', async () => {
      const h = get();
      const o = await order(h, { currency: 'eur', total: 5000 });
      const mark = await markEvents(h);
      const pi = await checkout(h, 2000, 'automatic', { settle_order_id: o.id });
      await deliverSince(h, mark);
      const t = await chargeOf(h, pi.id);
      expect(t.order_id).toBeNull();
      expect((await historyOf(h, t.id))[0]).toContain(`${o.id}) is in EUR, the payment in USD`);
      expect(await summariesOf(h, o.id)).toEqual([]);
    });

    it('an external charge recorded without order is put on the order its metadata names later', async () => {
      const h = get();
      const o = await order(h, { total: 8000 });
      const mark = await markEvents(h);
      const pi = await checkout(h, 8000, 'manual');
      await deliverSince(h, mark);
      const seen = await chargeOf(h, pi.id);
      expect(seen).toMatchObject({ order_id: null, authorize: true, payment_method_id: null });
      // The storefront names the order, then captures: the capture's events are read and the charge is attached.
      const later = await markEvents(h);
      await stripeOf(h).paymentIntents.update(pi.id, { metadata: { settle_order_id: o.id } });
      await stripeOf(h).paymentIntents.capture(pi.id);
      await deliverSince(h, later);
      const t = await chargeOf(h, pi.id);
      expect(t).toMatchObject({ id: seen.id, order_id: o.id, account_id: o.account_id, payment_status: 'captured' });
      expect(t.payment_method_id).not.toBeNull();
      expect(await historyOf(h, t.id)).toContainEqual(expect.stringContaining(`put on order ${o.id}`));
      const [s] = await summariesOf(h, o.id);
      // Authorized at checkout, captured at the gateway: an external authorization (captured in full, nothing left
      // to capture) and an external payment.
      expect(s).toMatchObject({ authorized_amount: 8000, captured_amount: 8000, available_to_capture: 0 });
      expect(s!.authorizations).toHaveLength(1);
      expect(s!.payments).toHaveLength(1);
    });
  },
  { emulator: true },
);
