// Reattempts (S2, P8): which failed charges get a new attempt, and when. Pure: no I/O imports.
//
// A hard decline is one the issuer or Stripe says will not succeed later: the card is lost, stolen, expired or
// flagged as fraud, or the decline says not to try again. Sources: Stripe's decline codes
// (https://docs.stripe.com/declines/codes: `code` vs `decline_code`, the decline_code list, `advice_code` replacing
// deprecated codes; docs/STRIPE.md, "Errors and declines") and S2 (docs/FEATURES.md).
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
  return (
    (d.decline_code !== null && HARD_DECLINE_CODES.includes(d.decline_code)) ||
    (d.error_code !== null && HARD_DECLINE_CODES.includes(d.error_code))
  );
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
export function reattemptDueDate(
  failedOn: string,
  attemptNumber: number,
  gaps: readonly number[],
  today: string,
): string | null {
  const gap = gaps[attemptNumber];
  if (gap === undefined) return null;
  const due = addDays(failedOn, gap);
  return due < today ? today : due;
}

/**
 * Why a failed transaction may never be reattempted, by a person or by the job, or null. S2: a hard decline is never
 * reattempted (charging a card the issuer called lost, stolen or not to be tried again risks the networks' penalties
 * for retries and gains nothing); P8 otherwise lets a person reattempt any failure.
 */
export function hardDeclineRefusal(source: DeclineFields & { id: string }): string | null {
  if (!isHardDecline(source)) return null;
  const said =
    source.advice_code === DO_NOT_RETRY_ADVICE
      ? `advice_code ${DO_NOT_RETRY_ADVICE}`
      : (source.decline_code ?? source.error_code ?? 'a hard decline');
  return `Transaction ${source.id} failed with a hard decline (${said}): the issuer will not approve it later, so it is never reattempted. Ask the customer for another payment method.`;
}

/** A failed transaction as the scheduled reattempt rule reads it. */
export interface ScheduledReattemptSource extends DeclineFields {
  id: string;
  record_type: string;
  transaction_type: string;
  non_gateway: boolean;
  auto_process: boolean;
  reattempt_number: number;
}

export interface ReattemptSchedule {
  /** reattempt_day_gaps: gaps[n] days after attempt n failed; its length is the number of reattempts. */
  gaps: readonly number[];
  /** reattempts_non_auto_process: failures of charges that were not auto-process count too. */
  nonAutoProcess: boolean;
  /** When the failure happened (processed_at), and when reattempts were last switched on: older failures never count. */
  failedAt: Date;
  since: Date;
  /** The day the failure happened and today, in the `timezone` setting. */
  failedOn: string;
  today: string;
}

/**
 * S2 for the reattempts job, on top of hardDeclineRefusal: a gateway charge (auto-process, or any with
 * reattempts_non_auto_process) that failed with a soft decline after reattempts were switched on, and has gaps left,
 * gets its next attempt on the due day.
 */
export function scheduledReattempt(
  source: ScheduledReattemptSource,
  schedule: ReattemptSchedule,
): { due: string } | { skip: string } {
  if (source.record_type !== 'charge' || source.transaction_type !== 'normal' || source.non_gateway) {
    return {
      skip: `Transaction ${source.id} is not a gateway charge; only failed charges are reattempted on a schedule.`,
    };
  }
  if (!source.auto_process && !schedule.nonAutoProcess) {
    return { skip: `Transaction ${source.id} was not auto-process, and reattempts_non_auto_process is off.` };
  }
  if (!isSoftDecline(source)) return { skip: `Transaction ${source.id} did not fail with a soft decline.` };
  if (schedule.failedAt.getTime() < schedule.since.getTime()) {
    return { skip: `Transaction ${source.id} failed before reattempts were switched on.` };
  }
  const due = reattemptDueDate(schedule.failedOn, source.reattempt_number, schedule.gaps, schedule.today);
  if (due === null) return { skip: `Transaction ${source.id} has used every gap of reattempt_day_gaps.` };
  return { due };
}
