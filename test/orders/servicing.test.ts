// Ensure funds and ensure refunds (issue 20, O4) through the Stripe emulator: POST /v1/orders/{id}/capture captures
// an amount across the order's authorizations (whole ones oldest first, then one partial whose rest the gateway
// releases), POST /v1/orders/{id}/refund refunds an amount across its payments newest first. Each action is the
// ordinary exactly-once gateway action, so the summaries, the platform records and the totals follow at commit.
// Refusals write nothing; an Idempotency-Key replays the response without a gateway call; one refused or unanswered
// call is reported on its item while the others go through.
import { setTimeout } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { recoverInFlight } from '../../src/app/processing/recover.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import {
  amounts,
  authorizedCharge,
  authorizedOrder,
  countRows,
  createPaymentMethod,
  emulatorOf,
  expectError,
  expectExact,
  expectReplay,
  expectRefusal as expectRefusalOf,
  expectStatus,
  gatewayMark,
  getTransaction,
  newOrder,
  orderActions,
  stripeOf,
  summaries,
  type Json,
} from './support.js';

const COUNTED = ['transactions', 'gateway_attempts', 'order_payment_records', 'idempotency_keys'] as const;

const rowCounts = (h: Harness) => countRows(h, COUNTED);

/** A refusal here writes nothing and calls nothing. */
const expectRefusal = (h: Harness, refused: Parameters<typeof expectRefusalOf>[1], status: number, code: string) =>
  expectRefusalOf(h, refused, status, code, { tables: COUNTED, noGatewayCall: true });

function summaryOf(list: Json[], pm: string): Json {
  const found = list.find((s) => s.payment_method_id === pm);
  if (!found) throw new Error(`no summary for ${pm}`);
  return found;
}

async function attemptKey(h: Harness, transactionId: string, action: 'capture' | 'refund'): Promise<string> {
  const row = await h.deps.db
    .selectFrom('gateway_attempts')
    .select('idempotency_key')
    .where('transaction_id', '=', transactionId)
    .where('action', '=', action)
    .executeTakeFirstOrThrow();
  return row.idempotency_key;
}

describeEachDatabase(
  'order ensure funds and ensure refunds',
  (get) => {
    const { capture, refund } = orderActions(get);

    afterEach(() => {
      emulatorOf(get()).controls.clearFaults();
    });

    it('captures across two payment methods: whole authorizations oldest first, then one partial whose rest is released', async () => {
      const h = get();
      const order = await newOrder(h);
      const pm1 = await createPaymentMethod(h);
      const pm2 = await createPaymentMethod(h, 'pm_card_mastercard');
      const a1 = await authorizedCharge(h, order, pm1, 3000);
      const b1 = await authorizedCharge(h, order, pm2, 2000);
      const a2 = await authorizedCharge(h, order, pm1, 4000);
      const before = await summaries(h, order);
      expect(amounts(summaryOf(before, pm1))).toMatchObject({ authorized_amount: 7000, available_to_capture: 7000 });
      expect(amounts(summaryOf(before, pm2))).toMatchObject({ authorized_amount: 2000, available_to_capture: 2000 });

      const res = await capture(order, { amount: 6000 });
      expectStatus(res, 200);
      const s1 = summaryOf(res.body.payment_summaries, pm1).id;
      const s2 = summaryOf(res.body.payment_summaries, pm2).id;
      expect(res.body).toMatchObject({
        object: 'order_capture',
        order_id: order,
        amount: 6000,
        captured_amount: 6000,
        pending_amount: 0,
      });
      expect(res.body.captures).toEqual([
        {
          transaction_id: a1.id,
          payment_method_id: pm1,
          payment_summary_id: s1,
          amount: 3000,
          released_amount: 0,
          status: 'succeeded',
          status_code: 200,
          error: null,
        },
        {
          transaction_id: b1.id,
          payment_method_id: pm2,
          payment_summary_id: s2,
          amount: 2000,
          released_amount: 0,
          status: 'succeeded',
          status_code: 200,
          error: null,
        },
        {
          transaction_id: a2.id,
          payment_method_id: pm1,
          payment_summary_id: s1,
          amount: 1000,
          released_amount: 3000,
          status: 'succeeded',
          status_code: 200,
          error: null,
        },
      ]);
      // The summaries in the response are the ones after every outcome, as GET shows them.
      const after = await summaries(h, order);
      expect(res.body.payment_summaries).toEqual(after);
      expect(amounts(summaryOf(after, pm1))).toEqual({
        authorized_amount: 7000,
        captured_amount: 4000,
        refunded_amount: 0,
        pending_amount: 0,
        available_to_capture: 0,
        available_to_refund: 4000,
        balance: 4000,
      });
      expect(amounts(summaryOf(after, pm2))).toEqual({
        authorized_amount: 2000,
        captured_amount: 2000,
        refunded_amount: 0,
        pending_amount: 0,
        available_to_capture: 0,
        available_to_refund: 2000,
        balance: 2000,
      });
      // One platform payment record per capture, named by the capture attempt's own gateway key.
      for (const [id, pm, amount] of [
        [a1.id, pm1, 3000],
        [b1.id, pm2, 2000],
        [a2.id, pm1, 1000],
      ] as const) {
        const payments = summaryOf(after, pm).payments.filter((r: Json) => r.transaction_id === id);
        expect(payments).toHaveLength(1);
        expect(payments[0]).toMatchObject({
          kind: 'payment',
          amount,
          status: 'processed',
          processing_mode: 'platform',
          gateway_ref_number: await attemptKey(h, id, 'capture'),
        });
        expect(payments[0].gateway_ref_number).toMatch(/^settle_gatt_/);
      }
      // The transactions and the gateway agree: the partial capture's rest was released.
      const partial = await getTransaction(h, a2.id);
      expect([partial.status, partial.payment_status, partial.captured_amount]).toEqual([
        'completed',
        'partially_captured',
        1000,
      ]);
      const stripe = stripeOf(h);
      for (const [id, received] of [
        [a1.id, 3000],
        [b1.id, 2000],
        [a2.id, 1000],
      ] as const) {
        const pi = await stripe.paymentIntents.retrieve((await getTransaction(h, id)).gateway_ref.payment_intent);
        expect([pi.status, pi.amount_received, pi.amount_capturable]).toEqual(['succeeded', received, 0]);
      }
      // Nothing is left to capture.
      const error = await expectRefusal(h, () => capture(order, { amount: 1 }), 400, 'amount_exceeds_available');
      expect(error.param).toBe('amount');
      await expectExact(h);
    });

    it('an authorization that fits whole is taken before an older one that would be split', async () => {
      const h = get();
      const {
        order,
        charges: [big, small],
      } = await authorizedOrder(h, [5000, 1000]);
      const res = await capture(order, { amount: 2000 });
      expectStatus(res, 200);
      expect(res.body.captures.map((c: Json) => [c.transaction_id, c.amount, c.released_amount])).toEqual([
        [small.id, 1000, 0],
        [big.id, 1000, 4000],
      ]);
      const [summary] = res.body.payment_summaries as Json[];
      expect(amounts(summary!)).toMatchObject({
        authorized_amount: 6000,
        captured_amount: 2000,
        available_to_capture: 0,
      });
      await expectExact(h);
    });

    it('payment_summary_id captures from that summary only; an unknown or another order’s summary is refused', async () => {
      const h = get();
      const order = await newOrder(h);
      const other = await newOrder(h);
      const pm1 = await createPaymentMethod(h);
      const pm2 = await createPaymentMethod(h);
      const a = await authorizedCharge(h, order, pm1, 3000);
      const b = await authorizedCharge(h, order, pm2, 5000);
      await authorizedCharge(h, other, pm1, 1000);
      const list = await summaries(h, order);
      const s1 = summaryOf(list, pm1).id;
      const s2 = summaryOf(list, pm2).id;
      const otherSummary = summaryOf(await summaries(h, other), pm1).id;

      await expectRefusal(
        h,
        () => capture(order, { amount: 3001, payment_summary_id: s1 }),
        400,
        'amount_exceeds_available',
      );
      await expectRefusal(
        h,
        () => capture(order, { amount: 100, payment_summary_id: 'ops_00000000000000000000000000' }),
        404,
        'resource_missing',
      );
      const foreign = await expectRefusal(
        h,
        () => capture(order, { amount: 100, payment_summary_id: otherSummary }),
        400,
        'payment_summary_not_of_order',
      );
      expect(foreign.param).toBe('payment_summary_id');

      // The oldest authorization (pm1's) would come first without the summary; with it, only pm2's is used.
      const res = await capture(order, { amount: 4000, payment_summary_id: s2 });
      expectStatus(res, 200);
      expect(res.body.captures).toMatchObject([
        { transaction_id: b.id, payment_summary_id: s2, amount: 4000, released_amount: 1000, status: 'succeeded' },
      ]);
      const after = await summaries(h, order);
      expect(amounts(summaryOf(after, pm2))).toMatchObject({
        authorized_amount: 5000,
        captured_amount: 4000,
        available_to_capture: 0,
      });
      expect(amounts(summaryOf(after, pm1))).toMatchObject({
        authorized_amount: 3000,
        captured_amount: 0,
        available_to_capture: 3000,
      });
      expect((await getTransaction(h, a.id)).payment_status).toBe('authorized');
      expect(summaryOf(after, pm1).id).toBe(s1);
      await expectExact(h);
    });

    it('refunds across two payments newest first, each for what it can still refund; platform refund records', async () => {
      const h = get();
      const order = await newOrder(h);
      const pm1 = await createPaymentMethod(h);
      const pm2 = await createPaymentMethod(h);
      const c1 = await authorizedCharge(h, order, pm1, 3000);
      const c2 = await authorizedCharge(h, order, pm2, 2000);
      expectStatus(await capture(order, { amount: 5000 }), 200);

      const res = await refund(order, { amount: 2500 });
      expectStatus(res, 200);
      const refunds = res.body.refunds as Json[];
      expect(res.body).toMatchObject({ object: 'order_refund', order_id: order, amount: 2500, refunded_amount: 2500 });
      expect(refunds.map((r) => [r.charge_transaction_id, r.amount, r.status, r.status_code, r.error])).toEqual([
        [c2.id, 2000, 'succeeded', 201, null],
        [c1.id, 500, 'succeeded', 201, null],
      ]);
      const after = await summaries(h, order);
      expect(res.body.payment_summaries).toEqual(after);
      expect(refunds.map((r) => r.payment_summary_id)).toEqual([summaryOf(after, pm2).id, summaryOf(after, pm1).id]);
      expect(amounts(summaryOf(after, pm2))).toMatchObject({
        captured_amount: 2000,
        refunded_amount: 2000,
        available_to_refund: 0,
        balance: 0,
      });
      expect(amounts(summaryOf(after, pm1))).toMatchObject({
        captured_amount: 3000,
        refunded_amount: 500,
        available_to_refund: 2500,
        balance: 2500,
      });
      for (const [r, pm] of [
        [refunds[0]!, pm2],
        [refunds[1]!, pm1],
      ] as const) {
        const t = await getTransaction(h, r.transaction_id);
        expect([t.transaction_type, t.amount, t.status, t.original_transaction_id, t.order_id]).toEqual([
          'refund',
          -r.amount,
          'completed',
          r.charge_transaction_id,
          order,
        ]);
        const records = summaryOf(after, pm).refunds.filter((x: Json) => x.transaction_id === r.transaction_id);
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({
          kind: 'refund',
          amount: r.amount,
          status: 'processed',
          processing_mode: 'platform',
          gateway_ref_number: await attemptKey(h, r.transaction_id, 'refund'),
        });
        expect(records[0].gateway_ref_number).toMatch(/^settle_gatt_/);
      }
      // At the gateway: what each PaymentIntent's charge had refunded.
      const stripe = stripeOf(h);
      for (const [id, refunded] of [
        [c1.id, 500],
        [c2.id, 2000],
      ] as const) {
        const pi = await stripe.paymentIntents.retrieve((await getTransaction(h, id)).gateway_ref.payment_intent);
        const charge = await stripe.charges.retrieve(pi.latest_charge as string);
        expect(charge.amount_refunded).toBe(refunded);
      }
      await expectRefusal(h, () => refund(order, { amount: 2501 }), 400, 'amount_exceeds_refundable');
      // The rest, exactly: all from the older payment.
      const rest = await refund(order, { amount: 2500 });
      expectStatus(rest, 200);
      expect(rest.body.refunds.map((r: Json) => [r.charge_transaction_id, r.amount])).toEqual([[c1.id, 2500]]);
      await expectRefusal(h, () => refund(order, { amount: 1 }), 400, 'amount_exceeds_refundable');
      await expectExact(h);
    });

    it('refuses bad amounts, too much and an unknown order, writing nothing (with an Idempotency-Key too)', async () => {
      const h = get();
      const { order } = await authorizedOrder(h, [2000]);
      const key = (name: string) => `refused-${h.kind}-${name}-${order}`;
      for (const [name, act] of [
        ['capture', capture],
        ['refund', refund],
      ] as const) {
        await expectRefusal(h, () => act(order, { amount: 0 }, key(`${name}-zero`)), 400, 'invalid_amount');
        await expectRefusal(h, () => act(order, { amount: -100 }), 400, 'invalid_amount');
        await expectRefusal(h, () => act(order, { amount: 10.5 }), 400, 'invalid_amount');
        await expectRefusal(h, () => act(order, { amount: '100' }), 400, 'invalid_amount');
        await expectRefusal(h, () => act(order, {}), 400, 'parameter_missing');
        await expectRefusal(h, () => act(order, { amount: 100, extra: 1 }), 400, 'parameter_unknown');
        await expectRefusal(
          h,
          () => act('ord_00000000000000000000000000', { amount: 100 }, key(`${name}-unknown`)),
          404,
          'resource_missing',
        );
      }
      await expectRefusal(h, () => capture(order, { amount: 2001 }, key('too-much')), 400, 'amount_exceeds_available');
      // The one partial capture is checked like any capture: below Stripe's minimum (0.50 USD) it is refused.
      await expectRefusal(h, () => capture(order, { amount: 20 }), 400, 'amount_too_small');
      // Nothing is captured yet, so nothing can be refunded.
      await expectRefusal(h, () => refund(order, { amount: 1 }, key('nothing')), 400, 'amount_exceeds_refundable');
      // A refused request stored nothing under its key: the same key with another body runs that request.
      const ok = await capture(order, { amount: 2000 }, key('too-much'));
      expectStatus(ok, 200);
      expect(ok.body).toMatchObject({ captured_amount: 2000 });
      await expectExact(h);
    });

    it('an Idempotency-Key replays the same body and calls nothing; the key with another body is refused', async () => {
      const h = get();
      const { order } = await authorizedOrder(h, [3000]);
      const key = `ensure-${h.kind}-${order}`;
      const first = await capture(order, { amount: 1000 }, key);
      expectStatus(first, 200);
      const counts = await rowCounts(h);
      const requests = gatewayMark(h);
      const again = await capture(order, { amount: 1000 }, key);
      expectStatus(again, 200);
      expectReplay(again, first.body);
      expect(await rowCounts(h)).toEqual(counts);
      expect(gatewayMark(h)).toBe(requests);
      await expectRefusal(h, () => capture(order, { amount: 999 }, key), 409, 'idempotency_key_reused');

      const refundKey = `ensure-refund-${h.kind}-${order}`;
      const r1 = await refund(order, { amount: 400 }, refundKey);
      expectStatus(r1, 200);
      const afterRefund = await rowCounts(h);
      expectReplay(await refund(order, { amount: 400 }, refundKey), r1.body);
      expect(await rowCounts(h)).toEqual(afterRefund);
      const [summary] = await summaries(h, order);
      expect(amounts(summary!)).toMatchObject({ captured_amount: 1000, refunded_amount: 400, balance: 600 });
      await expectExact(h);
    });

    it('the same Idempotency-Key while the first request is at the gateway: 409 idempotency_key_in_use, nothing more', async () => {
      const h = get();
      const {
        order,
        charges: [a],
      } = await authorizedOrder(h, [3000]);
      const controls = emulatorOf(h).controls;
      const path = `/v1/payment_intents/${a.gateway_ref.payment_intent}/capture`;
      // Held long enough (2 s) for the few local statements below to run while it waits.
      controls.injectFault({ method: 'POST', path, kind: 'delay', delayMs: 2000 });
      const key = `in-use-${h.kind}-${order}`;
      const mark = gatewayMark(h);
      const first = capture(order, { amount: 3000 }, key);
      // Wait until the capture reached the gateway: tx1 has committed and the key is `running`.
      while (
        !controls
          .requestLog()
          .slice(mark)
          .some((e) => e.path === path)
      )
        await setTimeout(5);
      const attempts = await rowCounts(h);
      expectError(await capture(order, { amount: 3000 }, key), 409, 'idempotency_key_in_use');
      // Another request on the order meanwhile: the authorization is being captured, so nothing is available.
      await expectRefusal(h, () => capture(order, { amount: 1 }), 400, 'amount_exceeds_available');
      expect(await rowCounts(h)).toEqual(attempts);
      const done = await first;
      expectStatus(done, 200);
      expect(done.body.captures).toMatchObject([{ transaction_id: a.id, amount: 3000, status: 'succeeded' }]);
      expectReplay(await capture(order, { amount: 3000 }, key), done.body);
      await expectExact(h);
    });

    it('a capture the gateway refuses is reported on its item and the others go through; a lost answer is pending', async () => {
      const h = get();
      const {
        order,
        charges: [a, b, c],
      } = await authorizedOrder(h, [1000, 2000, 3000]);
      const controls = emulatorOf(h).controls;
      // b: rate limited on every try (the adapter resends a 429 twice): nothing happened, so it is back to authorized.
      controls.injectFault({
        method: 'POST',
        path: `/v1/payment_intents/${b.gateway_ref.payment_intent}/capture`,
        kind: 'rate_limit',
        times: 3,
      });
      // c: the answer is lost twice (the SDK resends once on a dropped connection): the outcome is unknown.
      controls.injectFault({
        method: 'POST',
        path: `/v1/payment_intents/${c.gateway_ref.payment_intent}/capture`,
        kind: 'drop_response',
        times: 2,
      });
      const res = await capture(order, { amount: 6000 });
      expectStatus(res, 200);
      expect(res.body).toMatchObject({ captured_amount: 1000, pending_amount: 3000 });
      expect(
        res.body.captures.map((x: Json) => [x.transaction_id, x.status, x.status_code, x.released_amount]),
      ).toEqual([
        [a.id, 'succeeded', 200, 0],
        [b.id, 'failed', 503, 0],
        [c.id, 'pending', 202, null],
      ]);
      expect(res.body.captures[1].error).toMatchObject({ code: 'gateway_unavailable' });
      expect((await getTransaction(h, b.id)).payment_status).toBe('authorized');
      expect((await getTransaction(h, c.id)).status).toBe('process');
      const [during] = await summaries(h, order);
      expect(amounts(during!)).toMatchObject({
        captured_amount: 1000,
        pending_amount: 3000,
        available_to_capture: 2000,
      });
      // A capture in flight is not available: only b's 2000 can be asked for now.
      await expectRefusal(h, () => capture(order, { amount: 2001 }), 400, 'amount_exceeds_available');
      // Recovery replays c's capture with its key and applies what the gateway did, once.
      expect(await recoverInFlight(h.deps)).toMatchObject({ applied: 1, errors: [] });
      const [after] = await summaries(h, order);
      expect(amounts(after!)).toMatchObject({ captured_amount: 4000, pending_amount: 0, available_to_capture: 2000 });
      expectStatus(await capture(order, { amount: 2000 }), 200);
      const [last] = await summaries(h, order);
      expect(amounts(last!)).toMatchObject({ authorized_amount: 6000, captured_amount: 6000, available_to_capture: 0 });
      await expectExact(h);
    });
  },
  { emulator: true },
);
