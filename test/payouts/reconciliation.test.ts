// Payout reconciliation (M2) through the real SDK and adapter against the emulator: a day of charges, a partial
// capture, a refund and a dispute with its fee, paid out and reconciled to the cent; a payout holding a charge Settle
// never saw, flagged; a reconcile run twice writing nothing; a failed payout and the later payout that returns its
// funds; a manual payout not_applicable; each refusal a 4xx that writes nothing. The suite's steps share one
// emulator and database, in order (each payout holds what the balance had when it ran).
import { expect, it } from 'vitest';
import { runPayoutReconciliation } from '../../src/app/payouts/reconcile-due.js';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { allEmulatorEvents, emulatorOf, type EventLike, storeStripeEvent, stripeFor } from '../webhooks/store-event.js';

const DAY = 24 * 3600 * 1000;

type Json = Record<string, unknown>;

const markNow = async (h: Harness) => new Set((await allEmulatorEvents(h)).map((e) => e.id));

/** Stores and applies the emulator's events made since `mark`, oldest first; none may fail. */
async function deliverSince(h: Harness, mark: Set<string>): Promise<void> {
  const events: EventLike[] = (await allEmulatorEvents(h)).filter((e) => !mark.has(e.id));
  const ids: string[] = [];
  for (const event of events) ids.push(await storeStripeEvent(h, event));
  if (ids.length === 0) return;
  const summary = await processWebhookEvents(h.deps, { ids: [...new Set(ids)] });
  expect(summary.failed).toBe(0);
}

async function paymentMethod(h: Harness, token: string): Promise<string> {
  const res = await h.request('POST', '/v1/payment-methods', {
    gateway_token: token,
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function charge(h: Harness, pm: string, amount: number, action: 'capture' | 'authorize' = 'capture') {
  const created = await h.request('POST', '/v1/transactions', { amount, currency: 'usd', payment_method_id: pm });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const res = await h.request('POST', `/v1/transactions/${created.body.id}/${action}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Json & { id: string };
}

/** Pays out the available balance (3 days on, so the charges are available) and lets it arrive (3 more days). */
async function payOut(h: Harness): Promise<string[]> {
  const mark = await markNow(h);
  const emulator = emulatorOf(h).controls;
  emulator.advanceClock(3 * DAY);
  const made = emulator.runPayouts().map((p) => p.id as string);
  emulator.advanceClock(3 * DAY);
  await deliverSince(h, mark);
  const events = (await allEmulatorEvents(h)).filter((e) => !mark.has(e.id) && e.type === 'payout.created');
  return [...new Set([...made, ...events.map((e) => e.data.object.id)])];
}

async function payoutTransaction(h: Harness, gatewayPayout: string) {
  return h.deps.db
    .selectFrom('transactions')
    .selectAll()
    .where('gateway_payout', '=', gatewayPayout)
    .executeTakeFirstOrThrow();
}

async function allItems(h: Harness, payoutId: string): Promise<Json[]> {
  const out: Json[] = [];
  let after: string | null = null;
  for (;;) {
    const res = await h.request(
      'GET',
      `/v1/payouts/${payoutId}/items?limit=2${after === null ? '' : `&starting_after=${after}`}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    out.push(...(res.body.data as Json[]));
    if (!res.body.has_more) return out;
    after = res.body.next_cursor as string;
  }
}

const count = async (h: Harness, table: 'transaction_history' | 'payout_items' | 'transactions') =>
  Number(
    (
      await h.deps.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

const get = async (h: Harness, id: string) => (await h.request('GET', `/v1/transactions/${id}`)).body as Json;

describeEachDatabase(
  'payout reconciliation against the emulator',
  (harness) => {
    let dayPayout = '';

    it('a day of charges, a partial capture, a refund and a dispute with its fee, paid out and reconciled to the cent', async () => {
      const h = harness();
      const visa = await paymentMethod(h, 'pm_card_visa');
      const mark = await markNow(h);
      const plain = await charge(h, visa, 10000);
      const held = await charge(h, visa, 5000, 'authorize');
      const partial = await h.request('POST', `/v1/transactions/${held.id}/capture`, { amount: 3000 });
      expect(partial.status, JSON.stringify(partial.body)).toBe(200);
      const refunded = await charge(h, visa, 7000);
      // A refund made in the Dashboard: Settle records it from its events.
      const refund = emulatorOf(h).controls.dashboardRefund({
        payment_intent: refunded.gateway_ref ? ((refunded.gateway_ref as Json).payment_intent as string) : '',
        amount: 2000,
      });
      const disputed = await charge(h, await paymentMethod(h, 'pm_card_createDispute'), 8000);
      await deliverSince(h, mark);
      const refundId = (
        await h.deps.db
          .selectFrom('transactions')
          .select('id')
          .where('gateway_refund', '=', refund.id as string)
          .executeTakeFirstOrThrow()
      ).id;
      const fee = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('record_type', '=', 'adjustment')
        .where('original_transaction_id', '=', disputed.id)
        .executeTakeFirstOrThrow();

      const payouts = await payOut(h);
      expect(payouts).toHaveLength(1);
      const payout = await payoutTransaction(h, payouts[0]!);
      dayPayout = payout.id;
      const before = (await h.request('GET', `/v1/payouts/${payout.id}`)).body as Json;
      expect(before).toMatchObject({ reconciliation_status: 'pending', gateway_reconciliation_status: 'completed' });

      // The job takes the due payout.
      const run = await runPayoutReconciliation(h.deps, 'job:payout_reconciliation');
      expect(run).toMatchObject({ picked: 1, succeeded: 1, failed: 0 });
      const shown = (await h.request('GET', `/v1/payouts/${payout.id}`)).body as Json;
      expect(shown, JSON.stringify(shown)).toMatchObject({
        object: 'payout',
        status: 'paid',
        reconciliation_status: 'reconciled',
        amount: payout.amount,
        items_total: payout.amount,
        unmatched_count: 0,
        missing_count: 0,
        mismatch_reason: null,
      });

      const items = await allItems(h, payout.id);
      expect(items).toHaveLength(shown.items_count as number);
      expect(items.reduce((sum, i) => sum + (i.net as number), 0)).toBe(payout.amount);
      expect(items.every((i) => i.type !== 'payout')).toBe(true);
      const byType = (type: string, category: string) =>
        items.filter((i) => i.type === type && i.reporting_category === category);
      expect(
        byType('charge', 'charge')
          .map((i) => i.transaction_id)
          .sort(),
      ).toEqual([plain.id, held.id, refunded.id, disputed.id].sort());
      expect(byType('refund', 'partial_capture_reversal')).toEqual([
        expect.objectContaining({ transaction_id: held.id, net: -2000, unmatched_reason: null }),
      ]);
      expect(byType('refund', 'refund')).toEqual([expect.objectContaining({ transaction_id: refundId, net: -2000 })]);
      const dispute = items.filter((i) => i.reporting_category === 'dispute');
      expect(dispute).toEqual([
        expect.objectContaining({ transaction_id: disputed.id, fee_transaction_id: fee.id, amount: -8000, fee: 1500 }),
      ]);
      for (const id of [plain.id, held.id, refunded.id, disputed.id, refundId, fee.id])
        expect((await get(h, id)).payout_id, id).toBe(payout.id);
      const history = await h.deps.db
        .selectFrom('transaction_history')
        .selectAll()
        .where('transaction_id', '=', plain.id)
        .where('action', 'like', 'payout reconciliation%')
        .execute();
      expect(history.map((r) => r.changes)).toEqual([{ payout_id: [null, payout.id] }]);
    });

    it('a reconcile run twice changes nothing: no item, no history row, the same verdict', async () => {
      const h = harness();
      const history = await count(h, 'transaction_history');
      const items = await count(h, 'payout_items');
      const before = (await h.request('GET', `/v1/payouts/${dayPayout}`)).body as Json;
      const again = await h.request('POST', `/v1/payouts/${dayPayout}/reconcile`);
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.body.run).toMatchObject({ items_written: 0, linked: 0, removed: 0 });
      expect(again.body.payout).toEqual(before);
      expect(await count(h, 'transaction_history')).toBe(history);
      expect(await count(h, 'payout_items')).toBe(items);
      // Two runs at once end the same way.
      const [a, b] = await Promise.all([
        h.request('POST', `/v1/payouts/${dayPayout}/reconcile`),
        h.request('POST', `/v1/payouts/${dayPayout}/reconcile`),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(await count(h, 'transaction_history')).toBe(history);
      expect(await count(h, 'payout_items')).toBe(items);
    });

    it('a payout holding a charge Settle never saw is a mismatch, the item flagged with its reason', async () => {
      const h = harness();
      const stripe = stripeFor(h);
      const known = await charge(h, await paymentMethod(h, 'pm_card_visa'), 4000);
      // Made at the gateway directly; its events are never delivered.
      const unseen = await stripe.paymentIntents.create({
        amount: 1234,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      });
      const [po] = await payOut(h);
      const payout = await payoutTransaction(h, po!);
      const res = await h.request('POST', `/v1/payouts/${payout.id}/reconcile`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.payout).toMatchObject({
        reconciliation_status: 'mismatch',
        items_total: payout.amount,
        unmatched_count: 1,
      });
      expect(res.body.payout.mismatch_reason).toMatch(/matched no transaction/);
      const items = await allItems(h, payout.id);
      const flagged = items.filter((i) => i.transaction_id === null);
      expect(flagged).toEqual([
        expect.objectContaining({
          type: 'charge',
          source: unseen.latest_charge,
          recorded_kind: true,
          unmatched_reason: expect.stringContaining('No Settle transaction has the charge'),
        }),
      ]);
      expect((await get(h, known.id)).payout_id).toBe(payout.id);
      const mismatches = await h.request('GET', '/v1/payouts?reconciliation_status=mismatch');
      expect((mismatches.body.data as Json[]).map((p) => p.id)).toEqual([payout.id]);
    });

    it('a failed payout keeps its items and shows failed; the later payout returns its funds as payout_failure', async () => {
      const h = harness();
      const visa = await paymentMethod(h, 'pm_card_visa');
      const first = await charge(h, visa, 3000);
      emulatorOf(h).controls.failNextPayout('account_closed');
      // The payout fails at its arrival; the next midnight's automatic payout takes the returned funds.
      const made = await payOut(h);
      const rows = await Promise.all(made.map((po) => payoutTransaction(h, po)));
      const failed = rows.find((r) => r.status === 'failed');
      expect(failed).toBeDefined();
      const res = await h.request('POST', `/v1/payouts/${failed!.id}/reconcile`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.payout).toMatchObject({ status: 'failed', reconciliation_status: 'reconciled' });
      expect((await get(h, first.id)).payout_id).toBe(failed!.id);

      await charge(h, visa, 1000);
      await payOut(h);
      const run = await runPayoutReconciliation(h.deps, 'job:payout_reconciliation');
      expect(run.failed).toBe(0);
      const returned = await h.deps.db
        .selectFrom('payout_items')
        .selectAll()
        .where('type', '=', 'payout_failure')
        .execute();
      expect(returned).toEqual([
        expect.objectContaining({ source: failed!.gateway_payout, transaction_id: failed!.id, net: failed!.amount }),
      ]);
      const laterId = returned[0]!.payout_transaction_id;
      const later = (await h.request('GET', `/v1/payouts/${laterId}`)).body as Json;
      expect(later).toMatchObject({ status: 'paid', reconciliation_status: 'reconciled', items_total: later.amount });
      // The failed payout's own items keep it; the failed payout is itself settled by the later one.
      expect((await get(h, first.id)).payout_id).toBe(failed!.id);
      expect((await get(h, failed!.id)).payout_id).toBe(laterId);
      expect((await h.request('GET', `/v1/payouts/${failed!.id}`)).body).toMatchObject({
        status: 'failed',
        reconciliation_status: 'reconciled',
        payout_id: laterId,
      });
    });

    it('a manual payout is not_applicable: its amount is recorded, its contents cannot be listed', async () => {
      const h = harness();
      await charge(h, await paymentMethod(h, 'pm_card_visa'), 2500);
      const mark = await markNow(h);
      // Available (2 days on) before the next midnight's automatic payout takes it.
      emulatorOf(h).controls.advanceClock(2 * DAY + 3600 * 1000);
      const manual = await stripeFor(h).payouts.create({ amount: 500, currency: 'usd' });
      await deliverSince(h, mark);
      const payout = await payoutTransaction(h, manual.id);
      expect(payout.amount).toBe(500);
      const history = await count(h, 'transaction_history');
      const res = await h.request('POST', `/v1/payouts/${payout.id}/reconcile`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.payout).toMatchObject({
        automatic: false,
        reconciliation_status: 'not_applicable',
        items_count: 0,
      });
      expect(await count(h, 'transaction_history')).toBe(history);
      const list = await h.request('GET', '/v1/payouts?reconciliation_status=not_applicable');
      expect((list.body.data as Json[]).map((p) => p.id)).toContain(payout.id);
    });

    it('each refusal is a 4xx that writes nothing', async () => {
      const h = harness();
      const visa = await paymentMethod(h, 'pm_card_visa');
      const aCharge = await charge(h, visa, 1500);
      const counts = async () =>
        Promise.all([count(h, 'transaction_history'), count(h, 'payout_items'), count(h, 'transactions')]);
      const before = await counts();
      const unknown = await h.request('POST', '/v1/payouts/trx_0000000000aaaaaaaaaaaaaaaa/reconcile');
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toMatchObject({ code: 'resource_missing' });
      const notPayout = await h.request('POST', `/v1/payouts/${aCharge.id}/reconcile`);
      expect(notPayout.status).toBe(400);
      expect(notPayout.body.error).toMatchObject({ code: 'not_a_payout', param: 'id' });
      expect((await h.request('GET', `/v1/payouts/${aCharge.id}/items`)).status).toBe(400);
      expect((await h.request('GET', '/v1/payouts?reconciliation_status=bogus')).status).toBe(400);
      expect((await h.request('GET', `/v1/payouts/${dayPayout}/items?starting_after=${aCharge.id}`)).status).toBe(400);
      // A payout Stripe is still reconciling (in transit): 409, nothing linked.
      const mark = await markNow(h);
      emulatorOf(h).controls.advanceClock(3 * DAY);
      const [inTransit] = emulatorOf(h).controls.runPayouts();
      await deliverSince(h, mark);
      const pending = await payoutTransaction(h, inTransit!.id as string);
      const afterPayout = await counts();
      const early = await h.request('POST', `/v1/payouts/${pending.id}/reconcile`);
      expect(early.status, JSON.stringify(early.body)).toBe(409);
      expect(early.body.error).toMatchObject({ code: 'payout_reconciliation_pending' });
      expect(await counts()).toEqual(afterPayout);
      expect(afterPayout[1]).toBe(before[1]);
    });
  },
  { emulator: true },
);
