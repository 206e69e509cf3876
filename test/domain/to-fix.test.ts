import { describe, expect, it } from 'vitest';
import { SettleError } from '../../src/domain/errors.js';
import {
  TO_FIX_MESSAGES,
  computeToFix,
  isAwaitingAuthentication,
  isPaymentMethodUsable,
  type PaymentMethodLike,
  type ToFixInput,
} from '../../src/domain/to-fix.js';

// R5's payment method statuses, written out by hand.
const PM_STATUSES = [
  'valid',
  'invalid',
  'expired',
  'one_time',
  'new',
  'pending',
  'verified',
  'verification_failed',
  'errored',
  'deleted_from_gateway',
];

const card = (over: Partial<PaymentMethodLike> = {}): PaymentMethodLike => ({
  type: 'card',
  status: 'valid',
  exp_month: 11,
  exp_year: 2026,
  ...over,
});
const bank = (status: string): PaymentMethodLike => ({
  type: 'us_bank_account',
  status,
  exp_month: null,
  exp_year: null,
});

describe('isPaymentMethodUsable', () => {
  it.each(PM_STATUSES)('card with status %s', (status) => {
    expect(isPaymentMethodUsable(card({ status }), '2026-01-15')).toBe(status === 'valid' || status === 'one_time');
  });

  it.each(PM_STATUSES)('bank account with status %s', (status) => {
    expect(isPaymentMethodUsable(bank(status), '2026-01-15')).toBe(status === 'verified');
  });

  it('keeps a card usable through the last day of its expiry month', () => {
    expect(isPaymentMethodUsable(card(), '2026-11-01')).toBe(true);
    expect(isPaymentMethodUsable(card(), '2026-11-30')).toBe(true);
    expect(isPaymentMethodUsable(card(), '2026-12-01')).toBe(false);
    expect(isPaymentMethodUsable(card(), '2027-01-01')).toBe(false);
    expect(isPaymentMethodUsable(card(), '2025-12-31')).toBe(true);
  });

  it('handles a December expiry across the year boundary', () => {
    const december = card({ exp_month: 12, exp_year: 2026 });
    expect(isPaymentMethodUsable(december, '2026-12-31')).toBe(true);
    expect(isPaymentMethodUsable(december, '2027-01-01')).toBe(false);
  });

  it('does not let an expired one-time card through', () => {
    expect(isPaymentMethodUsable(card({ status: 'one_time' }), '2026-12-01')).toBe(false);
  });

  it('judges a card without a recorded expiry by its status, and an impossible expiry as unusable', () => {
    expect(isPaymentMethodUsable(card({ exp_month: null, exp_year: null }), '2030-01-01')).toBe(true);
    expect(isPaymentMethodUsable(card({ exp_month: 13 }), '2026-01-01')).toBe(false);
    expect(isPaymentMethodUsable(card({ exp_month: 0 }), '2026-01-01')).toBe(false);
  });

  it('ignores expiry fields on bank accounts', () => {
    expect(isPaymentMethodUsable({ ...bank('verified'), exp_month: 1, exp_year: 2000 }, '2026-01-01')).toBe(true);
  });

  it('rejects a malformed day', () => {
    expect(() => isPaymentMethodUsable(card(), '2026-13-01')).toThrow(SettleError);
    expect(() => isPaymentMethodUsable(card(), '26-11-01')).toThrow(SettleError);
  });
});

const open = (over: Partial<ToFixInput> = {}): ToFixInput => ({
  record_type: 'charge',
  status: 'open',
  auto_process: true,
  due_date: '2026-05-01',
  date_to_process: null,
  payment_method_id: 'pm_1',
  invalid_payment_method: false,
  connected_account_id: null,
  ...over,
});

describe('computeToFix', () => {
  it('has nothing to fix for a complete auto-process charge', () => {
    expect(computeToFix(open())).toBeNull();
    expect(computeToFix(open({ due_date: null, date_to_process: '2026-05-01' }))).toBeNull();
  });

  it('needs a due date or date to process when auto-processing', () => {
    expect(computeToFix(open({ due_date: null }))).toBe(TO_FIX_MESSAGES.missing_due_date);
    expect(computeToFix(open({ due_date: '  ' }))).toBe(TO_FIX_MESSAGES.missing_due_date);
    expect(computeToFix(open({ due_date: null, auto_process: false }))).toBeNull();
  });

  it('flags an invalid payment method, with or without auto-process', () => {
    expect(computeToFix(open({ invalid_payment_method: true }))).toBe(TO_FIX_MESSAGES.invalid_payment_method);
    expect(computeToFix(open({ invalid_payment_method: true, auto_process: false }))).toBe(
      TO_FIX_MESSAGES.invalid_payment_method,
    );
  });

  it('says a card whose save waits for 3-D Secure is awaiting its holder, instead of invalid', () => {
    expect(computeToFix(open({ invalid_payment_method: true, payment_method_awaiting_authentication: true }))).toBe(
      TO_FIX_MESSAGES.payment_method_awaiting_authentication,
    );
    expect(TO_FIX_MESSAGES.payment_method_awaiting_authentication).toContain("awaiting its holder's authentication");
    const card = { type: 'card', exp_month: null, exp_year: null } as const;
    expect(isAwaitingAuthentication({ ...card, status: 'pending' })).toBe(true);
    expect(isAwaitingAuthentication({ ...card, status: 'valid' })).toBe(false);
    expect(
      isAwaitingAuthentication({ type: 'us_bank_account', status: 'pending', exp_month: null, exp_year: null }),
    ).toBe(false);
  });

  it('needs a payment method on an auto-process charge', () => {
    expect(computeToFix(open({ payment_method_id: null }))).toBe(TO_FIX_MESSAGES.missing_payment_method);
    expect(computeToFix(open({ payment_method_id: null, auto_process: false }))).toBeNull();
  });

  it('needs a connected account on an auto-process transfer', () => {
    expect(computeToFix(open({ record_type: 'transfer', payment_method_id: null }))).toBe(
      TO_FIX_MESSAGES.transfer_missing_account,
    );
    expect(
      computeToFix(open({ record_type: 'transfer', payment_method_id: null, connected_account_id: 'acct_1' })),
    ).toBeNull();
  });

  it('needs a connected account or a payment method on an auto-process payout', () => {
    expect(computeToFix(open({ record_type: 'payout', payment_method_id: null }))).toBe(
      TO_FIX_MESSAGES.payout_missing_destination,
    );
    expect(computeToFix(open({ record_type: 'payout', payment_method_id: 'pm_1' }))).toBeNull();
    expect(
      computeToFix(open({ record_type: 'payout', payment_method_id: null, connected_account_id: 'acct_1' })),
    ).toBeNull();
  });

  it('has no record-type rule for adjustments', () => {
    expect(computeToFix(open({ record_type: 'adjustment', payment_method_id: null }))).toBeNull();
  });

  it('joins every matching message in the seed order', () => {
    expect(computeToFix(open({ due_date: null, invalid_payment_method: true, payment_method_id: null }))).toBe(
      [
        TO_FIX_MESSAGES.missing_due_date,
        TO_FIX_MESSAGES.invalid_payment_method,
        TO_FIX_MESSAGES.missing_payment_method,
      ].join(' '),
    );
    expect(computeToFix(open({ record_type: 'payout', due_date: null, payment_method_id: null }))).toBe(
      `${TO_FIX_MESSAGES.missing_due_date} ${TO_FIX_MESSAGES.payout_missing_destination}`,
    );
    expect(computeToFix(open({ record_type: 'transfer', invalid_payment_method: true }))).toBe(
      `${TO_FIX_MESSAGES.invalid_payment_method} ${TO_FIX_MESSAGES.transfer_missing_account}`,
    );
  });

  it.each([
    'process',
    'pending',
    'pending_payment_intent',
    'completed',
    'on_hold',
    'canceled',
    'needs_review',
    'failed',
  ])('returns null for a transaction in %s', (status) => {
    expect(
      computeToFix(open({ status, due_date: null, payment_method_id: null, invalid_payment_method: true })),
    ).toBeNull();
  });

  it('writes distinct, non-empty messages', () => {
    const messages = Object.values(TO_FIX_MESSAGES);
    expect(messages).toHaveLength(6);
    expect(new Set(messages).size).toBe(6);
    for (const message of messages) expect(message.length).toBeGreaterThan(20);
  });
});
