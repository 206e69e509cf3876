// The to-fix rules (L8) and payment-method usability (L8, R5). Pure: no I/O imports.
import { ValidationError } from './errors.js';
import { assertNever, type RecordType } from './transaction-state.js';

export interface PaymentMethodLike {
  type: 'card' | 'us_bank_account';
  status: string;
  exp_month: number | null;
  exp_year: number | null;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Months since year 0 of a YYYY-MM-DD day, so that expiry comparisons are integer comparisons. */
function monthIndexOf(today: string): number {
  const match = DAY.exec(today);
  const year = Number(match?.[1]);
  const month = Number(match?.[2]);
  const day = Number(match?.[3]);
  if (match === null || month < 1 || month > 12 || day < 1 || day > 31) {
    throw new ValidationError('invalid_date', `Expected a day as YYYY-MM-DD, got '${today}'.`, 'today');
  }
  return year * 12 + (month - 1);
}

/**
 * A card is good through the last day of its expiry month. A card with no expiry recorded is judged
 * by its status alone; an impossible expiry (month outside 1-12) makes it unusable.
 */
function cardExpired(pm: PaymentMethodLike, today: string): boolean {
  const current = monthIndexOf(today);
  if (pm.exp_month === null || pm.exp_year === null) return false;
  if (!Number.isInteger(pm.exp_month) || !Number.isInteger(pm.exp_year) || pm.exp_month < 1 || pm.exp_month > 12)
    return true;
  return current > pm.exp_year * 12 + (pm.exp_month - 1);
}

/** Cards: status `valid` or `one_time` and not expired on `today`. Bank accounts: status `verified`. */
export function isPaymentMethodUsable(pm: PaymentMethodLike, today: string): boolean {
  switch (pm.type) {
    case 'card':
      return (pm.status === 'valid' || pm.status === 'one_time') && !cardExpired(pm, today);
    case 'us_bank_account':
      return pm.status === 'verified';
    default:
      return assertNever(pm.type, 'payment method type');
  }
}

/** A card whose save is still open waits for its holder (a pending card: saved cards, app/saved-cards.ts). */
export function isAwaitingAuthentication(pm: PaymentMethodLike): boolean {
  return pm.type === 'card' && pm.status === 'pending';
}

export interface ToFixInput {
  record_type: RecordType;
  status: string;
  auto_process: boolean;
  due_date: string | null;
  date_to_process: string | null;
  payment_method_id: string | null;
  invalid_payment_method: boolean;
  /** The unusable method is a card whose save waits for its holder to authenticate (3-D Secure). */
  payment_method_awaiting_authentication?: boolean;
  connected_account_id: string | null;
}

export const TO_FIX_MESSAGES: {
  readonly missing_due_date: string;
  readonly invalid_payment_method: string;
  readonly payment_method_awaiting_authentication: string;
  readonly missing_payment_method: string;
  readonly transfer_missing_account: string;
  readonly payout_missing_destination: string;
} = Object.freeze({
  missing_due_date:
    'Auto-process is on, but there is no due date or date to process: set one so the transaction gets picked up.',
  invalid_payment_method: 'The linked payment method cannot be used: update it or link a usable one.',
  payment_method_awaiting_authentication:
    "Payment method awaiting its holder's authentication: the card is saved once its holder completes 3-D Secure, then this transaction can be processed.",
  missing_payment_method:
    'Auto-process is on, but no payment method is linked: add one so the charge can be taken automatically.',
  transfer_missing_account:
    'Auto-process is on, but no connected account is set: a transfer needs one to be sent automatically.',
  payout_missing_destination:
    'Auto-process is on, but there is neither a connected account nor a payment method: a payout needs one of them to be sent automatically.',
});

function blank(value: string | null): boolean {
  return value === null || value.trim() === '';
}

/** The message for the record-type-specific rule, if it applies. */
function recordTypeRule(t: ToFixInput): string | null {
  if (!t.auto_process) return null;
  switch (t.record_type) {
    case 'charge':
      return blank(t.payment_method_id) ? TO_FIX_MESSAGES.missing_payment_method : null;
    case 'transfer':
      return blank(t.connected_account_id) ? TO_FIX_MESSAGES.transfer_missing_account : null;
    case 'payout':
      return blank(t.connected_account_id) && blank(t.payment_method_id)
        ? TO_FIX_MESSAGES.payout_missing_destination
        : null;
    case 'adjustment':
      return null;
    default:
      return assertNever(t.record_type, 'record type');
  }
}

/**
 * Why an open transaction will not auto-process: every matching rule's message, in the order of the
 * checks below, joined with a space. null for a transaction that is not open or has nothing to fix.
 */
export function computeToFix(t: ToFixInput): string | null {
  if (t.status !== 'open') return null;
  const messages: string[] = [];
  if (t.auto_process && blank(t.due_date) && blank(t.date_to_process)) messages.push(TO_FIX_MESSAGES.missing_due_date);
  if (t.invalid_payment_method)
    messages.push(
      t.payment_method_awaiting_authentication === true
        ? TO_FIX_MESSAGES.payment_method_awaiting_authentication
        : TO_FIX_MESSAGES.invalid_payment_method,
    );
  const specific = recordTypeRule(t);
  if (specific !== null) messages.push(specific);
  return messages.length === 0 ? null : messages.join(' ');
}
