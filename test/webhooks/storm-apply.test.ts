// W1 + W2 under load, on PostgreSQL: 10,000 real events (made by the emulator for 2,500 payments by "another
// system" and 1,250 refunds made in its dashboard) sent signed over a real socket by 8 senders, with 2,000 of them
// sent twice (20%), in an order shuffled with a fixed seed; then the processor drains them. Every event is stored
// once and applied exactly once (processed on its first attempt), and the ledger equals the emulator: one external
// charge per payment, one refund transaction per dashboard refund, the amounts exact.
import { afterAll, expect, it } from 'vitest';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { describePostgres } from '../support/harness.js';
import { signHeader, socketSender, unixSeconds } from './intake-helpers.js';
import { allEmulatorEvents, emulatorOf, stripeFor } from './store-event.js';

const ENV = 'SETTLE_GATEWAY_TEST_WHSEC_STORM_APPLY';
const SECRET = 'whsec_storm_apply_secret';
const PAYMENTS = 2_500;
const SENDERS = 8;

afterAll(() => {
  delete process.env[ENV];
});

/** A deterministic shuffle (a linear congruential generator), so that a failure can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describePostgres(
  'webhook storm, applied',
  (get) => {
    it('10,000 emulator events + 2,000 duplicates, shuffled, 8 senders: each stored once and applied exactly once; the ledger equals the gateway', async () => {
      const h = get();
      const gateway = await h.deps.db
        .selectFrom('gateways')
        .select('id')
        .where('is_default', '=', true)
        .executeTakeFirstOrThrow();
      process.env[ENV] = SECRET;
      expect(
        (
          await h.request('PATCH', `/v1/gateways/${gateway.id}`, {
            webhook_secret_env: ENV,
            rate_limit_per_second: 10000,
          })
        ).status,
      ).toBe(200);
      const stripe = stripeFor(h);
      const amounts = new Map<string, number>();
      for (let i = 0; i < PAYMENTS; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            stripe.paymentIntents.create({
              amount: 1000 + (((i + j) * 7919) % 50_000),
              currency: 'usd',
              payment_method: 'pm_card_visa',
              confirm: true,
              automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
              capture_method: 'automatic',
            }),
          ),
        );
        for (const pi of batch) amounts.set(pi.id, pi.amount);
      }
      const refunded = [...amounts.keys()].filter((_, i) => i % 2 === 0);
      for (const pi of refunded) emulatorOf(h).controls.dashboardRefund({ payment_intent: pi, amount: 300 });
      const events = await allEmulatorEvents(h);
      expect(events).toHaveLength(10_000);

      const bodies = events.map((e) => JSON.stringify(e));
      const order = shuffled(
        [...bodies.keys(), ...Array.from({ length: 2_000 }, (_, k) => (k * 7919) % bodies.length)],
        20_261_125,
      );
      const timestamp = unixSeconds(h);
      const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
      const sender = socketSender(address, SENDERS);
      const failures: string[] = [];
      let next = 0;
      try {
        await Promise.all(
          Array.from({ length: SENDERS }, async () => {
            while (next < order.length) {
              const body = bodies[order[next++] as number] as string;
              const res = await sender.send(`/v1/webhooks/${gateway.id}`, body, {
                'stripe-signature': signHeader(body, SECRET, timestamp),
              });
              if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
            }
          }),
        );
      } finally {
        sender.close();
      }
      expect(failures.slice(0, 3)).toEqual([]);

      // Processing starts a little after the last arrival, as it does in `settle serve` under a burst.
      h.clock.advance(2000);
      for (let pass = 0; pass < 200; pass += 1) {
        const summary = await processWebhookEvents(h.deps, { limit: 500 });
        expect(summary.failed).toBe(0);
        if (summary.picked === 0) break;
      }
      const stored = await h.deps.db
        .selectFrom('webhook_events')
        .select(['status', 'attempts', 'deliveries'])
        .execute();
      expect(stored).toHaveLength(10_000);
      expect(stored.reduce((sum, e) => sum + e.deliveries, 0)).toBe(12_000);
      expect(stored.filter((e) => e.status !== 'processed' || e.attempts !== 1)).toEqual([]);

      const charges = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('processing_mode', '=', 'external')
        .where('transaction_type', '=', 'normal')
        .execute();
      expect(charges).toHaveLength(PAYMENTS);
      for (const c of charges) expect(c.amount).toBe(amounts.get(c.gateway_payment_intent ?? ''));
      const refunds = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('transaction_type', '=', 'refund')
        .execute();
      expect(refunds).toHaveLength(refunded.length);
      expect(refunds.every((r) => r.amount === -300 && r.source === 'webhook' && r.status === 'completed')).toBe(true);
      const partially = charges.filter((c) => c.payment_status === 'partially_refunded');
      expect(partially).toHaveLength(refunded.length);
      expect(partially.every((c) => c.refunded_amount === 300)).toBe(true);
    }, 240_000);
  },
  { emulator: true },
);
