// S1: the batch jobs' SQL selection agrees with the domain rules it restates (payment-method usability), and the
// rules that are awkward to reach through the API: a lapsed authorization, an unverified bank account.
import { expect, it } from 'vitest';
import { isPaymentMethodUsable } from '../../src/domain/to-fix.js';
import { countDue, selectDue } from '../../src/jobs/selections.js';
import { progressLine } from '../../src/cli/progress.js';
import { describeEachDatabase } from '../support/harness.js';
import { charge, expectStatus, paymentMethod } from './support.js';

const DAY = '2026-11-24';
const rule = (now: Date) => ({ day: DAY, dueTodayOnly: false, now });

describeEachDatabase('job selections', (get) => {
  it('S1: the SQL payment-method rule picks exactly the methods isPaymentMethodUsable accepts', async () => {
    const h = get();
    const variants: { type: 'card' | 'us_bank_account'; status: string; exp_month: number | null; exp_year: number | null }[] = [];
    for (const status of ['valid', 'one_time', 'invalid', 'expired', 'new', 'deleted_from_gateway']) {
      for (const [m, y] of [[null, null], [11, 2026], [10, 2026], [12, 2025], [1, 2027], [12, 2030]] as const) variants.push({ type: 'card', status, exp_month: m, exp_year: y });
    }
    for (const status of ['new', 'pending', 'verified', 'verification_failed', 'errored']) variants.push({ type: 'us_bank_account', status, exp_month: null, exp_year: null });
    const expected = new Map<string, boolean>();
    for (const v of variants) {
      const pm = await paymentMethod(h, 'pm_card_visa');
      await h.deps.db.updateTable('payment_methods').set(v).where('id', '=', pm).execute();
      const t = await charge(h, { payment_method_id: pm, due_date: DAY });
      expected.set(t.id, isPaymentMethodUsable(v, DAY));
    }
    const picked = new Set((await selectDue(h.deps.db, 'daily_charges', rule(h.clock.now())).execute()).map((r) => r.id));
    for (const [id, usable] of expected) expect(picked.has(id), `${id} usable=${usable}`).toBe(usable);
    expect([...expected.values()].filter(Boolean).length).toBeGreaterThan(5);
    await h.deps.db.updateTable('transactions').set({ status: 'canceled' }).where('id', 'in', [...expected.keys()]).execute();
  });

  it('S1: capture_authorized skips an authorization that has lapsed', async () => {
    const h = get();
    const pm = await paymentMethod(h);
    const lapsed = await charge(h, { payment_method_id: pm, due_date: DAY, auto_process: false, capture: true });
    const fresh = await charge(h, { payment_method_id: pm, due_date: DAY, auto_process: false, capture: true });
    const now = h.clock.now();
    const authorized = (pi: string, expires: number) => ({ status: 'completed', payment_status: 'authorized', authorized_amount: 1000, gateway_payment_intent: pi, authorization_expires_at: new Date(expires) });
    await h.deps.db.updateTable('transactions').set(authorized(`pi_${lapsed.id}`, now.getTime() - 1000)).where('id', '=', lapsed.id).execute();
    await h.deps.db.updateTable('transactions').set(authorized(`pi_${fresh.id}`, now.getTime() + 86_400_000)).where('id', '=', fresh.id).execute();
    const picked = (await selectDue(h.deps.db, 'capture_authorized', rule(now)).execute()).map((r) => r.id);
    expect(picked).toContain(fresh.id);
    expect(picked).not.toContain(lapsed.id);
    expect(await countDue(h.deps.db, 'capture_authorized', rule(now))).toBe(picked.length);
    expectStatus(await h.request('GET', `/v1/transactions/${fresh.id}`), 200);
  });
});

it('the progress line shows a bar, the counts and the rate', () => {
  expect(progressLine({ total: 200, picked: 50, succeeded: 45, failed: 4, skipped: 1 }, 2000)).toBe(
    '[#######.......................]  25% 50/200 (45 succeeded, 4 failed, 1 skipped, 25/s)',
  );
  expect(progressLine({ total: null, picked: 3, succeeded: 3, failed: 0, skipped: 0 }, 1000)).toBe('3 processed (3 succeeded, 0 failed, 0 skipped, 3/s)');
  expect(progressLine({ total: 10, picked: 12, succeeded: 12, failed: 0, skipped: 0 }, 0)).toContain('100% 10/10');
});
