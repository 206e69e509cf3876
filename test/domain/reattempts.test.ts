// S2: which declines are hard (never reattempted) and when the next attempt is due.
import { describe, expect, it } from 'vitest';
import { addDays, isHardDecline, isSoftDecline, reattemptDueDate } from '../../src/domain/reattempts.js';

const decline = (
  fields: Partial<{ error_code: string; decline_code: string; advice_code: string; error_type: string }>,
) => ({
  error_code: null,
  decline_code: null,
  advice_code: null,
  error_type: 'card_error',
  ...fields,
});

describe('reattempt rules', () => {
  it('S2: lost, stolen, fraudulent, do-not-try-again, expired card and the advice not to retry are hard declines', () => {
    for (const code of ['lost_card', 'stolen_card', 'fraudulent', 'do_not_try_again', 'pickup_card']) {
      expect(isHardDecline(decline({ error_code: 'card_declined', decline_code: code })), code).toBe(true);
      expect(isSoftDecline(decline({ error_code: 'card_declined', decline_code: code })), code).toBe(false);
    }
    expect(isHardDecline(decline({ error_code: 'expired_card' }))).toBe(true);
    expect(
      isHardDecline(
        decline({ error_code: 'card_declined', decline_code: 'generic_decline', advice_code: 'do_not_try_again' }),
      ),
    ).toBe(true);
  });

  it('S2: insufficient funds, a generic decline and "try again later" are soft; errors that are not declines are neither', () => {
    for (const code of ['insufficient_funds', 'generic_decline', 'try_again_later', 'do_not_honor']) {
      expect(isSoftDecline(decline({ error_code: 'card_declined', decline_code: code })), code).toBe(true);
    }
    expect(
      isSoftDecline(
        decline({ error_code: 'card_declined', decline_code: 'insufficient_funds', advice_code: 'try_again_later' }),
      ),
    ).toBe(true);
    expect(isSoftDecline(decline({ error_type: 'invalid_request_error', error_code: 'amount_too_small' }))).toBe(false);
    expect(isSoftDecline(decline({ error_type: 'api_error', error_code: 'not_performed' }))).toBe(false);
    expect(isSoftDecline(decline({ error_type: null as unknown as string }))).toBe(false);
  });

  it('S2: attempt n is due gaps[n] days after the failure, never before today, and none once the gaps are used', () => {
    expect(reattemptDueDate('2026-11-24', 0, [1, 1, 1, 1], '2026-11-24')).toBe('2026-11-25');
    expect(reattemptDueDate('2026-11-24', 1, [2, 3], '2026-11-24')).toBe('2026-11-27');
    expect(reattemptDueDate('2026-11-24', 2, [2, 3], '2026-11-24')).toBeNull();
    // Swept late (the failure was a week ago): due today, not in the past.
    expect(reattemptDueDate('2026-11-10', 0, [1], '2026-11-24')).toBe('2026-11-24');
  });

  it('addDays crosses months, years and leap days', () => {
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2027-02-28', 1)).toBe('2027-03-01');
    expect(() => addDays('2026-13', 1)).toThrow(RangeError);
  });
});
