// The batch jobs' selection rules (S1) with a fake clock, end to end: transactions made through the API, the job
// run through POST /v1/jobs/{name}/run, the result read back from the API and the emulator (real SDK). Then the SQL
// selection against the domain rules it restates, and rules awkward to reach through the API. One harness per
// database for the whole file: each test leaves nothing due behind it.
import { expect, it } from 'vitest';
import { TRANSACTION_ID_METADATA_KEY } from '../../src/app/gateway-port.js';
import { isPaymentMethodUsable } from '../../src/domain/to-fix.js';
import { countDue, selectDue } from '../../src/jobs/selections.js';
import { progressLine } from '../../src/cli/progress.js';
import { describeEachDatabase } from '../support/harness.js';
import type { PaymentMethodStatus } from '../../src/store/schema.js';
import {
  charge,
  expectStatus,
  getTrx,
  leaveNothingDue,
  paymentMethod,
  runJob,
  setSettings,
  stripeOf,
} from './support.js';

const TODAY = '2026-11-24'; // the harness clock: 2026-11-24T12:00:00Z, timezone UTC
const DAY = TODAY;
const rule = (now: Date) => ({ day: DAY, dueTodayOnly: false, now });

describeEachDatabase(
  'batch jobs',
  (get) => {
    it('S1: charges exactly the open auto-process charges due by today with a usable method, off-session; the rest are left as they are', async () => {
      const h = get();
      const visa = await paymentMethod(h);
      const expired = await paymentMethod(h, 'pm_card_visa', { exp_month: 10, exp_year: 2026 });
      const sca = await paymentMethod(h, 'pm_card_authenticationRequired');
      const declined = await paymentMethod(h, 'pm_card_visa_chargeDeclinedInsufficientFunds');
      const t = {
        dueToday: await charge(h, { payment_method_id: visa, due_date: TODAY, amount: 1001 }),
        overdue: await charge(h, { payment_method_id: visa, due_date: '2026-11-02', amount: 1002 }),
        toProcessToday: await charge(h, {
          payment_method_id: visa,
          due_date: '2026-12-30',
          date_to_process: TODAY,
          amount: 1003,
        }),
        authorizeFlag: await charge(h, { payment_method_id: visa, due_date: TODAY, authorize: true, amount: 1004 }),
        scaOffSession: await charge(h, { payment_method_id: sca, due_date: TODAY, amount: 1005 }),
        declined: await charge(h, { payment_method_id: declined, due_date: TODAY, amount: 1006 }),
        tomorrow: await charge(h, { payment_method_id: visa, due_date: '2026-11-25' }),
        toProcessLater: await charge(h, {
          payment_method_id: visa,
          due_date: '2026-11-01',
          date_to_process: '2026-11-30',
        }),
        onHold: await charge(h, { payment_method_id: visa, due_date: TODAY, status: 'on_hold' }),
        canceled: await charge(h, { payment_method_id: visa, due_date: TODAY }),
        expiredCard: await charge(h, { payment_method_id: expired, due_date: TODAY }),
        noMethod: await charge(h, { due_date: TODAY }),
        notAuto: await charge(h, { payment_method_id: visa, due_date: TODAY, auto_process: false }),
        noDate: await charge(h, { payment_method_id: visa }),
      };
      expectStatus(await h.request('PATCH', `/v1/transactions/${t.canceled.id}`, { status: 'canceled' }), 200);

      const run = await runJob(h, 'daily_charges');
      expect(run).toMatchObject({
        job: 'daily_charges',
        trigger: 'api',
        status: 'succeeded',
        total: 6,
        picked: 6,
        succeeded: 4,
        failed: 2,
        skipped: 0,
        error_count: 2,
      });
      expect(run.errors.map((e: any) => [e.transaction_id, e.code]).sort()).toEqual(
        [
          [t.declined.id, 'insufficient_funds'],
          [t.scaOffSession.id, 'authentication_required'],
        ].sort(),
      );

      const state = async (x: { id: string }) => {
        const row = await getTrx(h, x.id);
        return `${row.status}/${row.payment_status ?? '-'}`;
      };
      expect(await state(t.dueToday)).toBe('completed/captured');
      expect(await state(t.overdue)).toBe('completed/captured');
      expect(await state(t.toProcessToday)).toBe('completed/captured');
      expect(await state(t.authorizeFlag)).toBe('completed/authorized');
      expect(await state(t.scaOffSession)).toBe('pending_payment_intent/-');
      expect(await state(t.declined)).toBe('failed/-');
      for (const left of [t.tomorrow, t.toProcessLater, t.expiredCard, t.noMethod, t.notAuto, t.noDate])
        expect(await state(left)).toBe('open/-');
      expect(await state(t.onHold)).toBe('on_hold/-');
      expect(await state(t.canceled)).toBe('canceled/-');
      expect((await getTrx(h, t.scaOffSession.id)).decline_code).toBe('authentication_required');

      // The emulator holds one payment per charged transaction, each off-session, each named by our id.
      const intents = (await stripeOf(h).paymentIntents.list({ limit: 100 })).data;
      const charged = [t.dueToday, t.overdue, t.toProcessToday, t.authorizeFlag, t.scaOffSession, t.declined]
        .map((x) => x.id)
        .sort();
      expect(intents.map((pi) => pi.metadata[TRANSACTION_ID_METADATA_KEY]).sort()).toEqual(charged);

      // Run again: nothing is due any more, nothing is charged twice.
      const again = await runJob(h, 'daily_charges');
      expect(again).toMatchObject({ status: 'succeeded', total: 0, picked: 0 });
      expect((await stripeOf(h).paymentIntents.list({ limit: 100 })).data).toHaveLength(6);
      await leaveNothingDue(h);
    });

    it('S1: with auto_process_due_today_only, only what is due exactly today is charged', async () => {
      const h = get();
      const visa = await paymentMethod(h);
      await setSettings(h, { auto_process_due_today_only: true });
      try {
        const today = await charge(h, { payment_method_id: visa, due_date: TODAY });
        const yesterday = await charge(h, { payment_method_id: visa, due_date: '2026-11-23' });
        const run = await runJob(h, 'daily_charges');
        expect(run).toMatchObject({ status: 'succeeded', picked: 1, succeeded: 1 });
        expect((await getTrx(h, today.id)).status).toBe('completed');
        expect((await getTrx(h, yesterday.id)).status).toBe('open');
      } finally {
        await setSettings(h, { auto_process_due_today_only: false });
      }
      await leaveNothingDue(h);
    });

    it('S1: "today" is the date in the timezone setting', async () => {
      const h = get();
      const visa = await paymentMethod(h);
      // 12:00 UTC on the 24th is already the 25th in Auckland (UTC+13).
      await setSettings(h, { timezone: 'Pacific/Auckland' });
      try {
        const tomorrowUtc = await charge(h, { payment_method_id: visa, due_date: '2026-11-25' });
        const dayAfter = await charge(h, { payment_method_id: visa, due_date: '2026-11-26' });
        const run = await runJob(h, 'daily_charges');
        expect(run).toMatchObject({ status: 'succeeded', failed: 0 });
        expect((await getTrx(h, tomorrowUtc.id)).status).toBe('completed');
        expect((await getTrx(h, dayAfter.id)).status).toBe('open');
      } finally {
        await setSettings(h, { timezone: 'UTC' });
      }
      await leaveNothingDue(h);
    });

    it('S1: captures authorized charges that are due (auto-process or the capture flag), not the others', async () => {
      const h = get();
      const visa = await paymentMethod(h);
      const authorize = async (fields: Record<string, unknown>) => {
        const t = await charge(h, { payment_method_id: visa, auto_process: false, ...fields });
        expectStatus(await h.request('POST', `/v1/transactions/${t.id}/authorize`), 200);
        return t;
      };
      const due = await authorize({ auto_process: true, authorize: true, due_date: TODAY, amount: 2001 });
      const flagged = await authorize({ capture: true, due_date: '2026-11-01', amount: 2002 });
      const later = await authorize({ auto_process: true, authorize: true, due_date: '2026-11-27' });
      const noFlag = await authorize({ due_date: TODAY });
      const run = await runJob(h, 'capture_authorized');
      expect(run).toMatchObject({ status: 'succeeded', total: 2, picked: 2, succeeded: 2, failed: 0 });
      expect(await getTrx(h, due.id)).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        captured_amount: 2001,
      });
      expect(await getTrx(h, flagged.id)).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        captured_amount: 2002,
      });
      expect(await getTrx(h, later.id)).toMatchObject({ payment_status: 'authorized' });
      expect(await getTrx(h, noFlag.id)).toMatchObject({ payment_status: 'authorized' });
      await leaveNothingDue(h);
    });

    it("S1: sends scheduled refunds that are due, on the original's payment method, within what can be refunded", async () => {
      const h = get();
      const visa = await paymentMethod(h);
      const other = await paymentMethod(h);
      const original = await charge(h, { payment_method_id: visa, auto_process: false, amount: 5000 });
      expectStatus(await h.request('POST', `/v1/transactions/${original.id}/capture`), 200);
      const refund = (fields: Record<string, unknown>) =>
        charge(h, {
          transaction_type: 'refund',
          original_transaction_id: original.id,
          payment_method_id: visa,
          due_date: TODAY,
          amount: -700,
          ...fields,
        });
      const due = await refund({});
      const otherMethod = await refund({ payment_method_id: other });
      const later = await refund({ due_date: '2026-11-28' });
      const notAuto = await refund({ auto_process: false });
      const tooMuch = await refund({ amount: -4800 });
      const run = await runJob(h, 'scheduled_refunds');
      // Both due ones are picked and sent side by side: 700 + 4800 is more than the 5000 captured, so whichever comes
      // second is refused (never both) and stays open for someone to correct.
      expect(run).toMatchObject({ status: 'succeeded', total: 2, picked: 2, succeeded: 1, failed: 1 });
      const [refunded, refused] = (await getTrx(h, due.id)).status === 'completed' ? [due, tooMuch] : [tooMuch, due];
      expect(run.errors).toEqual([
        expect.objectContaining({ transaction_id: refused.id, code: 'amount_exceeds_refundable' }),
      ]);
      expect(await getTrx(h, refunded.id)).toMatchObject({ status: 'completed', payment_status: 'refunded' });
      expect(await getTrx(h, refused.id)).toMatchObject({ status: 'open' });
      for (const left of [otherMethod, later, notAuto]) expect((await getTrx(h, left.id)).status).toBe('open');
      expect(await getTrx(h, original.id)).toMatchObject({
        payment_status: 'partially_refunded',
        refunded_amount: -refunded.amount,
      });
      const refunds = (await stripeOf(h).refunds.list({ limit: 100 })).data;
      expect(refunds.map((r) => [r.amount, r.metadata?.[TRANSACTION_ID_METADATA_KEY]])).toEqual([
        [-refunded.amount, refunded.id],
      ]);
      await leaveNothingDue(h);
    });

    it('S1: the SQL payment-method rule picks exactly the methods isPaymentMethodUsable accepts', async () => {
      const h = get();
      const variants: {
        type: 'card' | 'us_bank_account';
        status: PaymentMethodStatus;
        exp_month: number | null;
        exp_year: number | null;
      }[] = [];
      for (const status of ['valid', 'one_time', 'invalid', 'expired', 'new', 'deleted_from_gateway'] as const) {
        for (const [m, y] of [
          [null, null],
          [11, 2026],
          [10, 2026],
          [12, 2025],
          [1, 2027],
          [12, 2030],
        ] as const)
          variants.push({ type: 'card', status, exp_month: m, exp_year: y });
      }
      for (const status of ['new', 'pending', 'verified', 'verification_failed', 'errored'] as const)
        variants.push({ type: 'us_bank_account', status, exp_month: null, exp_year: null });
      const expected = new Map<string, boolean>();
      for (const v of variants) {
        const pm = await paymentMethod(h, 'pm_card_visa');
        await h.deps.db.updateTable('payment_methods').set(v).where('id', '=', pm).execute();
        const t = await charge(h, { payment_method_id: pm, due_date: DAY });
        expected.set(t.id, isPaymentMethodUsable(v, DAY));
      }
      const picked = new Set(
        (await selectDue(h.deps.db, 'daily_charges', rule(h.clock.now())).execute()).map((r) => r.id),
      );
      for (const [id, usable] of expected) expect(picked.has(id), `${id} usable=${usable}`).toBe(usable);
      expect([...expected.values()].filter(Boolean).length).toBeGreaterThan(5);
      await h.deps.db
        .updateTable('transactions')
        .set({ status: 'canceled' })
        .where('id', 'in', [...expected.keys()])
        .execute();
      await leaveNothingDue(h);
    });

    it('S1: capture_authorized skips an authorization that has lapsed', async () => {
      const h = get();
      const pm = await paymentMethod(h);
      const lapsed = await charge(h, { payment_method_id: pm, due_date: DAY, auto_process: false, capture: true });
      const fresh = await charge(h, { payment_method_id: pm, due_date: DAY, auto_process: false, capture: true });
      const now = h.clock.now();
      const authorized = (pi: string, expires: number) => ({
        status: 'completed' as const,
        payment_status: 'authorized' as const,
        authorized_amount: 1000,
        gateway_payment_intent: pi,
        authorization_expires_at: new Date(expires),
      });
      await h.deps.db
        .updateTable('transactions')
        .set(authorized(`pi_${lapsed.id}`, now.getTime() - 1000))
        .where('id', '=', lapsed.id)
        .execute();
      await h.deps.db
        .updateTable('transactions')
        .set(authorized(`pi_${fresh.id}`, now.getTime() + 86_400_000))
        .where('id', '=', fresh.id)
        .execute();
      const picked = (await selectDue(h.deps.db, 'capture_authorized', rule(now)).execute()).map((r) => r.id);
      expect(picked).toContain(fresh.id);
      expect(picked).not.toContain(lapsed.id);
      expect(await countDue(h.deps.db, 'capture_authorized', rule(now))).toBe(picked.length);
      await leaveNothingDue(h);
    });
  },
  { emulator: true },
);

it('the progress line shows a bar, the counts and the rate', () => {
  expect(progressLine({ total: 200, picked: 50, succeeded: 45, failed: 4, skipped: 1 }, 2000)).toBe(
    '[#######.......................]  25% 50/200 (45 succeeded, 4 failed, 1 skipped, 25/s)',
  );
  expect(progressLine({ total: null, picked: 3, succeeded: 3, failed: 0, skipped: 0 }, 1000)).toBe(
    '3 processed (3 succeeded, 0 failed, 0 skipped, 3/s)',
  );
  expect(progressLine({ total: 10, picked: 12, succeeded: 12, failed: 0, skipped: 0 }, 0)).toContain('100% 10/10');
});
