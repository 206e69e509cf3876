// Several processors over the same events at once (PostgreSQL: PGlite has one connection). Claims are taken with
// FOR UPDATE SKIP LOCKED and every record a gateway object makes is unique, so each payment is recorded once
// however the events are split between processors.
import { expect, it } from 'vitest';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { describePostgres } from '../support/harness.js';
import { storeEvent, stripeFor } from './store-event.js';

describePostgres(
  'webhook processors racing each other',
  (get) => {
    it('4 processors over 40 external payments (3 events each, plus duplicates): 40 charges, every event processed', async () => {
      const h = get();
      await h.request(
        'PATCH',
        `/v1/gateways/${(await h.deps.db.selectFrom('gateways').select('id').executeTakeFirstOrThrow()).id}`,
        { rate_limit_per_second: 10000 },
      );
      const stripe = stripeFor(h);
      const intents = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          stripe.paymentIntents.create({
            amount: 1000 + i,
            currency: 'usd',
            payment_method: 'pm_card_visa',
            confirm: true,
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            capture_method: 'automatic',
          }),
        ),
      );
      for (const pi of intents) {
        await storeEvent(h, 'payment_intent.created', pi);
        await storeEvent(h, 'payment_intent.succeeded', pi);
        await storeEvent(h, 'charge.succeeded', await stripe.charges.retrieve(pi.latest_charge as string));
      }
      for (let round = 0; round < 20; round += 1) {
        const results = await Promise.all(Array.from({ length: 4 }, () => processWebhookEvents(h.deps, { limit: 7 })));
        if (results.every((r) => r.picked === 0)) {
          const pending = await h.deps.db
            .selectFrom('webhook_events')
            .select('id')
            .where('status', '=', 'pending')
            .execute();
          if (pending.length === 0) break;
          h.clock.advance(1000); // deferred ones are due again shortly
        }
      }
      const events = await h.deps.db.selectFrom('webhook_events').select(['status']).execute();
      expect(events).toHaveLength(120);
      expect(events.every((e) => e.status === 'processed')).toBe(true);
      const charges = await h.deps.db
        .selectFrom('transactions')
        .select(['gateway_payment_intent', 'amount'])
        .where('processing_mode', '=', 'external')
        .execute();
      expect(charges).toHaveLength(40);
      expect(new Set(charges.map((c) => c.gateway_payment_intent))).toEqual(new Set(intents.map((pi) => pi.id)));
      expect(charges.reduce((sum, c) => sum + c.amount, 0)).toBe(intents.reduce((sum, pi) => sum + pi.amount, 0));
    });
  },
  { emulator: true },
);
