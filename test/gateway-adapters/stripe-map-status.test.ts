// The status tables: every PaymentIntent status x operation, every refund status, and unknown statuses.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { refundOutcome, toBalance } from '../../src/gateway-adapters/stripe/map-objects.js';
import {
  PAYMENT_STATUSES,
  paymentOutcome,
  type PaymentOperation,
} from '../../src/gateway-adapters/stripe/map-payment.js';

function intent(status: string, extra: Record<string, unknown> = {}): Stripe.PaymentIntent {
  return {
    id: 'pi_1',
    object: 'payment_intent',
    amount: 1000,
    amount_capturable: 0,
    amount_received: 0,
    capture_method: 'manual',
    cancellation_reason: null,
    created: 1,
    currency: 'usd',
    customer: null,
    last_payment_error: null,
    latest_charge: null,
    metadata: {},
    next_action: null,
    payment_method: null,
    status,
    ...extra,
  } as unknown as Stripe.PaymentIntent;
}

// Rows: PaymentIntent status; columns: authorize, charge, capture, cancel, read.
const TABLE: Record<string, Record<PaymentOperation, string>> = {
  requires_capture: {
    authorize: 'succeeded',
    charge: 'succeeded',
    capture: 'succeeded',
    cancel: 'invalid_request',
    read: 'succeeded',
  },
  succeeded: {
    authorize: 'succeeded',
    charge: 'succeeded',
    capture: 'succeeded',
    cancel: 'invalid_request',
    read: 'succeeded',
  },
  canceled: {
    authorize: 'declined',
    charge: 'declined',
    capture: 'invalid_request',
    cancel: 'succeeded',
    read: 'succeeded',
  },
  processing: { authorize: 'pending', charge: 'pending', capture: 'pending', cancel: 'pending', read: 'pending' },
  requires_action: {
    authorize: 'requires_action',
    charge: 'requires_action',
    capture: 'requires_action',
    cancel: 'requires_action',
    read: 'requires_action',
  },
  requires_confirmation: {
    authorize: 'requires_action',
    charge: 'requires_action',
    capture: 'requires_action',
    cancel: 'requires_action',
    read: 'requires_action',
  },
  requires_payment_method: {
    authorize: 'declined',
    charge: 'declined',
    capture: 'declined',
    cancel: 'declined',
    read: 'declined',
  },
};

describe('PaymentIntent status mapping', () => {
  it('covers every known status', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...PAYMENT_STATUSES].sort());
  });

  for (const [status, row] of Object.entries(TABLE)) {
    for (const [op, kind] of Object.entries(row)) {
      it(`${status} after ${op} -> ${kind}`, () => {
        expect(paymentOutcome(intent(status), op as PaymentOperation).kind).toBe(kind);
      });
    }
  }

  it('a decline read back from the intent keeps its codes', () => {
    const pi = intent('requires_payment_method', {
      last_payment_error: {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'do_not_honor',
        message: 'Declined',
      },
    });
    expect(paymentOutcome(pi, 'read')).toMatchObject({
      kind: 'declined',
      error: { code: 'card_declined', decline_code: 'do_not_honor' },
    });
  });

  it('unknown intent or charge statuses are unknown outcomes', () => {
    expect(paymentOutcome(intent('requires_reauthorization'), 'read').kind).toBe('unknown');
    const charge = {
      id: 'ch_1',
      status: 'disputed_somehow',
      amount: 1000,
      amount_captured: 0,
      amount_refunded: 0,
      balance_transaction: null,
    };
    expect(paymentOutcome(intent('requires_capture', { latest_charge: charge }), 'read').kind).toBe('unknown');
  });
});

describe('Refund status mapping', () => {
  const refund = (status: string | null, extra: Record<string, unknown> = {}): Stripe.Refund =>
    ({
      id: 're_1',
      object: 'refund',
      amount: 500,
      currency: 'eur',
      status,
      charge: 'ch_1',
      payment_intent: 'pi_1',
      balance_transaction: null,
      metadata: { settle_transaction_id: 'txn_9' },
      reason: null,
      ...extra,
    }) as unknown as Stripe.Refund;

  it('maps each status', () => {
    expect(refundOutcome(refund('succeeded'))).toMatchObject({
      kind: 'succeeded',
      result: {
        amount: 500,
        currency: 'EUR',
        transaction_id: 'txn_9',
        refs: { refund: 're_1', charge: 'ch_1', payment_intent: 'pi_1' },
      },
    });
    expect(refundOutcome(refund('pending')).kind).toBe('pending');
    expect(refundOutcome(refund('requires_action')).kind).toBe('requires_action');
    expect(refundOutcome(refund('failed', { failure_reason: 'expired_or_canceled_card' }))).toMatchObject({
      kind: 'declined',
      error: { code: 'expired_or_canceled_card' },
    });
    expect(refundOutcome(refund('canceled'))).toMatchObject({ kind: 'declined', error: { code: 'refund_canceled' } });
    expect(refundOutcome(refund(null)).kind).toBe('unknown');
    expect(refundOutcome(refund('reversed')).kind).toBe('unknown');
  });
});

describe('Balance transactions', () => {
  it('converts settlement amounts, keeps the exchange rate exact and reads availability', () => {
    const bt = {
      id: 'txn_1',
      object: 'balance_transaction',
      amount: 1234,
      fee: 66,
      net: 1168,
      currency: 'usd',
      exchange_rate: 1.234,
      status: 'available',
      available_on: 1_700_000_000,
      created: 1_699_000_000,
      type: 'charge',
      reporting_category: 'charge',
      source: 'ch_1',
    } as unknown as Stripe.BalanceTransaction;
    expect(toBalance(bt)).toMatchObject({
      amount: 1234,
      gateway_fee: 66,
      net_amount: 1168,
      currency: 'USD',
      exchange_rate: '1.234',
      balance_status: 'available',
      available_on: new Date(1_700_000_000_000),
      source: 'ch_1',
    });
    expect(toBalance('txn_1')).toBeNull();
  });
});
