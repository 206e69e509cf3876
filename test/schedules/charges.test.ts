// X6 through the Stripe emulator: the daily charges job charges a generated occurrence like any other auto-process
// charge; a processed occurrence never takes a later change of amount; a soft decline is reattempted and the
// reattempt keeps schedule_id (and its occurrence).
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/harness.js';
import { expectNoDifferences, generated, ok, paymentMethod, runJob } from './support.js';

describeEachDatabase(
  'payment schedules charged through the emulator',
  (get) => {
    it('charges the occurrence due today, keeps it as charged, and reattempts a declined one with its schedule_id', async () => {
      const h = get();
      h.clock.set('2026-11-24T12:00:00Z');
      await ok(h, 'PATCH', '/v1/settings', { reattempts_enabled: true, reattempt_day_gaps: [1] });
      h.clock.advance(60_000);
      const visa = await paymentMethod(h);
      const declining = await paymentMethod(h, {}, 'pm_card_visa_chargeDeclinedInsufficientFunds');
      const body = { amount: 4200, currency: 'usd', interval: 'month', start_date: '2026-11-24' };
      const paid = await ok(h, 'POST', '/v1/payment-schedules', { ...body, payment_method_id: visa }, 201);
      const declined = await ok(h, 'POST', '/v1/payment-schedules', { ...body, payment_method_id: declining }, 201);
      expect([paid.generated_count, declined.generated_count]).toEqual([2, 2]);

      const run = await runJob(h, 'daily_charges');
      expect(run).toMatchObject({ status: 'succeeded', picked: 2, succeeded: 1, failed: 1 });
      const [charged, upcoming] = await generated(h, paid.id);
      expect(charged).toMatchObject({
        schedule_occurrence: 1,
        status: 'completed',
        payment_status: 'captured',
        captured_amount: 4200,
      });
      expect(upcoming).toMatchObject({ schedule_occurrence: 2, status: 'open', due_date: '2026-12-24' });

      // A new amount: the processed occurrence keeps its own; the open one takes it.
      await ok(h, 'PATCH', `/v1/payment-schedules/${paid.id}`, { amount: 5000 });
      const after = await generated(h, paid.id);
      expect(after.map((t) => [t.schedule_occurrence, t.status, t.amount])).toEqual([
        [1, 'completed', 4200],
        [2, 'open', 5000],
      ]);
      // Pause and cancel leave the processed one alone too.
      await ok(h, 'POST', `/v1/payment-schedules/${paid.id}/pause`);
      await ok(h, 'POST', `/v1/payment-schedules/${paid.id}/cancel`);
      expect((await generated(h, paid.id)).map((t) => t.status)).toEqual(['completed', 'canceled']);

      const [failed] = await generated(h, declined.id);
      expect(failed).toMatchObject({ schedule_occurrence: 1, status: 'failed' });
      h.clock.advance(60_000);
      expect(await runJob(h, 'reattempts')).toMatchObject({ status: 'succeeded', succeeded: 1 });
      const reattempt = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('reattempt_of_id', '=', failed!.id)
        .executeTakeFirstOrThrow();
      expect(reattempt).toMatchObject({
        schedule_id: declined.id,
        status: 'open',
        auto_process: true,
        amount: 4200,
        reattempt_number: 1,
        date_to_process: '2026-11-25',
      });
      // The reattempt is not a new occurrence: the schedule still counts two, and a top-up adds none.
      await runJob(h, 'payment_schedules');
      expect((await ok(h, 'GET', `/v1/payment-schedules/${declined.id}`)).generated_count).toBe(2);
      // A new payment method reaches the open reattempt too (the schedule's open transactions), not the failed one.
      const visa2 = await paymentMethod(h, {}, 'pm_card_mastercard');
      await ok(h, 'PATCH', `/v1/payment-schedules/${declined.id}`, { payment_method_id: visa2 });
      // Cancel: its open occurrence and the open reattempt are canceled; the failed one stays failed.
      await ok(h, 'POST', `/v1/payment-schedules/${declined.id}/cancel`);
      const rows = await generated(h, declined.id);
      expect(
        rows.map((t) => [t.id === reattempt.id ? 'reattempt' : t.schedule_occurrence, t.status, t.payment_method_id]),
      ).toEqual([
        [1, 'failed', declining],
        [2, 'canceled', visa2],
        ['reattempt', 'canceled', visa2],
      ]);
      await expectNoDifferences(h);
    });
  },
  { emulator: true },
);
