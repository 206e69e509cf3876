// W2: events applied from their snapshots, counted at the gateway (the emulator's request log). Settle's own actions
// cost one request each, their events none, in any order and however often they come; an event of another API
// version is read; a stale snapshot never moves the ledger backwards.
import { expect, it } from 'vitest';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { allEmulatorEvents, emulatorOf, type EventLike, storeStripeEvent, stripeFor } from './store-event.js';

const requestCount = (h: Harness) => emulatorOf(h).controls.requestLog().length;

async function newEvents(h: Harness, mark: Set<string>): Promise<EventLike[]> {
  return (await allEmulatorEvents(h)).filter((e) => !mark.has(e.id));
}
const markNow = async (h: Harness) => new Set((await allEmulatorEvents(h)).map((e) => e.id));

/** Stores the events in the given order and applies them; returns how many requests the processing sent. */
async function deliver(h: Harness, events: EventLike[]): Promise<number> {
  const ids: string[] = [];
  for (const event of events) ids.push(await storeStripeEvent(h, event));
  const before = requestCount(h);
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
  return requestCount(h) - before;
}

async function paymentMethod(h: Harness): Promise<string> {
  const res = await h.request('POST', '/v1/payment-methods', {
    gateway_token: 'pm_card_visa',
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function authorized(h: Harness, amount: number): Promise<{ id: string; pi: string }> {
  const created = await h.request('POST', '/v1/transactions', {
    amount,
    currency: 'usd',
    payment_method_id: await paymentMethod(h),
  });
  const res = await h.request('POST', `/v1/transactions/${created.body.id}/authorize`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { id: created.body.id as string, pi: res.body.gateway_ref.payment_intent as string };
}

const get = async (h: Harness, id: string) => (await h.request('GET', `/v1/transactions/${id}`)).body;

describeEachDatabase(
  'webhook snapshots (W2): one request per action',
  (harness) => {
    it('authorize, capture and a partial refund cost one request each; their events, delivered as they come, none', async () => {
      const h = harness();
      let mark = await markNow(h);
      let requests = requestCount(h);
      let events = 0;
      /** Requests the action sent, and that the processing of its events sent. */
      const step = async (action: () => Promise<void>) => {
        await action();
        const sent = requestCount(h) - requests;
        const fresh = await newEvents(h, mark);
        events += fresh.length;
        const read = await deliver(h, fresh);
        mark = await markNow(h);
        requests = requestCount(h);
        return [sent, read];
      };
      let id = '';
      expect(
        await step(async () => {
          id = (await authorized(h, 5000)).id;
        }),
      ).toEqual([1, 0]);
      expect(
        await step(async () => {
          expect((await h.request('POST', `/v1/transactions/${id}/capture`)).status).toBe(200);
        }),
      ).toEqual([1, 0]);
      expect(
        await step(async () => {
          const refund = await h.request('POST', `/v1/transactions/${id}/refund`, { amount: 1200 });
          expect(refund.status, JSON.stringify(refund.body)).toBe(201);
        }),
      ).toEqual([1, 0]);
      expect(events).toBeGreaterThanOrEqual(5);
      expect(await get(h, id)).toMatchObject({
        status: 'completed',
        payment_status: 'partially_refunded',
        captured_amount: 5000,
        refunded_amount: 1200,
      });
    });

    it("events of Settle's own calls delivered late, after later actions, cost no read: their calls' answers are applied", async () => {
      const h = harness();
      const mark = await markNow(h);
      const { id } = await authorized(h, 5100);
      expect((await h.request('POST', `/v1/transactions/${id}/capture`)).status).toBe(200);
      expect((await h.request('POST', `/v1/transactions/${id}/refund`, { amount: 700 })).status).toBe(201);
      const events = await newEvents(h, mark);
      // charge.succeeded of the authorization shows nothing captured or refunded: not what Settle holds now, and
      // not provably older by the snapshot rule alone; its request's idempotency key names Settle's own call.
      expect(await deliver(h, [...events].reverse())).toBe(0);
      expect(await get(h, id)).toMatchObject({ payment_status: 'partially_refunded', refunded_amount: 700 });
    });

    it('the same events reversed and duplicated cause no read and change nothing', async () => {
      const h = harness();
      const mark = await markNow(h);
      const { id } = await authorized(h, 4000);
      expect((await h.request('POST', `/v1/transactions/${id}/capture`)).status).toBe(200);
      const before = await get(h, id);
      const events = await newEvents(h, mark);
      expect(await deliver(h, [...events].reverse())).toBe(0);
      expect(await deliver(h, [...events, ...events])).toBe(0);
      expect(await get(h, id)).toEqual(before);
    });

    it('a stale snapshot never moves the ledger backwards: an authorization event after the capture', async () => {
      const h = harness();
      const mark = await markNow(h);
      const { id } = await authorized(h, 3000);
      const authEvents = await newEvents(h, mark);
      expect((await h.request('POST', `/v1/transactions/${id}/capture`)).status).toBe(200);
      // Only the authorization's events, after the capture: they show requires_capture and nothing captured.
      expect(await deliver(h, authEvents)).toBe(0);
      expect(await get(h, id)).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        captured_amount: 3000,
      });
    });

    it('a cancel made at the gateway is applied from its event without a read; once only', async () => {
      const h = harness();
      const { id, pi } = await authorized(h, 2500);
      const mark = await markNow(h);
      await stripeFor(h).paymentIntents.cancel(pi, { cancellation_reason: 'requested_by_customer' });
      const events = await newEvents(h, mark);
      expect(await deliver(h, events)).toBe(0);
      expect(await get(h, id)).toMatchObject({
        status: 'completed',
        payment_status: 'uncaptured',
        uncaptured_method: 'manual',
      });
      const snapshots = await h.deps.db
        .selectFrom('gateway_snapshots')
        .selectAll()
        .where('object_id', '=', pi)
        .execute();
      expect(snapshots).toHaveLength(1);
      // Delivered again: the same as Settle holds now, nothing to do.
      expect(await deliver(h, events)).toBe(0);
    });

    it('an event rendered in another API version is read from the gateway', async () => {
      const h = harness();
      const { id, pi } = await authorized(h, 2600);
      const mark = await markNow(h);
      await stripeFor(h).paymentIntents.cancel(pi);
      const events = (await newEvents(h, mark)).map((e) => ({ ...e, api_version: '2024-06-20' }));
      expect(await deliver(h, events)).toBeGreaterThanOrEqual(1);
      expect(await get(h, id)).toMatchObject({ status: 'completed', payment_status: 'uncaptured' });
    });

    it('an older forward snapshot than the last applied one is read, not applied', async () => {
      const h = harness();
      const { id, pi } = await authorized(h, 2700);
      const mark = await markNow(h);
      await stripeFor(h).paymentIntents.cancel(pi);
      const canceled = (await newEvents(h, mark)).filter((e) => e.type === 'payment_intent.canceled');
      expect(canceled).toHaveLength(1);
      const event = canceled[0]!;
      await h.deps.db
        .insertInto('gateway_snapshots')
        .values({
          gateway_id: (await get(h, id)).gateway_id as string,
          object_id: pi,
          created: new Date((event.created + 60) * 1000),
          event_id: 'evt_later',
          applied_at: h.clock.now(),
        })
        .execute();
      expect(await deliver(h, canceled)).toBe(1);
      expect(await get(h, id)).toMatchObject({ status: 'completed', payment_status: 'uncaptured' });
    });
  },
  { emulator: true },
);
