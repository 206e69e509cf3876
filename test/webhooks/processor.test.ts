// The webhook processor (W2, W3, W5) against the emulator: events are stored as the intake stores them, then
// applied. Handlers read the gateway's objects again, so these tests make the objects at the emulator (with the
// SDK, as another system would) and hand Settle events that name them.
import { beforeEach, expect, it } from 'vitest';
import { recoverInFlight } from '../../src/app/processing/recover.js';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { emulatorOf, storeEvent, stripeFor } from './store-event.js';

const eventRow = (h: Harness, id: string) =>
  h.deps.db.selectFrom('webhook_events').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

const rowsOfIntent = (h: Harness, pi: string) =>
  h.deps.db
    .selectFrom('transactions')
    .selectAll()
    .where('gateway_payment_intent', '=', pi)
    .orderBy('created_at')
    .orderBy('id')
    .execute();

let pmId: string | undefined;
async function capturedCharge(h: Harness, amount: number): Promise<{ id: string; pi: string; charge: string }> {
  pmId ??= (
    await h.request('POST', '/v1/payment-methods', {
      gateway_token: 'pm_card_visa',
      type: 'card',
      exp_month: 12,
      exp_year: 2030,
    })
  ).body.id as string;
  const created = await h.request('POST', '/v1/transactions', { amount, currency: 'usd', payment_method_id: pmId });
  const captured = await h.request('POST', `/v1/transactions/${created.body.id}/capture`);
  expect(captured.status).toBe(200);
  return {
    id: created.body.id,
    pi: captured.body.gateway_ref.payment_intent,
    charge: captured.body.gateway_ref.charge,
  };
}

describeEachDatabase(
  'the webhook processor',
  (get) => {
    beforeEach(() => {
      pmId = undefined;
      emulatorOf(get()).controls.clearFaults();
    });

    it('W5: a payment made by another system on the account becomes one external charge, however often its events come', async () => {
      const h = get();
      const stripe = stripeFor(h);
      const pi = await stripe.paymentIntents.create({
        amount: 5000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, // no return_url: Stripe's rule since 2023-08-16
        capture_method: 'automatic',
      });
      const charge = await stripe.charges.retrieve(pi.latest_charge as string);
      const ids = [
        await storeEvent(h, 'payment_intent.succeeded', pi),
        await storeEvent(h, 'charge.succeeded', charge),
        await storeEvent(h, 'payment_intent.succeeded', pi),
      ];
      const summary = await processWebhookEvents(h.deps, { ids });
      expect(summary).toEqual({ picked: 3, processed: 3, failed: 0, not_supported: 0 });
      const rows = await rowsOfIntent(h, pi.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        processing_mode: 'external',
        source: 'webhook',
        record_type: 'charge',
        status: 'completed',
        payment_status: 'captured',
        amount: 5000,
        currency: 'USD',
        captured_amount: 5000,
        gateway_charge: charge.id,
      });
      expect(rows[0]?.gateway_fee).toBeGreaterThan(0);
      for (const id of ids) expect((await eventRow(h, id)).status).toBe('processed');
      // A later replay of the same events changes nothing.
      await processWebhookEvents(h.deps, { ids });
      expect(await rowsOfIntent(h, pi.id)).toEqual(rows);
    });

    it("W3: a refund made in the dashboard becomes a refund transaction (source webhook); Settle's own refund is recognised, not doubled; any order, any number of times", async () => {
      const h = get();
      const stripe = stripeFor(h);
      const { id, pi, charge } = await capturedCharge(h, 10000);
      const own = await h.request('POST', `/v1/transactions/${id}/refund`, { amount: 1000 });
      expect(own.status).toBe(201);
      const outside = await stripe.refunds.create({ payment_intent: pi, amount: 2500 });
      const ownRefund = await stripe.refunds.retrieve(own.body.gateway_ref.refund);
      const chargeObject = await stripe.charges.retrieve(charge);
      const second = Math.floor(h.clock.now().getTime() / 1000);
      // Reversed order, duplicates, all in the same second.
      const ids = [
        await storeEvent(h, 'charge.refunded', chargeObject, second),
        await storeEvent(h, 'refund.created', outside, second),
        await storeEvent(h, 'refund.created', ownRefund, second),
        await storeEvent(h, 'refund.created', outside, second),
        await storeEvent(h, 'charge.refunded', chargeObject, second),
      ];
      const summary = await processWebhookEvents(h.deps, { ids });
      expect(summary.processed).toBe(5);
      const rows = await rowsOfIntent(h, pi);
      const refunds = rows.filter((r) => r.transaction_type === 'refund');
      expect(refunds).toHaveLength(2);
      expect(refunds.find((r) => r.source === 'webhook')).toMatchObject({
        amount: -2500,
        status: 'completed',
        payment_status: 'refunded',
        original_transaction_id: id,
        gateway_refund: outside.id,
        processing_mode: 'platform',
      });
      const after = (await h.request('GET', `/v1/transactions/${id}`)).body;
      expect(after).toMatchObject({
        status: 'completed',
        payment_status: 'partially_refunded',
        refunded_amount: 3500,
        retained_amount: 6500,
      });
      // Replaying everything again is a no-op.
      await processWebhookEvents(h.deps, { ids: [...ids].reverse() });
      expect(await rowsOfIntent(h, pi)).toEqual(rows);
    });

    it('W3: an authorization that expires at the gateway ends uncaptured with uncaptured_method automatic', async () => {
      const h = get();
      const stripe = stripeFor(h);
      pmId ??= (
        await h.request('POST', '/v1/payment-methods', {
          gateway_token: 'pm_card_visa',
          type: 'card',
          exp_month: 12,
          exp_year: 2030,
        })
      ).body.id as string;
      const created = await h.request('POST', '/v1/transactions', {
        amount: 4200,
        currency: 'usd',
        payment_method_id: pmId,
      });
      const authorized = await h.request('POST', `/v1/transactions/${created.body.id}/authorize`);
      expect(authorized.body.payment_status).toBe('authorized');
      h.clock.advance(8 * 24 * 3600 * 1000);
      const pi = await stripe.paymentIntents.retrieve(authorized.body.gateway_ref.payment_intent);
      expect(pi.status).toBe('canceled');
      const event = await storeEvent(h, 'payment_intent.canceled', pi);
      expect((await processWebhookEvents(h.deps, { ids: [event] })).processed).toBe(1);
      expect((await h.request('GET', `/v1/transactions/${created.body.id}`)).body).toMatchObject({
        status: 'completed',
        payment_status: 'uncaptured',
        uncaptured_method: 'automatic',
        authorization_expires_at: null,
      });
    });

    it('W3: the release of what a partial capture left uncaptured is not a refund; a dashboard refund after it is', async () => {
      const h = get();
      const stripe = stripeFor(h);
      pmId ??= (
        await h.request('POST', '/v1/payment-methods', {
          gateway_token: 'pm_card_visa',
          type: 'card',
          exp_month: 12,
          exp_year: 2030,
        })
      ).body.id as string;
      const created = await h.request('POST', '/v1/transactions', {
        amount: 10000,
        currency: 'usd',
        payment_method_id: pmId,
      });
      await h.request('POST', `/v1/transactions/${created.body.id}/authorize`);
      const captured = await h.request('POST', `/v1/transactions/${created.body.id}/capture`, { amount: 6000 });
      expect(captured.body.payment_status).toBe('partially_captured');
      const pi = captured.body.gateway_ref.payment_intent as string;
      const released = await stripe.refunds.list({ payment_intent: pi });
      expect(released.data.map((r) => r.amount)).toEqual([4000]);
      const first = await storeEvent(
        h,
        'charge.refunded',
        await stripe.charges.retrieve(captured.body.gateway_ref.charge),
      );
      expect((await processWebhookEvents(h.deps, { ids: [first] })).processed).toBe(1);
      expect((await rowsOfIntent(h, pi)).filter((r) => r.transaction_type === 'refund')).toHaveLength(0);
      expect((await h.request('GET', `/v1/transactions/${created.body.id}`)).body).toMatchObject({
        payment_status: 'partially_captured',
        refunded_amount: 0,
        retained_amount: 6000,
      });
      const outside = await stripe.refunds.create({ payment_intent: pi, amount: 1000 });
      const second = await storeEvent(h, 'refund.created', outside);
      expect((await processWebhookEvents(h.deps, { ids: [second] })).processed).toBe(1);
      expect((await rowsOfIntent(h, pi)).filter((r) => r.transaction_type === 'refund').map((r) => r.amount)).toEqual([
        -1000,
      ]);
      expect((await h.request('GET', `/v1/transactions/${created.body.id}`)).body).toMatchObject({
        payment_status: 'partially_refunded',
        refunded_amount: 1000,
        retained_amount: 5000,
      });
    });

    it('P12/W2: an event about a payment whose answer Settle lost resolves the attempt through the same use case; no second record, recovery then has nothing to do', async () => {
      const h = get();
      const stripe = stripeFor(h);
      pmId ??= (
        await h.request('POST', '/v1/payment-methods', {
          gateway_token: 'pm_card_visa',
          type: 'card',
          exp_month: 12,
          exp_year: 2030,
        })
      ).body.id as string;
      const created = await h.request('POST', '/v1/transactions', {
        amount: 3100,
        currency: 'usd',
        payment_method_id: pmId,
      });
      emulatorOf(h).controls.injectFault({
        method: 'POST',
        path: '/v1/payment_intents',
        kind: 'drop_response',
        times: 2,
      });
      const key = { 'Idempotency-Key': `lost-answer-${created.body.id}` };
      const answer = await h.request('POST', `/v1/transactions/${created.body.id}/authorize`, undefined, key);
      expect(answer.status).toBe(202);
      const found = await stripe.paymentIntents.search({
        query: `metadata['settle_transaction_id']:'${created.body.id}'`,
      });
      expect(found.data).toHaveLength(1);
      const event = await storeEvent(h, 'payment_intent.amount_capturable_updated', found.data[0]!);
      const summary = await processWebhookEvents(h.deps, { ids: [event] });
      expect(summary.processed).toBe(1);
      expect((await eventRow(h, event)).outcome).toContain('resolved from the gateway');
      const row = (await h.request('GET', `/v1/transactions/${created.body.id}`)).body;
      expect(row).toMatchObject({ status: 'completed', payment_status: 'authorized', authorized_amount: 3100 });
      const attempts = await h.deps.db
        .selectFrom('gateway_attempts')
        .selectAll()
        .where('transaction_id', '=', created.body.id)
        .execute();
      expect(attempts.map((a) => a.state)).toEqual(['succeeded']);
      expect((await rowsOfIntent(h, found.data[0]!.id)).length).toBe(1);
      expect((await recoverInFlight(h.deps)).examined).toBe(0);
      // The request's Idempotency-Key has its answer: a retry replays it instead of finding the key still running.
      const retry = await h.request('POST', `/v1/transactions/${created.body.id}/authorize`, undefined, key);
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotency-replayed']).toBe('true');
      expect(retry.body).toMatchObject({ status: 'completed', payment_status: 'authorized' });
    });

    it("W2: while Settle's own call is still under way the event waits (pending, not failed), then applies after it", async () => {
      const h = get();
      const stripe = stripeFor(h);
      pmId ??= (
        await h.request('POST', '/v1/payment-methods', {
          gateway_token: 'pm_card_visa',
          type: 'card',
          exp_month: 12,
          exp_year: 2030,
        })
      ).body.id as string;
      const created = await h.request('POST', '/v1/transactions', {
        amount: 2000,
        currency: 'usd',
        payment_method_id: pmId,
      });
      const authorized = await h.request('POST', `/v1/transactions/${created.body.id}/authorize`);
      const piId = authorized.body.gateway_ref.payment_intent as string;
      const before = await stripe.paymentIntents.retrieve(piId);
      emulatorOf(h).controls.injectFault({
        method: 'POST',
        path: `/v1/payment_intents/${piId}/capture`,
        kind: 'delay',
        delayMs: 400,
      });
      const capture = h.request('POST', `/v1/transactions/${created.body.id}/capture`);
      for (
        let i = 0;
        i < 100 && (await h.request('GET', `/v1/transactions/${created.body.id}`)).body.status !== 'process';
        i += 1
      ) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const event = await storeEvent(h, 'payment_intent.amount_capturable_updated', before);
      const during = await processWebhookEvents(h.deps, { ids: [event] });
      expect(during).toEqual({ picked: 1, processed: 0, failed: 0, not_supported: 0 });
      expect(await eventRow(h, event)).toMatchObject({ status: 'pending', claimed_until: null });
      expect((await eventRow(h, event)).outcome).toContain('has not finished');
      expect((await capture).status).toBe(200);
      expect((await processWebhookEvents(h.deps, { ids: [event] })).processed).toBe(1);
      expect((await h.request('GET', `/v1/transactions/${created.body.id}`)).body).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
      });
    });

    it('a processor that died holding a claim leaves nothing stuck: the claim expires and the event is applied once', async () => {
      const h = get();
      const pi = await stripeFor(h).paymentIntents.create({
        amount: 700,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, // no return_url: Stripe's rule since 2023-08-16
        capture_method: 'automatic',
      });
      const event = await storeEvent(h, 'payment_intent.succeeded', pi);
      // As if another process had claimed it and died before finishing.
      await h.deps.db
        .updateTable('webhook_events')
        .set({ claimed_until: new Date(h.clock.now().getTime() + 60_000), attempts: 1 })
        .where('id', '=', event)
        .execute();
      expect(await processWebhookEvents(h.deps)).toMatchObject({ picked: 0 });
      h.clock.advance(61_000);
      expect(await processWebhookEvents(h.deps)).toMatchObject({ picked: 1, processed: 1 });
      expect(await eventRow(h, event)).toMatchObject({ status: 'processed', attempts: 2, claimed_until: null });
      expect(await rowsOfIntent(h, pi.id)).toHaveLength(1);
    });

    it('events Settle does not act on are not_supported; one naming a transaction this ledger does not have fails, not retryable', async () => {
      const h = get();
      const stripe = stripeFor(h);
      const unsupported = await storeEvent(h, 'customer.created', { id: 'cus_123', object: 'customer' });
      const pi = await stripe.paymentIntents.create({
        amount: 1200,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, // no return_url: Stripe's rule since 2023-08-16
        capture_method: 'automatic',
        metadata: { settle_transaction_id: 'trx_not_in_this_ledger' },
      });
      const foreign = await storeEvent(h, 'payment_intent.succeeded', pi);
      const summary = await processWebhookEvents(h.deps, { ids: [unsupported, foreign] });
      expect(summary).toEqual({ picked: 2, processed: 0, failed: 1, not_supported: 1 });
      expect(await eventRow(h, unsupported)).toMatchObject({ status: 'not_supported' });
      expect(await eventRow(h, foreign)).toMatchObject({ status: 'failed', retryable: false });
      expect((await eventRow(h, foreign)).error).toContain('trx_not_in_this_ledger');
      expect(await rowsOfIntent(h, pi.id)).toHaveLength(0);
    });

    it('a gateway that cannot be read leaves the event failed and retryable, due again later; it applies once the gateway answers', async () => {
      const h = get();
      const stripe = stripeFor(h);
      const pi = await stripe.paymentIntents.create({
        amount: 900,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, // no return_url: Stripe's rule since 2023-08-16
        capture_method: 'automatic',
      });
      emulatorOf(h).controls.injectFault({
        method: 'GET',
        path: `/v1/payment_intents/${pi.id}`,
        kind: 'server_error',
        times: 10,
      });
      const event = await storeEvent(h, 'payment_intent.succeeded', pi);
      expect((await processWebhookEvents(h.deps, { ids: [event] })).failed).toBe(1);
      const failed = await eventRow(h, event);
      expect(failed).toMatchObject({ status: 'failed', retryable: true, attempts: 1 });
      expect(failed.process_after.getTime()).toBeGreaterThan(h.clock.now().getTime());
      expect(await processWebhookEvents(h.deps)).toMatchObject({ picked: 0 });
      emulatorOf(h).controls.clearFaults();
      h.clock.advance(5000);
      expect(await processWebhookEvents(h.deps)).toMatchObject({ picked: 1, processed: 1 });
      expect(await rowsOfIntent(h, pi.id)).toHaveLength(1);
    });
  },
  { emulator: true },
);
