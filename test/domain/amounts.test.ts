import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  capturableAmount,
  checkInvariants,
  paymentStatusAfterRefund,
  refundableAmount,
  retainedAmount,
  type ChargeAmounts,
} from '../../src/domain/amounts.js';
import { SettleError } from '../../src/domain/errors.js';

const charge = (over: Partial<ChargeAmounts> = {}): ChargeAmounts => ({
  amount: 100,
  authorized_amount: 100,
  captured_amount: 100,
  refunded_amount: 0,
  ...over,
});

describe('retained, refundable and capturable amounts', () => {
  it('keeps 30 of 100 captured after two refunds of 35', () => {
    let a = charge();
    for (const refund of [35, 35]) {
      expect(refund).toBeLessThanOrEqual(refundableAmount(a, 0));
      a = { ...a, refunded_amount: a.refunded_amount + refund };
    }
    expect(retainedAmount(a)).toBe(30);
    expect(refundableAmount(a, 0)).toBe(30);
    expect(paymentStatusAfterRefund(a)).toBe('partially_refunded');
  });

  it('counts refunds in flight against what can be refunded, never going below 0', () => {
    const a = charge({ refunded_amount: 20 });
    expect(refundableAmount(a, 0)).toBe(80);
    expect(refundableAmount(a, 50)).toBe(30);
    expect(refundableAmount(a, 80)).toBe(0);
    expect(refundableAmount(a, 500)).toBe(0);
  });

  it('captures what is left of an authorization', () => {
    expect(capturableAmount(charge({ captured_amount: 0 }))).toBe(100);
    expect(capturableAmount(charge({ captured_amount: 60 }))).toBe(40);
    expect(capturableAmount(charge())).toBe(0);
  });
});

describe('paymentStatusAfterRefund', () => {
  it('follows the amounts', () => {
    expect(paymentStatusAfterRefund(charge({ refunded_amount: 100 }))).toBe('refunded');
    expect(paymentStatusAfterRefund(charge({ refunded_amount: 1 }))).toBe('partially_refunded');
    expect(paymentStatusAfterRefund(charge({ refunded_amount: 99 }))).toBe('partially_refunded');
    expect(paymentStatusAfterRefund(charge({ refunded_amount: 0 }))).toBe('captured');
    expect(paymentStatusAfterRefund(charge({ captured_amount: 60, refunded_amount: 0 }))).toBe('partially_captured');
    expect(paymentStatusAfterRefund(charge({ captured_amount: 60, refunded_amount: 60 }))).toBe('refunded');
    expect(paymentStatusAfterRefund(charge({ captured_amount: 60, refunded_amount: 10 }))).toBe('partially_refunded');
  });

  it('refuses inconsistent amounts', () => {
    expect(() => paymentStatusAfterRefund(charge({ refunded_amount: 101 }))).toThrow(SettleError);
  });
});

describe('checkInvariants', () => {
  it('accepts consistent amounts', () => {
    expect(checkInvariants(charge())).toEqual([]);
    expect(checkInvariants(charge({ authorized_amount: 0, captured_amount: 0 }))).toEqual([]);
    expect(checkInvariants(charge({ captured_amount: 60, refunded_amount: 60 }))).toEqual([]);
    expect(
      checkInvariants(charge({ amount: Number.MAX_SAFE_INTEGER, authorized_amount: Number.MAX_SAFE_INTEGER })),
    ).toEqual([]);
  });

  it('reports each broken rule', () => {
    expect(checkInvariants(charge({ captured_amount: 101 }))).toEqual([
      'captured_amount (101) exceeds authorized_amount (100)',
    ]);
    expect(checkInvariants(charge({ refunded_amount: 101 }))).toEqual([
      'refunded_amount (101) exceeds captured_amount (100)',
    ]);
    expect(checkInvariants(charge({ amount: -1 }))).toEqual(['amount must not be negative (got -1)']);
    expect(checkInvariants(charge({ refunded_amount: 10.5 }))).toEqual([
      'refunded_amount must be a safe integer of minor units (got 10.5)',
    ]);
    expect(checkInvariants(charge({ authorized_amount: Number.MAX_SAFE_INTEGER + 1 }))).toHaveLength(1);
    expect(checkInvariants(charge({ captured_amount: Number.NaN }))).toHaveLength(1);
  });

  it('reports several problems at once', () => {
    expect(
      checkInvariants({ amount: -5, authorized_amount: 10, captured_amount: 20, refunded_amount: 30 }),
    ).toHaveLength(3);
  });
});

type Step =
  { kind: 'request'; amount: number } | { kind: 'settle'; index: number; outcome: 'succeeded' | 'failed' | 'reversed' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('request' as const), amount: fc.integer({ min: 1, max: 150 }) }),
  fc.record({
    kind: fc.constant('settle' as const),
    index: fc.nat({ max: 20 }),
    outcome: fc.constantFrom('succeeded' as const, 'failed' as const, 'reversed' as const),
  }),
);

describe('refund sequences', () => {
  it('never over-refund when each refund is checked against refundableAmount first', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.array(stepArb, { maxLength: 60 }), (captured, steps) => {
        let a = charge({ amount: captured, authorized_amount: captured, captured_amount: captured });
        let inFlight: number[] = [];
        const succeeded: number[] = [];
        for (const step of steps) {
          if (step.kind === 'request') {
            const sum = inFlight.reduce((s, x) => s + x, 0);
            if (step.amount <= refundableAmount(a, sum)) inFlight.push(step.amount);
          } else if (step.outcome === 'reversed') {
            // a refund that succeeded fails later: its amount returns to the original
            const amount = succeeded.splice(step.index % Math.max(1, succeeded.length), 1)[0];
            if (amount !== undefined) a = { ...a, refunded_amount: a.refunded_amount - amount };
          } else {
            const amount = inFlight[step.index % Math.max(1, inFlight.length)];
            if (amount === undefined) continue;
            inFlight = inFlight.filter((_, i) => i !== step.index % inFlight.length);
            if (step.outcome === 'succeeded') {
              a = { ...a, refunded_amount: a.refunded_amount + amount };
              succeeded.push(amount);
            }
          }
          const pending = inFlight.reduce((s, x) => s + x, 0);
          expect(refundableAmount(a, pending)).toBeGreaterThanOrEqual(0);
          expect(a.refunded_amount + pending).toBeLessThanOrEqual(a.captured_amount);
          expect(retainedAmount(a)).toBeGreaterThanOrEqual(0);
          expect(checkInvariants(a)).toEqual([]);
        }
      }),
    );
  });
});
