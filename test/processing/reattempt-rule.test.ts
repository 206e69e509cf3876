// P8, S2: one rule decides whether a failed transaction is reattempted, by hand or by the reattempts job
// (app/processing/reattempt.ts, domain/reattempts.ts). A hard decline never is, either way; the job's schedule adds
// the soft decline, the gaps and the non-auto-process setting; both build the same linked, numbered transaction.
import { describe, expect, it } from 'vitest';
import { reattemptTransaction } from '../../src/app/processing/reattempt.js';
import { hardDeclineRefusal, scheduledReattempt } from '../../src/domain/reattempts.js';
import { createReattempts } from '../../src/jobs/reattempts.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { charge, expectStatus, paymentMethod, setSettings } from '../jobs/support.js';

const SOFT = 'pm_card_visa_chargeDeclinedInsufficientFunds';

async function failedCharge(h: Harness, token: string, fields: Record<string, unknown> = {}): Promise<any> {
  const open = await charge(h, { payment_method_id: await paymentMethod(h, token), auto_process: false, ...fields });
  const res = await h.request('POST', `/v1/transactions/${open.id}/capture`);
  expectStatus(res, 200);
  expect(res.body.status).toBe('failed');
  return res.body;
}

async function reattemptsOf(h: Harness, id: string) {
  return h.deps.db.selectFrom('transactions').selectAll().where('reattempt_of_id', '=', id).execute();
}

describe('the reattempt rule (pure)', () => {
  const source = {
    id: 'trx_1',
    record_type: 'charge',
    transaction_type: 'normal',
    non_gateway: false,
    auto_process: true,
    reattempt_number: 0,
  };
  const soft = {
    error_type: 'card_error',
    error_code: 'card_declined',
    decline_code: 'insufficient_funds',
    advice_code: null,
  };
  const schedule = {
    gaps: [2, 3],
    nonAutoProcess: false,
    failedAt: new Date('2026-11-24T12:00:00Z'),
    since: new Date('2026-11-24T00:00:00Z'),
    failedOn: '2026-11-24',
    today: '2026-11-24',
  };

  it('a hard decline is refused with its reason; a soft one is not', () => {
    expect(hardDeclineRefusal({ ...soft, id: 'trx_1' })).toBeNull();
    expect(hardDeclineRefusal({ ...soft, id: 'trx_1', decline_code: 'lost_card' })).toContain('lost_card');
    expect(hardDeclineRefusal({ ...soft, id: 'trx_1', error_code: 'expired_card', decline_code: null })).toContain(
      'expired_card',
    );
    expect(hardDeclineRefusal({ ...soft, id: 'trx_1', advice_code: 'do_not_try_again' })).toContain(
      'advice_code do_not_try_again',
    );
  });

  it('the schedule: due after the gap; not for non-charges, non-auto-process (unless set), other errors, old failures, used-up gaps', () => {
    expect(scheduledReattempt({ ...source, ...soft }, schedule)).toEqual({ due: '2026-11-26' });
    expect(scheduledReattempt({ ...source, ...soft, reattempt_number: 1 }, schedule)).toEqual({ due: '2026-11-27' });
    expect(scheduledReattempt({ ...source, ...soft, reattempt_number: 2 }, schedule)).toHaveProperty('skip');
    expect(scheduledReattempt({ ...source, ...soft, auto_process: false }, schedule)).toHaveProperty('skip');
    expect(
      scheduledReattempt({ ...source, ...soft, auto_process: false }, { ...schedule, nonAutoProcess: true }),
    ).toEqual({ due: '2026-11-26' });
    expect(scheduledReattempt({ ...source, ...soft, record_type: 'payout' }, schedule)).toHaveProperty('skip');
    expect(scheduledReattempt({ ...source, ...soft, non_gateway: true }, schedule)).toHaveProperty('skip');
    expect(scheduledReattempt({ ...source, ...soft, error_type: 'api_error' }, schedule)).toHaveProperty('skip');
    expect(
      scheduledReattempt({ ...source, ...soft }, { ...schedule, since: new Date('2026-11-25T00:00:00Z') }),
    ).toHaveProperty('skip');
    expect(scheduledReattempt({ ...source, ...soft }, { ...schedule, today: '2026-12-01' })).toEqual({
      due: '2026-12-01',
    });
  });
});

describeEachDatabase(
  'the reattempt rule',
  (get) => {
    it('S2 by hand: a hard decline (lost, stolen, expired, advice not to retry) is never reattempted; 409 hard_decline and nothing created', async () => {
      const h = get();
      const failures = [
        await failedCharge(h, 'pm_card_visa_chargeDeclinedLostCard'),
        await failedCharge(h, 'pm_card_visa_chargeDeclinedStolenCard'),
        await failedCharge(h, 'pm_card_chargeDeclinedExpiredCard'),
      ];
      // A soft decline whose gateway advice says not to try again (Stripe's advice_code, kept on the row).
      const advised = await failedCharge(h, SOFT);
      await h.deps.db
        .updateTable('transactions')
        .set({ advice_code: 'do_not_try_again' })
        .where('id', '=', advised.id)
        .execute();
      failures.push(advised);
      for (const failed of failures) {
        const res = await h.request('POST', `/v1/transactions/${failed.id}/reattempt`);
        expectStatus(res, 409);
        expect(res.body.error.code, failed.id).toBe('hard_decline');
        expect(await reattemptsOf(h, failed.id)).toEqual([]);
      }
      // A soft decline is reattempted by hand as before: open, linked, numbered, with its own flags.
      const soft = await failedCharge(h, SOFT);
      const res = await h.request('POST', `/v1/transactions/${soft.id}/reattempt`);
      expectStatus(res, 201);
      expect(res.body).toMatchObject({
        status: 'open',
        reattempt_of_id: soft.id,
        reattempt_number: 1,
        auto_process: false,
      });
      // The list finds a transaction's reattempt by reattempt_of_id (the console's Reattempts section).
      const listed = await h.request('GET', `/v1/transactions?reattempt_of_id=${soft.id}`);
      expectStatus(listed, 200);
      expect(listed.body.data.map((t: { id: string }) => t.id)).toEqual([res.body.id]);
      const none = await h.request('GET', `/v1/transactions?reattempt_of_id=${res.body.id}`);
      expect(none.body.data).toEqual([]);
    });

    it('the job goes through the same use case: its schedule on top, and what either path made the other sees', async () => {
      const h = get();
      h.clock.advance(60_000);
      await setSettings(h, { reattempts_enabled: true, reattempt_day_gaps: [2], reattempts_non_auto_process: false });
      h.clock.advance(60_000);
      const since = new Date(h.clock.now().getTime() - 60_000);
      const ctx = { actor: 'test' };
      const manual = await failedCharge(h, SOFT);
      const scheduled = await failedCharge(h, SOFT, { auto_process: true });
      const lost = await failedCharge(h, 'pm_card_visa_chargeDeclinedLostCard', { auto_process: true });

      // The scheduled call refuses what the schedule excludes, with the job's own reasons, and hard declines as by hand.
      await expect(reattemptTransaction(h.deps, ctx, manual.id, { scheduled: true, since })).rejects.toMatchObject({
        code: 'not_scheduled',
      });
      await expect(reattemptTransaction(h.deps, ctx, lost.id, { scheduled: true, since })).rejects.toMatchObject({
        code: 'hard_decline',
      });
      await expect(
        reattemptTransaction(h.deps, ctx, scheduled.id, {
          scheduled: true,
          since: new Date(h.clock.now().getTime() + 1000),
        }),
      ).rejects.toMatchObject({
        code: 'not_scheduled',
      });

      // The sweep creates the scheduled one through it: auto-process, due after the gap, linked and numbered.
      const counts = await createReattempts(h.deps, ctx);
      expect(counts).toMatchObject({ succeeded: 1, failed: 0 });
      const [made] = await reattemptsOf(h, scheduled.id);
      expect(made).toMatchObject({
        status: 'open',
        auto_process: true,
        reattempt_number: 1,
        date_to_process: '2026-11-26',
      });
      const history = await h.deps.db
        .selectFrom('transaction_history')
        .select(['action', 'changes'])
        .where('transaction_id', '=', made!.id)
        .execute();
      expect(JSON.stringify(history)).toContain(`reattempt 1 of ${scheduled.id}`);

      // By hand after the job: one reattempt per failure, whichever path came first.
      const again = await h.request('POST', `/v1/transactions/${scheduled.id}/reattempt`);
      expectStatus(again, 409);
      expect(again.body.error.code).toBe('already_reattempted');
      await expect(reattemptTransaction(h.deps, ctx, scheduled.id, { scheduled: true, since })).rejects.toMatchObject({
        code: 'already_reattempted',
      });
      await setSettings(h, { reattempts_enabled: false });
    });
  },
  { emulator: true },
);
