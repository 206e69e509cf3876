// Totals (issue 19, R2) moved by the backfill (POST /v1/sync), end to end against the emulator on each database:
// what happened at the gateway to Settle's own charges while no webhook reached Settle (a capture, a refund, a
// dispute) is imported and moves their owners' totals exactly as the webhook would have; a payment another system
// made (no owner) moves no owner's totals; a second run changes nothing.
import { expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { waitForSync } from '../sync/sync-helpers.js';
import { stripeFor } from '../webhooks/store-event.js';
import {
  act,
  entriesOf,
  expectStatus,
  expectTotals,
  gatewayCharge,
  getTrx,
  newOwners,
  processedAt,
} from './support.js';

const cardFee = (amount: number) => 30 + Math.round((amount * 29) / 1000);

async function sync(h: Harness): Promise<any> {
  const res = await h.request('POST', '/v1/sync', { since: '2026-11-01' });
  expectStatus(res, 202);
  const run = await waitForSync(h, res.body.id as string);
  expect(run, JSON.stringify(run)).toMatchObject({ status: 'completed', error: null });
  return run;
}

describeEachDatabase(
  'totals through the backfill (POST /v1/sync)',
  (get) => {
    it("imports a capture, a refund and a dispute made at the gateway to Settle's charges; their owners' totals move once", async () => {
      const h = get();
      const stripe = stripeFor(h);
      const o = await newOwners(h, 'usd');
      const held = await act(h, (await gatewayCharge(h, o, 3000)).id, 'authorize');
      const refunded = await act(h, (await gatewayCharge(h, o, 5000)).id, 'capture');
      const disputed = await act(h, (await gatewayCharge(h, o, 2000, 'pm_card_createDispute')).id, 'capture');
      const before = {
        authorized_amount: 3000,
        captured_amount: 7000,
        retained_amount: 7000,
        gateway_fee: cardFee(5000) + cardFee(2000),
        net_amount: 7000 - cardFee(5000) - cardFee(2000),
        count_completed: 3,
        last_payment_at: await processedAt(h, disputed.id),
      };
      await expectTotals(h, o, { USD: before });
      // At the gateway, with no webhook delivered: a capture, a refund, the dispute (made with the charge), and a
      // payment another system made.
      await stripe.paymentIntents.capture(held.gateway_ref.payment_intent);
      await stripe.refunds.create({ payment_intent: refunded.gateway_ref.payment_intent, amount: 1500 });
      await stripe.paymentIntents.create({
        amount: 900,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      });
      await expectTotals(h, o, { USD: before });

      await sync(h);
      const capturedNow = await getTrx(h, held.id);
      expect(capturedNow).toMatchObject({ payment_status: 'captured', captured_amount: 3000, source: 'api' });
      expect(await getTrx(h, refunded.id)).toMatchObject({ refunded_amount: 1500 });
      const disputedNow = await getTrx(h, disputed.id);
      expect(disputedNow).toMatchObject({ payment_status: 'disputed', disputed_amount: 2000 });
      const refunds = await h.request('GET', `/v1/transactions?original_transaction_id=${refunded.id}`);
      expect(refunds.body.data.map((r: any) => [r.amount, r.parent_id, r.source])).toEqual([
        [-1500, o.parent_id, 'sync'],
      ]);
      const after = {
        captured_amount: 10000,
        refunded_amount: 1500,
        disputed_amount: 2000,
        retained_amount: 10000 - 1500 - 2000,
        gateway_fee: before.gateway_fee + cardFee(3000) + 1500, // the dispute's fee too
        net_amount:
          (await getTrx(h, held.id)).retained_net_amount +
          (await getTrx(h, refunded.id)).retained_net_amount +
          disputedNow.retained_net_amount,
        count_completed: 3,
        last_payment_at: [before.last_payment_at, await processedAt(h, held.id)].sort().at(-1)!,
      };
      expect(after.net_amount).toBe(
        10000 - before.gateway_fee - cardFee(3000) - 1500 - 2000 - 1500, // the refund, the dispute and its fee
      );
      await expectTotals(h, o, { USD: after });

      // A second run imports nothing and moves nothing.
      const snapshot = await entriesOf(h, o.parent_id);
      const again = await sync(h);
      for (const object of again.objects as string[])
        expect(again.progress[object], object).toMatchObject({ created: 0, updated: 0 });
      await expectTotals(h, o, { USD: snapshot.USD! });
    });
  },
  { emulator: true },
);
