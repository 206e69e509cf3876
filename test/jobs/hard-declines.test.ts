// S2, one test per hard decline: a charge that failed with it is never reattempted, neither by the reattempts job
// nor by hand (POST /v1/transactions/{id}/reattempt answers 409 hard_decline), while a charge that failed with a
// soft decline is reattempted by the job, once (by hand it then finds the job's reattempt: 409 already_reattempted).
//
// Each charge fails for real (through the emulator, by the daily charges job). The emulator has test cards for
// lost, stolen and expired cards; the other declines (fraudulent, do_not_try_again, expired_card in only one of
// `code` and `decline_code`, the advice not to try again) are written onto a card's failure as Stripe would have
// sent them, over a generic decline (card_error, card_declined, generic_decline).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { charge, expectStatus, getTrx, leaveNothingDue, paymentMethod, runJob, setSettings } from './support.js';

interface DeclineCase {
  name: string;
  /** The emulator's test card it fails with. */
  card: string;
  /** The decline fields written over the card's own, as Stripe sends them for this decline. */
  decline?: { error_code: string; decline_code: string | null; advice_code: string | null };
  /** What the failed transaction then shows. */
  shows: { error_code: string; decline_code: string | null; advice_code: string | null };
}

const GENERIC = 'pm_card_visa_chargeDeclined';

const HARD: DeclineCase[] = [
  {
    name: 'decline_code lost_card',
    card: 'pm_card_visa_chargeDeclinedLostCard',
    // The test card also sends advice_code do_not_try_again, as Stripe does: cleared, so the decline_code alone decides.
    decline: { error_code: 'card_declined', decline_code: 'lost_card', advice_code: null },
    shows: { error_code: 'card_declined', decline_code: 'lost_card', advice_code: null },
  },
  {
    name: 'decline_code stolen_card',
    card: 'pm_card_visa_chargeDeclinedStolenCard',
    decline: { error_code: 'card_declined', decline_code: 'stolen_card', advice_code: null },
    shows: { error_code: 'card_declined', decline_code: 'stolen_card', advice_code: null },
  },
  {
    name: 'decline_code fraudulent',
    card: GENERIC,
    decline: { error_code: 'card_declined', decline_code: 'fraudulent', advice_code: null },
    shows: { error_code: 'card_declined', decline_code: 'fraudulent', advice_code: null },
  },
  {
    name: 'decline_code do_not_try_again',
    card: GENERIC,
    decline: { error_code: 'card_declined', decline_code: 'do_not_try_again', advice_code: null },
    shows: { error_code: 'card_declined', decline_code: 'do_not_try_again', advice_code: null },
  },
  {
    name: 'expired_card as code (no decline_code)',
    card: GENERIC,
    decline: { error_code: 'expired_card', decline_code: null, advice_code: null },
    shows: { error_code: 'expired_card', decline_code: null, advice_code: null },
  },
  {
    name: 'expired_card as decline_code (code card_declined)',
    card: GENERIC,
    decline: { error_code: 'card_declined', decline_code: 'expired_card', advice_code: null },
    shows: { error_code: 'card_declined', decline_code: 'expired_card', advice_code: null },
  },
  {
    name: 'expired_card as both, as the test card sends it',
    card: 'pm_card_chargeDeclinedExpiredCard',
    // Stripe sends advice_code confirm_card_data with it (not a do-not-retry advice): the codes decide.
    shows: { error_code: 'expired_card', decline_code: 'expired_card', advice_code: 'confirm_card_data' },
  },
  {
    name: 'advice_code do_not_try_again on an otherwise soft decline (generic_decline)',
    card: GENERIC,
    decline: { error_code: 'card_declined', decline_code: 'generic_decline', advice_code: 'do_not_try_again' },
    shows: { error_code: 'card_declined', decline_code: 'generic_decline', advice_code: 'do_not_try_again' },
  },
  {
    name: 'advice_code do_not_try_again on insufficient_funds',
    card: 'pm_card_visa_chargeDeclinedInsufficientFunds',
    decline: { error_code: 'card_declined', decline_code: 'insufficient_funds', advice_code: 'do_not_try_again' },
    shows: { error_code: 'card_declined', decline_code: 'insufficient_funds', advice_code: 'do_not_try_again' },
  },
];

const SOFT: DeclineCase[] = [
  {
    name: 'decline_code insufficient_funds',
    card: 'pm_card_visa_chargeDeclinedInsufficientFunds',
    shows: { error_code: 'card_declined', decline_code: 'insufficient_funds', advice_code: 'try_again_later' },
  },
  {
    name: 'decline_code generic_decline',
    card: GENERIC,
    shows: { error_code: 'card_declined', decline_code: 'generic_decline', advice_code: 'try_again_later' },
  },
  {
    name: 'decline_code generic_decline with advice_code try_again_later',
    card: GENERIC,
    decline: { error_code: 'card_declined', decline_code: 'generic_decline', advice_code: 'try_again_later' },
    shows: { error_code: 'card_declined', decline_code: 'generic_decline', advice_code: 'try_again_later' },
  },
];

/** A due charge on `c.card`, failed by the daily charges job, with `c.decline` written over its decline fields. */
async function failedCharge(h: Harness, c: DeclineCase): Promise<string> {
  await leaveNothingDue(h);
  const today = h.clock.now().toISOString().slice(0, 10);
  const created = await charge(h, { payment_method_id: await paymentMethod(h, c.card), due_date: today });
  expect(await runJob(h, 'daily_charges')).toMatchObject({ picked: 1, failed: 1 });
  if (c.decline) await h.deps.db.updateTable('transactions').set(c.decline).where('id', '=', created.id).execute();
  const failed = await getTrx(h, created.id);
  expect(failed).toMatchObject({ status: 'failed', error_type: 'card_error', ...c.shows });
  return created.id;
}

const reattemptsOf = async (h: Harness, id: string) =>
  h.deps.db.selectFrom('transactions').select(['id', 'reattempt_number']).where('reattempt_of_id', '=', id).execute();

describeEachDatabase(
  'hard declines are never reattempted (S2)',
  (get) => {
    beforeAll(async () => {
      const h = get();
      await setSettings(h, { reattempts_enabled: true, reattempt_day_gaps: [1, 1] });
      h.clock.advance(60_000); // failures from here on are after reattempts were switched on
    });
    afterAll(async () => {
      await setSettings(get(), { reattempts_enabled: false });
    });

    for (const c of HARD) {
      it(`${c.name}: never reattempted, by the job or by hand`, async () => {
        const h = get();
        const id = await failedCharge(h, c);
        await runJob(h, 'reattempts');
        await runJob(h, 'reattempts');
        expect(await reattemptsOf(h, id)).toEqual([]);
        const byHand = await h.request('POST', `/v1/transactions/${id}/reattempt`);
        expectStatus(byHand, 409);
        expect(byHand.body.error.code).toBe('hard_decline');
        expect(await reattemptsOf(h, id)).toEqual([]);
      });
    }

    for (const c of SOFT) {
      it(`${c.name} (soft): the job reattempts it, once; by hand it is then already reattempted`, async () => {
        const h = get();
        const id = await failedCharge(h, c);
        await runJob(h, 'reattempts');
        await runJob(h, 'reattempts');
        const made = await reattemptsOf(h, id);
        expect(made).toEqual([{ id: expect.any(String), reattempt_number: 1 }]);
        const byHand = await h.request('POST', `/v1/transactions/${id}/reattempt`);
        expectStatus(byHand, 409);
        expect(byHand.body.error.code).toBe('already_reattempted');
      });
    }
  },
  { emulator: true },
);
