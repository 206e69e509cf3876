// Stripe refunds and balance transactions -> the port's shapes, with exhaustive status mapping (no default
// branch: an unrecognised status is reported as `unknown`, never silently accepted).
import type Stripe from 'stripe';
import type { GatewayBalance, GatewayOutcome, GatewayRefund, RefundStatus } from '../../app/gateway-port.js';
import { TRANSACTION_ID_METADATA_KEY } from '../../app/gateway-port.js';
import { ValidationError } from '../../domain/errors.js';
import { fromStripeWireAmount, getCurrency, toStripeWireAmount } from '../../domain/money.js';
import { assertNever } from '../../domain/transaction-state.js';
import { localError, noRefs } from './classify-error.js';

/** Narrows one of the SDK's open string unions (`'a' | 'b' | OtherString`) to the values we know. */
export function known<T extends string>(values: readonly T[], value: string | null | undefined): T | null {
  return value !== null && value !== undefined && (values as readonly string[]).includes(value) ? (value as T) : null;
}

export const REFUND_STATUSES: readonly RefundStatus[] = [
  'pending',
  'requires_action',
  'succeeded',
  'failed',
  'canceled',
];
export const BALANCE_STATUSES = ['available', 'pending'] as const;

export const idOf = (value: string | { id: string } | null | undefined): string | null =>
  value === null || value === undefined ? null : typeof value === 'string' ? value : value.id;

export const upper = (currency: string): string => currency.toUpperCase();

export const toDate = (unixSeconds: number): Date => new Date(unixSeconds * 1000);

export function unrecognised(what: string, value: string | null): GatewayOutcome<never> {
  return {
    kind: 'unknown',
    error: localError(
      'unrecognized_status',
      `Stripe returned a ${what} status Settle does not know (${JSON.stringify(value)}); treated as an unknown outcome.`,
    ),
  };
}

/**
 * A rate as plain decimal text (M4). Stripe sends `exchange_rate` as a JSON number (BalanceTransaction.d.ts:
 * `exchange_rate: number | null`) and the SDK parses it into a double, so the text Stripe sent is no longer at hand:
 * the shortest text that reads back as the same double is the closest Settle can keep (e.g. 1.1 -> '1.1', never
 * '1.100000000000000088817841970012523'). JavaScript writes very small or large numbers with an exponent
 * ('1.5e-7'); those are spelled out in full ('0.00000015'), so the column and the API always hold plain decimal text.
 * Settle never multiplies by it: amounts come converted from the gateway.
 */
export function decimalText(rate: number): string {
  const text = String(rate);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, lead, rest = '', exp] = match;
  const digits = `${lead}${rest}`;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A balance transaction, or null when it was not expanded (only its id is known) or is absent. */
export function toBalance(bt: string | Stripe.BalanceTransaction | null | undefined): GatewayBalance | null {
  if (!bt || typeof bt === 'string') return null;
  const status = known(BALANCE_STATUSES, bt.status);
  const currency = upper(bt.currency);
  return {
    id: bt.id,
    type: bt.type,
    reporting_category: bt.reporting_category,
    source: idOf(bt.source),
    currency,
    amount: fromStripeWireAmount(bt.amount, currency),
    gateway_fee: fromStripeWireAmount(bt.fee, currency),
    net_amount: fromStripeWireAmount(bt.net, currency),
    exchange_rate: bt.exchange_rate === null || bt.exchange_rate === undefined ? null : decimalText(bt.exchange_rate),
    // A status we do not know yet is treated as not yet available, the cautious reading for settlement.
    balance_status: status ?? 'pending',
    available_on: toDate(bt.available_on),
    created: toDate(bt.created),
  };
}

export function toRefund(refund: Stripe.Refund, status: RefundStatus): GatewayRefund {
  const currency = upper(refund.currency);
  return {
    refs: {
      ...noRefs(),
      payment_intent: idOf(refund.payment_intent),
      charge: idOf(refund.charge),
      balance_transaction: idOf(refund.balance_transaction),
      refund: refund.id,
    },
    status,
    currency,
    amount: fromStripeWireAmount(refund.amount, currency),
    reason: refund.reason ?? null,
    failure_reason: refund.failure_reason ?? null,
    transaction_id: refund.metadata?.[TRANSACTION_ID_METADATA_KEY] ?? null,
    balance: toBalance(refund.balance_transaction),
  };
}

/** Refund.Status -> outcome. A failed or canceled refund returned no money: it is reported as declined. */
export function refundOutcome(refund: Stripe.Refund): GatewayOutcome<GatewayRefund> {
  const status = known(REFUND_STATUSES, refund.status);
  if (status === null) return unrecognised('refund', refund.status);
  const result = toRefund(refund, status);
  switch (status) {
    case 'succeeded':
      return { kind: 'succeeded', result };
    case 'pending':
      return { kind: 'pending', result };
    case 'requires_action':
      return { kind: 'requires_action', result };
    case 'failed':
      return {
        kind: 'declined',
        refs: result.refs,
        result,
        error: localError(
          refund.failure_reason ?? 'refund_failed',
          `The refund failed (${refund.failure_reason ?? 'no reason given'}).`,
          'refund_failure',
        ),
      };
    case 'canceled':
      return {
        kind: 'declined',
        refs: result.refs,
        result,
        error: localError('refund_canceled', 'The refund was canceled; no money was returned.', 'refund_failure'),
      };
    default:
      return assertNever(status, 'refund status');
  }
}

/**
 * A refund amount on the wire. Stripe's charge minimum does not apply to refunds, but the amount must be positive
 * and representable: whole units for MGA, a last digit of 0 for the three-decimal currencies.
 */
export function refundWireAmount(minor: number, currency: string): number {
  if (!Number.isSafeInteger(minor) || minor <= 0) {
    throw new ValidationError(
      'invalid_amount',
      `A refund amount must be a positive integer of minor units, got ${String(minor)}.`,
      'amount',
    );
  }
  if (getCurrency(currency)?.stripeThreeDecimal && minor % 10 !== 0) {
    throw new ValidationError(
      'invalid_amount',
      `Stripe needs ${currency.toUpperCase()} amounts whose last digit is 0.`,
      'amount',
    );
  }
  return toStripeWireAmount(minor, currency);
}
