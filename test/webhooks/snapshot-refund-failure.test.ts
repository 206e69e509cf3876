// W2/W3: a refund Settle made, which succeeded and then failed at the gateway (a card refund can fail after it
// succeeded: Stripe then sends refund.failed, docs.stripe.com/refunds#failed-refunds), applied from the event's own
// snapshot: a Refund whose status is failed, rendered in the pinned API version, newer than the last snapshot applied
// for it (domain/snapshots.ts). The refund ends failed, its amount goes back to the charge, and no read is made for
// it: counted at the gateway (the emulator's request log). Delivered again, out of order and under another event id,
// it changes nothing more. The emulator's pm_card_refundFail fails a refund a day after it succeeded.
//
// The failure's events (refund.updated, refund.failed, charge.refund.updated, charge.updated) all have the same
// `created` second, so the processor orders them by event id, which Stripe makes at random. The tests give them ids
// that sort in a chosen order, so that each order is checked every run, whatever ids the emulator made.
import { expect, it } from 'vitest';
import type { RequestLogEntry } from '@settle/stripe-emulator';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { allEmulatorEvents, emulatorOf, type EventLike, storeStripeEvent } from './store-event.js';

const DAY = 24 * 3600 * 1000;

const markNow = async (h: Harness) => new Set((await allEmulatorEvents(h)).map((e) => e.id));

/** The events the emulator made since `mark` (ids seen before), oldest first. */
async function newEvents(h: Harness, mark: Set<string>): Promise<EventLike[]> {
  return (await allEmulatorEvents(h)).filter((e) => !mark.has(e.id));
}

/**
 * Stores the events in the given order (as the intake would: the same event id twice is one row) and applies them;
 * every one must end processed. Returns the requests the processing sent to the gateway.
 */
async function deliver(h: Harness, events: EventLike[]): Promise<RequestLogEntry[]> {
  const ids: string[] = [];
  for (const event of events) ids.push(await storeStripeEvent(h, event));
  const before = emulatorOf(h).controls.requestLog().length;
  const summary = await processWebhookEvents(h.deps, { ids: [...new Set(ids)] });
  const rows = await h.deps.db
    .selectFrom('webhook_events')
    .select(['type', 'status', 'outcome', 'error'])
    .where('id', 'in', ids)
    .execute();
  expect(summary.failed, JSON.stringify(rows)).toBe(0);
  expect(
    rows.every((r) => r.status === 'processed' || r.status === 'not_supported'),
    JSON.stringify(rows),
  ).toBe(true);
  return emulatorOf(h).controls.requestLog().slice(before);
}

/** The payment's own events: the emulator's clock also runs payouts, which are none of this test's. */
const ofPayment = (events: EventLike[]) => events.filter((e) => /^(refund|charge|payment_intent)\./.test(e.type));

/**
 * The same events under ids that sort (the processor's order for events of the same second) with those `first`
 * picks before the others, in their given order otherwise.
 */
function ordered(events: EventLike[], first: (e: EventLike) => boolean): EventLike[] {
  return events.map((e, i) => ({ ...e, id: `evt_${first(e) ? 0 : 1}${String(i).padStart(3, '0')}${e.id.slice(4)}` }));
}

const isCharge = (e: EventLike) => e.data.object.object === 'charge';
const isRefund = (e: EventLike) => e.data.object.object === 'refund';

/** The reads that would stand in for the snapshot: the refund, or the payment it belongs to. */
const reads = (log: RequestLogEntry[]) =>
  log.filter((e) => e.method === 'GET' && /^\/v1\/(refunds|payment_intents|charges)\b/.test(e.path));

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

const get = async (h: Harness, id: string) => (await h.request('GET', `/v1/transactions/${id}`)).body;

const historyCount = async (h: Harness, ids: string[]) =>
  (await h.deps.db.selectFrom('transaction_history').select('id').where('transaction_id', 'in', ids).execute()).length;

/**
 * A captured charge of `amount` on a card whose refunds fail, and a refund of `refunded` that Settle made and that
 * succeeded; the events of the refund's creation, and those of its failure a day later (the emulator's clock moved).
 */
async function refundThatFails(h: Harness, amount: number, refunded: number) {
  const created = await h.request('POST', '/v1/transactions', {
    amount,
    currency: 'usd',
    payment_method_id: await paymentMethod(h, 'pm_card_refundFail'),
  });
  const captured = await h.request('POST', `/v1/transactions/${created.body.id}/capture`);
  expect(captured.status, JSON.stringify(captured.body)).toBe(200);
  const chargeId = created.body.id as string;
  const mark = await markNow(h);
  const refund = await h.request('POST', `/v1/transactions/${chargeId}/refund`, { amount: refunded });
  expect(refund.status, JSON.stringify(refund.body)).toBe(201);
  expect(refund.body).toMatchObject({ status: 'completed', payment_status: 'refunded' });
  const refundId = refund.body.id as string;
  const gatewayRefund = refund.body.gateway_ref.refund as string;
  expect(gatewayRefund).toMatch(/^re_/);
  const creation = ofPayment(await newEvents(h, mark));
  const mark2 = await markNow(h);
  emulatorOf(h).controls.advanceClock(2 * DAY);
  const failure = ofPayment(await newEvents(h, mark2));
  const failedEvents = failure.filter((e) => e.type === 'refund.failed');
  expect(failedEvents, JSON.stringify(failure.map((e) => e.type))).toHaveLength(1);
  expect(failedEvents[0]!.data.object).toMatchObject({ id: gatewayRefund, status: 'failed' });
  return { chargeId, refundId, gatewayRefund, creation, failure };
}

async function expectFailedAndGivenBack(h: Harness, chargeId: string, refundId: string, amount: number) {
  expect(await get(h, refundId)).toMatchObject({ status: 'failed', error_code: 'expired_or_canceled_card' });
  expect(await get(h, chargeId)).toMatchObject({
    status: 'completed',
    payment_status: 'captured',
    captured_amount: amount,
    refunded_amount: 0,
    retained_amount: amount,
  });
}

/** The failure's events delivered (in `order`); asserts the refund ended failed and its amount went back. */
async function applyFailure(h: Harness, order: (events: EventLike[]) => EventLike[], amount: number, refunded: number) {
  const failing = await refundThatFails(h, amount, refunded);
  expect(await get(h, failing.chargeId)).toMatchObject({
    payment_status: 'partially_refunded',
    refunded_amount: refunded,
  });
  const failure = order(failing.failure);
  const sent = await deliver(h, failure);
  await expectFailedAndGivenBack(h, failing.chargeId, failing.refundId, amount);
  return { ...failing, failure, sent };
}

describeEachDatabase(
  'a refund that failed after it succeeded, applied from its event (W2, W3)',
  (harness) => {
    it('ends failed and gives its amount back to the charge, with no read of the refund or the payment', async () => {
      const h = harness();
      // The refund's events sort before the charge's: by the time charge.updated (amount_refunded back to 0) is
      // judged, the refund's failure is applied and the charge shows what Settle holds.
      const { gatewayRefund, sent } = await applyFailure(h, (events) => ordered(events, isRefund), 6000, 2000);
      expect(reads(sent), JSON.stringify(sent)).toEqual([]);
      expect(sent).toEqual([]);

      // Applied from the snapshot (not read), and that snapshot recorded as the last one applied for the refund.
      const failed = await h.deps.db
        .selectFrom('webhook_events')
        .select(['status', 'outcome'])
        .where('type', '=', 'refund.failed')
        .where('object_id', '=', gatewayRefund)
        .executeTakeFirstOrThrow();
      expect(failed.status).toBe('processed');
      expect(failed.outcome).toMatch(/refund failed at the gateway; 2000 back on .* \(from the event\)/);
      const snapshots = await h.deps.db
        .selectFrom('gateway_snapshots')
        .select('event_id')
        .where('object_id', '=', gatewayRefund)
        .execute();
      expect(snapshots).toHaveLength(1);
    });

    // Events of one second come in the order of their random ids: a charge.updated first (its amount_refunded
    // already 0 while Settle still holds the refund) must not cost a read; apply-snapshots.ts judges refunds first.
    it('ends the same with no read when the charge event sorts before the refund events', async () => {
      const h = harness();
      const { sent } = await applyFailure(h, (events) => ordered(events, isCharge), 6100, 2100);
      expect(reads(sent), JSON.stringify(sent)).toEqual([]);
    });

    it('delivered twice, out of order and under another event id, changes nothing more and reads nothing', async () => {
      const h = harness();
      // The charge's event first: the ledger ends the same (today through a read, see above).
      const { chargeId, refundId, gatewayRefund, creation, failure } = await applyFailure(
        h,
        (events) => ordered(events, isCharge),
        7000,
        2500,
      );
      const charge = await get(h, chargeId);
      const refund = await get(h, refundId);
      const history = await historyCount(h, [chargeId, refundId]);
      const snapshotRows = () =>
        h.deps.db.selectFrom('gateway_snapshots').selectAll().where('object_id', '=', gatewayRefund).execute();
      const snapshots = await snapshotRows();

      const failed = failure.find((e) => e.type === 'refund.failed')!;
      // Stripe may send an event again, and another event may carry the same snapshot: a copy of refund.failed under
      // an event id of its own, the same instant. Then, out of order, the older events of the refund's creation
      // (which show it succeeded and the charge partially refunded), each twice, and the failure's once more.
      const copy: EventLike = { ...failed, id: `${failed.id}copy` };
      const late = [...[...failure].reverse(), copy, ...creation, ...[...creation].reverse(), failed];
      const sent = await deliver(h, late);
      expect(reads(sent), JSON.stringify(sent)).toEqual([]);
      expect(sent).toEqual([]);

      expect(await get(h, chargeId)).toEqual(charge);
      expect(await get(h, refundId)).toEqual(refund);
      expect(await historyCount(h, [chargeId, refundId])).toBe(history);
      expect(await snapshotRows()).toEqual(snapshots);
      // The same event id is one row however often it came (the intake's dedupe), processed once.
      const failedRows = await h.deps.db
        .selectFrom('webhook_events')
        .select(['deliveries', 'status'])
        .where('event_id', '=', failed.id)
        .execute();
      expect(failedRows).toEqual([{ deliveries: 3, status: 'processed' }]);
    });
  },
  { emulator: true },
);
