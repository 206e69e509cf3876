// Reattempts (S2, P8): which failed charges get a new attempt, and when. Pure: no I/O imports.
//
// A hard decline is one the issuer or Stripe says will not succeed later: the card is lost, stolen, expired or
// flagged as fraud, or the decline says not to try again. Sources: Stripe's decline codes (stripe-facts: `code`
// vs `decline_code`, the decline_code list, `advice_code` replacing deprecated codes) and features.md S2.
export const HARD_DECLINE_CODES: readonly string[] = Object.freeze([
  'lost_card',
  'stolen_card',
  'pickup_card',
  'fraudulent',
  'merchant_blacklist',
  'do_not_try_again',
  'do_not_honor_permanently',
  'expired_card',
  'invalid_account',
  'revocation_of_all_authorizations',
  'revocation_of_authorization',
  'stop_payment_order',
]);

/** Stripe's advice_code that means "the issuer will not approve this card again". */
export const DO_NOT_RETRY_ADVICE = 'do_not_try_again';

export interface DeclineFields {
  error_code: string | null;
  decline_code: string | null;
  advice_code: string | null;
  error_type: string | null;
}

export function isHardDecline(d: DeclineFields): boolean {
  if (d.advice_code === DO_NOT_RETRY_ADVICE) return true;
  return (d.decline_code !== null && HARD_DECLINE_CODES.includes(d.decline_code)) || (d.error_code !== null && HARD_DECLINE_CODES.includes(d.error_code));
}

/**
 * A soft decline: the payment method's issuer said no this time (a `card_error`, which the emulator and Stripe also
 * use for a bank debit that bounced), and nothing says it will keep saying no. Errors of any other type (an invalid
 * request, a gateway fault) are not declines: trying the same thing again would fail the same way.
 */
export function isSoftDecline(d: DeclineFields): boolean {
  return d.error_type === 'card_error' && !isHardDecline(d);
}

export function addDays(day: string, days: number): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) throw new RangeError(`expected YYYY-MM-DD, got ${day}`);
  const utc = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days);
  return new Date(utc).toISOString().slice(0, 10);
}

/**
 * The day the next attempt is due: `gaps[n]` days after the failed attempt number `n` (0 for the first charge) failed,
 * never before `today`; null once every gap is used (`n >= gaps.length`).
 */
export function reattemptDueDate(failedOn: string, attemptNumber: number, gaps: readonly number[], today: string): string | null {
  const gap = gaps[attemptNumber];
  if (gap === undefined) return null;
  const due = addDays(failedOn, gap);
  return due < today ? today : due;
}
