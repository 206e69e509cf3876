// Ensure funds and ensure refunds racing on one order (PostgreSQL; PGlite has a single connection). Each request
// plans and starts its captures or refunds in one database transaction that first takes the order's lock
// (lockOrder), so a second request plans from what the first left: a charge being captured is not available, a
// refund in flight counts against its charge. 10 requests at once, captures and refunds mixed, each with its own
// Idempotency-Key, are sized so that every one of them fits whatever order they run in: all must succeed, and the
// summaries must equal what the records, the transactions and the gateway say.
import { expect, it } from 'vitest';
import { describePostgres } from '../support/harness.js';
import {
  authorizedCharge,
  createPaymentMethod,
  emulatorOf,
  expectExact,
  expectReplay,
  expectStatus,
  newOrder,
  orderAction,
  stripeOf,
  summaries,
  type Json,
} from './support.js';

const CAPTURE = /^\/v1\/payment_intents\/[^/]+\/capture$/;
const REFUNDS = '/v1/refunds';

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describePostgres(
  'order ensure funds and ensure refunds under concurrency',
  (get) => {
    it('10 concurrent captures and refunds on one order: each plans from what the others left, all exact', async () => {
      const h = get();
      const orderId = await newOrder(h, { total: 20000 });
      const pm1 = await createPaymentMethod(h);
      const pm2 = await createPaymentMethod(h, 'pm_card_mastercard');
      // Captured before the race: three payments of 2000, 6000 to refund from.
      for (const pm of [pm1, pm2, pm1]) await authorizedCharge(h, orderId, pm, 2000);
      const first = await orderAction(h, 'capture', orderId, { amount: 6000 });
      expectStatus(first, 200);
      expect(first.body.captured_amount).toBe(6000);
      // Six authorizations of 1000 for the race's five captures of 1000: each takes one whole (oldest first, not one
      // in flight), whatever the order; one is left.
      const authorizations: string[] = [];
      for (const pm of [pm1, pm2, pm1, pm2, pm1, pm2]) {
        authorizations.push((await authorizedCharge(h, orderId, pm, 1000)).id);
      }
      // The gateway answers each capture and refund a little later, so requests plan while others' calls are out.
      const controls = emulatorOf(h).controls;
      controls.injectFault({ method: 'POST', path: CAPTURE, kind: 'delay', delayMs: 40, times: 100 });
      controls.injectFault({ method: 'POST', path: REFUNDS, kind: 'delay', delayMs: 40, times: 100 });

      const kinds: ('capture' | 'refund')[] = [
        'capture',
        'refund',
        'capture',
        'refund',
        'capture',
        'refund',
        'capture',
        'refund',
        'capture',
        'refund',
      ];
      const responses = await Promise.all(
        kinds.map((kind, i) => orderAction(h, kind, orderId, { amount: 1000 }, `race-${orderId}-${i}`)),
      );
      controls.clearFaults();
      for (const res of responses) expectStatus(res, 200);
      const captures = responses.filter((_, i) => kinds[i] === 'capture').flatMap((r) => r.body.captures as Json[]);
      const refunds = responses.filter((_, i) => kinds[i] === 'refund').flatMap((r) => r.body.refunds as Json[]);
      expect(captures.every((c) => c.status === 'succeeded')).toBe(true);
      expect(refunds.every((r) => r.status === 'succeeded')).toBe(true);
      // Each capture took one whole authorization, never one another request was capturing.
      expect(captures.map((c) => c.amount)).toEqual([1000, 1000, 1000, 1000, 1000]);
      expect(captures.every((c) => c.released_amount === 0)).toBe(true);
      expect(new Set(captures.map((c) => c.transaction_id)).size).toBe(5);
      expect(captures.every((c) => authorizations.includes(c.transaction_id))).toBe(true);
      expect(sum(refunds.map((r) => r.amount))).toBe(5000);

      // The summaries: what the successful responses add up to, and within their limits.
      const after = await summaries(h, orderId);
      const total = (field: string) => sum(after.map((s) => s[field] as number));
      expect(total('authorized_amount')).toBe(12000);
      expect(total('captured_amount')).toBe(6000 + sum(captures.map((c) => c.amount)));
      expect(total('refunded_amount')).toBe(sum(refunds.map((r) => r.amount)));
      expect(total('available_to_capture')).toBe(1000);
      expect(total('pending_amount')).toBe(0);
      for (const s of after) {
        expect(s.captured_amount).toBeLessThanOrEqual(s.authorized_amount);
        expect(s.refunded_amount).toBeLessThanOrEqual(s.captured_amount);
        expect(s.balance).toBe(s.captured_amount - s.refunded_amount);
        // Every record processed, and the summary the sum of its records.
        const records = [...s.authorizations, ...s.payments, ...s.refunds] as Json[];
        expect(records.every((r) => r.status === 'processed' && r.processing_mode === 'platform')).toBe(true);
        expect(s.captured_amount).toBe(sum(s.payments.map((r: Json) => r.amount)));
        expect(s.refunded_amount).toBe(sum(s.refunds.map((r: Json) => r.amount)));
        expect(s.authorized_amount).toBe(sum(s.authorizations.map((r: Json) => r.amount)));
      }
      // Each response's items name their summary.
      for (const item of [...captures, ...refunds]) expect(after.map((s) => s.id)).toContain(item.payment_summary_id);

      // The transactions and the gateway agree with them, charge by charge.
      const stripe = stripeOf(h);
      const charges = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('order_id', '=', orderId)
        .where('transaction_type', '=', 'normal')
        .execute();
      expect(charges).toHaveLength(9);
      for (const t of charges) {
        expect(t.status).toBe('completed');
        const pi = await stripe.paymentIntents.retrieve(t.gateway_payment_intent!);
        expect(pi.amount_received).toBe(t.captured_amount);
        if (t.captured_amount > 0) {
          const charge = await stripe.charges.retrieve(pi.latest_charge as string);
          expect(charge.amount_refunded).toBe(t.refunded_amount);
        } else expect(t.payment_status).toBe('authorized');
      }
      expect(sum(charges.map((t) => t.captured_amount))).toBe(total('captured_amount'));
      expect(sum(charges.map((t) => t.refunded_amount))).toBe(total('refunded_amount'));
      const attempts = await h.deps.db
        .selectFrom('gateway_attempts')
        .select(['state'])
        .where('transaction_id', 'in', [...charges.map((t) => t.id), ...refunds.map((r) => r.transaction_id)])
        .execute();
      expect(attempts.every((a) => a.state === 'succeeded')).toBe(true);

      // Replaying any of the ten returns its response and starts nothing.
      const counted = attempts.length;
      const replay = await orderAction(h, kinds[3]!, orderId, { amount: 1000 }, `race-${orderId}-3`);
      expectReplay(replay, responses[3]!.body);
      const attemptsNow = await h.deps.db
        .selectFrom('gateway_attempts')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('transaction_id', 'in', [...charges.map((t) => t.id), ...refunds.map((r) => r.transaction_id)])
        .executeTakeFirstOrThrow();
      expect(Number(attemptsNow.n)).toBe(counted);

      // The auditor's recomputation (totals, order records and summaries) finds nothing.
      await expectExact(h);
    });
  },
  { emulator: true, poolSize: 16 },
);
