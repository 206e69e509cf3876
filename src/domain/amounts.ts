// Amount bookkeeping on a charge (L5, P3, P5, P12). Integer minor units only. Pure: no I/O imports.
// The store checks these inside a row lock; these functions only decide.
import { SettleError } from './errors.js';

export interface ChargeAmounts {
  amount: number;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  /** What disputes have withdrawn and not reinstated (M7); absent means none. */
  disputed_amount?: number;
}

/** What the business keeps: captured - refunded - disputed (100 captured, two refunds of 35 -> 30). */
export function retainedAmount(a: ChargeAmounts): number {
  return a.captured_amount - a.refunded_amount - (a.disputed_amount ?? 0);
}

/**
 * What may still be refunded: captured - refunded - disputed - refunds already in flight (P12: a refund in flight
 * already counts). Never below 0.
 */
export function refundableAmount(a: ChargeAmounts, inFlightRefunds: number): number {
  return Math.max(0, retainedAmount(a) - inFlightRefunds);
}

/**
 * The payment status once a dispute has closed (M7, W3: "the final payment status follows the amounts"): what a
 * lost dispute took counts like a refund; a won one gave it back.
 */
export function paymentStatusAfterDispute(a: ChargeAmounts): AmountPaymentStatus {
  const taken = Math.min(a.captured_amount, a.refunded_amount + (a.disputed_amount ?? 0));
  return paymentStatusAfterRefund({ ...a, refunded_amount: taken });
}

/** What may still be captured from an authorization: authorized - captured. Never below 0. */
export function capturableAmount(a: ChargeAmounts): number {
  return Math.max(0, a.authorized_amount - a.captured_amount);
}

export type AmountPaymentStatus = 'refunded' | 'partially_refunded' | 'captured' | 'partially_captured';

/**
 * The payment status the amounts call for, given the amounts AFTER a refund (or its reversal, or a
 * dispute's close) was applied. Throws when the amounts break an invariant.
 */
export function paymentStatusAfterRefund(a: ChargeAmounts): AmountPaymentStatus {
  const violations = checkInvariants(a);
  if (violations.length > 0) {
    throw new SettleError(
      'internal',
      'amount_invariant_violated',
      `Charge amounts are inconsistent: ${violations.join('; ')}`,
      {
        details: { violations },
      },
    );
  }
  const { captured_amount: captured, refunded_amount: refunded, authorized_amount: authorized } = a;
  if (refunded > 0) return refunded === captured ? 'refunded' : 'partially_refunded';
  return captured === authorized ? 'captured' : 'partially_captured';
}

/** Messages for every broken invariant; empty when the amounts are consistent. */
export function checkInvariants(a: ChargeAmounts): string[] {
  const problems: string[] = [];
  const fields = ['amount', 'authorized_amount', 'captured_amount', 'refunded_amount'] as const;
  for (const field of fields) {
    const value = a[field];
    if (!Number.isSafeInteger(value)) problems.push(`${field} must be a safe integer of minor units (got ${value})`);
    else if (value < 0) problems.push(`${field} must not be negative (got ${value})`);
  }
  if (a.captured_amount > a.authorized_amount) {
    problems.push(`captured_amount (${a.captured_amount}) exceeds authorized_amount (${a.authorized_amount})`);
  }
  if (a.refunded_amount > a.captured_amount) {
    problems.push(`refunded_amount (${a.refunded_amount}) exceeds captured_amount (${a.captured_amount})`);
  }
  return problems;
}
