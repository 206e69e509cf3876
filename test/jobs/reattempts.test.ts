// S2: reattempts of failed charges, with a fake clock: the schedule of gaps, hard declines never, the settings, and
// one reattempt per failure even when sweeps race.
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createReattempts } from '../../src/jobs/reattempts.js';
import { describeEachDatabase } from '../support/harness.js';
import { charge, getTrx, paymentMethod, runJob, setSettings } from './support.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describeEachDatabase(
  'reattempts',
  (get, kind) => {
    it('S2: soft declines are reattempted after each gap until the gaps are used up; hard declines, non-auto ones and older failures are not', async () => {
      const h = get();
      const insufficient = await paymentMethod(h, 'pm_card_visa_chargeDeclinedInsufficientFunds');
      const lost = await paymentMethod(h, 'pm_card_visa_chargeDeclinedLostCard');
      const expired = await paymentMethod(h, 'pm_card_chargeDeclinedExpiredCard');

      // A failure from before reattempts were switched on is never reattempted.
      const before = await charge(h, { payment_method_id: insufficient, due_date: '2026-11-24' });
      expect(await runJob(h, 'daily_charges')).toMatchObject({ picked: 1, failed: 1 });
      h.clock.advance(60_000);
      await setSettings(h, { reattempts_enabled: true, reattempt_day_gaps: [2, 3] });
      h.clock.advance(60_000);

      const soft = await charge(h, {
        payment_method_id: insufficient,
        due_date: '2026-11-24',
        amount: 4321,
        description: 'instalment 3',
      });
      const lostCard = await charge(h, { payment_method_id: lost, due_date: '2026-11-24' });
      const expiredCard = await charge(h, { payment_method_id: expired, due_date: '2026-11-24' });
      const manual = await charge(h, { payment_method_id: insufficient, auto_process: false });
      expect((await h.request('POST', `/v1/transactions/${manual.id}/capture`)).body.status).toBe('failed');
      expect(await runJob(h, 'daily_charges')).toMatchObject({ picked: 3, failed: 3 });

      const run = await runJob(h, 'reattempts');
      expect(run).toMatchObject({ status: 'succeeded', picked: 1, succeeded: 1, failed: 0 });
      const reattemptsOf = async (id: string) =>
        (await h.request('GET', `/v1/transactions?view=scheduled_reattempts&limit=200`)).body.data.filter(
          (t: any) => t.reattempt_of_id === id,
        );
      const first = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('reattempt_of_id', '=', soft.id)
        .executeTakeFirstOrThrow();
      expect(first).toMatchObject({
        status: 'open',
        auto_process: true,
        amount: 4321,
        payment_method_id: insufficient,
        reattempt_number: 1,
        date_to_process: '2026-11-26',
        description: 'instalment 3',
      });
      for (const none of [before, lostCard, expiredCard, manual]) {
        expect(
          await h.deps.db.selectFrom('transactions').select('id').where('reattempt_of_id', '=', none.id).execute(),
          none.id,
        ).toEqual([]);
      }
      expect(await reattemptsOf(soft.id)).toHaveLength(1);
      // The sweep again: nothing new.
      expect(await runJob(h, 'reattempts')).toMatchObject({ picked: 0, succeeded: 0 });

      // "Also for non-auto-process ones": the manual failure (after reattempts were on) now qualifies.
      await setSettings(h, { reattempts_non_auto_process: true });
      expect(await runJob(h, 'reattempts')).toMatchObject({ picked: 1, succeeded: 1 });
      const manualRe = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('reattempt_of_id', '=', manual.id)
        .executeTakeFirstOrThrow();
      expect(manualRe).toMatchObject({ auto_process: true, reattempt_number: 1, date_to_process: '2026-11-26' });
      await setSettings(h, { reattempts_non_auto_process: false });

      // Not due tomorrow; due two days after the failure. It fails again: the next gap is 3 days.
      h.clock.advance(DAY_MS);
      expect(await runJob(h, 'daily_charges')).toMatchObject({ picked: 0 });
      h.clock.advance(DAY_MS);
      expect(await runJob(h, 'daily_charges')).toMatchObject({ picked: 2, failed: 2 });
      expect((await getTrx(h, first.id)).status).toBe('failed');
      expect(await runJob(h, 'reattempts')).toMatchObject({ picked: 2, succeeded: 2 });
      const second = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('reattempt_of_id', '=', first.id)
        .executeTakeFirstOrThrow();
      expect(second).toMatchObject({ reattempt_number: 2, date_to_process: '2026-11-29', status: 'open' });

      // The last gap is used: after this one fails, no more.
      h.clock.advance(3 * DAY_MS);
      expect(await runJob(h, 'daily_charges')).toMatchObject({ failed: 2 });
      expect((await getTrx(h, second.id)).status).toBe('failed');
      const last = await runJob(h, 'reattempts');
      expect(
        await h.deps.db.selectFrom('transactions').select('id').where('reattempt_of_id', '=', second.id).execute(),
      ).toEqual([]);
      expect(last).toMatchObject({ picked: 0, succeeded: 0 }); // both lines have used their two gaps
      await setSettings(h, { reattempts_enabled: false });
    });

    it('S2: with reattempts off, failures get no reattempt', async () => {
      const h = get();
      const insufficient = await paymentMethod(h, 'pm_card_visa_chargeDeclinedInsufficientFunds');
      const today = h.clock.now().toISOString().slice(0, 10);
      const failing = await charge(h, { payment_method_id: insufficient, due_date: today });
      await runJob(h, 'daily_charges');
      expect((await getTrx(h, failing.id)).status).toBe('failed');
      expect(await runJob(h, 'reattempts')).toMatchObject({ picked: 0, succeeded: 0 });
    });

    // PostgreSQL only: PGlite has one connection, so nothing there runs at the same time.
    it.skipIf(kind !== 'postgres')(
      'S2: sweeps racing each other and a person reattempting by hand create one reattempt per failure',
      async () => {
        const h = get();
        const insufficient = await paymentMethod(h, 'pm_card_visa_chargeDeclinedInsufficientFunds');
        h.clock.advance(60_000); // after the earlier tests' failures: those are not reattempted
        await setSettings(h, { reattempts_enabled: true });
        h.clock.advance(60_000);
        const failed = [];
        for (let i = 0; i < 10; i += 1)
          failed.push(await charge(h, { payment_method_id: insufficient, due_date: '2026-11-24', amount: 1000 + i }));
        expect(await runJob(h, 'daily_charges')).toMatchObject({ failed: 10 });
        const ctx = { actor: 'test' };
        const results = await Promise.all([
          createReattempts(h.deps, ctx),
          createReattempts(h.deps, ctx),
          createReattempts(h.deps, ctx),
          ...failed.slice(0, 5).map((t) => h.request('POST', `/v1/transactions/${t.id}/reattempt`)),
        ]);
        const created = results.slice(0, 3).reduce((n, r: any) => n + r.succeeded, 0);
        const byHand = results.slice(3).filter((r: any) => r.status === 201).length;
        expect(created + byHand).toBe(10);
        const ids = failed.map((t) => t.id);
        const rows = await sql<{
          reattempt_of_id: string;
          n: string;
        }>`select reattempt_of_id, count(*) as n from transactions where reattempt_of_id = any(${ids}::text[]) group by 1`.execute(
          h.deps.db,
        );
        expect(rows.rows).toHaveLength(10);
        expect(rows.rows.every((r) => Number(r.n) === 1)).toBe(true);
        for (const r of results.slice(3) as any[]) expect([201, 409], JSON.stringify(r.body)).toContain(r.status);
      },
    );
  },
  { emulator: true },
);
