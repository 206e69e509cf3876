// The snapshot rule (W2): every case of src/domain/snapshots.ts, no I/O.
import { describe, expect, it } from 'vitest';
import { type HeldRow, judgeSnapshot, type Snapshot, type SnapshotMeta } from '../../src/domain/snapshots.js';

const PINNED = '2026-10-28.endive';
const T = new Date('2026-11-24T12:00:00Z');
const meta = (over: Partial<SnapshotMeta> = {}): SnapshotMeta => ({
  apiVersion: PINNED,
  pinnedVersion: PINNED,
  created: T,
  lastApplied: null,
  ...over,
});

const row = (over: Partial<HeldRow> = {}): HeldRow => ({
  status: 'completed',
  payment_status: 'authorized',
  amount: 1000,
  authorized_amount: 1000,
  captured_amount: 0,
  refunded_amount: 0,
  disputed_amount: 0,
  error_code: null,
  ...over,
});
const authorized = row();
const captured = row({ payment_status: 'captured', captured_amount: 1000 });
const partlyRefunded = row({ payment_status: 'partially_refunded', captured_amount: 1000, refunded_amount: 300 });
const released = row({ payment_status: 'uncaptured' });

const pi = (status: Extract<Snapshot, { object: 'payment_intent' }>['status'], over: object = {}): Snapshot => ({
  object: 'payment_intent',
  status,
  authorized_amount: status === 'requires_capture' ? 1000 : 0,
  captured_amount: status === 'succeeded' ? 1000 : 0,
  error_code: null,
  ...over,
});
const charge = (over: object = {}): Snapshot => ({
  object: 'charge',
  status: 'succeeded',
  captured_amount: 1000,
  refunded_amount: 0,
  disputed: false,
  error_code: null,
  ...over,
});
const refund = (
  status: 'pending' | 'succeeded' | 'failed' | 'canceled' | 'requires_action',
  amount = 300,
): Snapshot => ({
  object: 'refund',
  status,
  amount,
});
const refundRow = (over: Partial<HeldRow> = {}): HeldRow =>
  row({ status: 'completed', payment_status: 'refunded', amount: -300, authorized_amount: 0, ...over });

describe('snapshots (W2): the same as Settle holds', () => {
  it("Settle's own authorize, capture and refund: every event's snapshot is `same`, in any order", () => {
    expect(judgeSnapshot(authorized, pi('requires_capture'), meta())).toEqual({ kind: 'same' });
    expect(judgeSnapshot(authorized, charge({ captured_amount: 0 }), meta())).toEqual({ kind: 'same' });
    expect(judgeSnapshot(captured, pi('succeeded'), meta())).toEqual({ kind: 'same' });
    expect(judgeSnapshot(captured, charge(), meta())).toEqual({ kind: 'same' });
    expect(judgeSnapshot(partlyRefunded, charge({ refunded_amount: 300 }), meta())).toEqual({ kind: 'same' });
    expect(judgeSnapshot(refundRow(), refund('succeeded'), meta())).toEqual({ kind: 'same' });
    expect(judgeSnapshot(refundRow({ status: 'pending', payment_status: null }), refund('pending'), meta())).toEqual({
      kind: 'same',
    });
    expect(judgeSnapshot(released, pi('canceled'), meta())).toEqual({ kind: 'same' });
  });

  it('needs nothing whatever its version or order when it is the same', () => {
    const old = meta({ apiVersion: '2020-08-27', created: new Date(0), lastApplied: T });
    expect(judgeSnapshot(captured, pi('succeeded'), old)).toEqual({ kind: 'same' });
  });

  it('the same status with other amounts or another error is not the same: read', () => {
    expect(judgeSnapshot(authorized, pi('requires_capture', { authorized_amount: 900 }), meta()).kind).toBe('read');
    expect(judgeSnapshot(captured, pi('succeeded', { captured_amount: 900 }), meta()).kind).toBe('read');
    const failed = row({ status: 'failed', payment_status: null, error_code: 'card_declined' });
    expect(judgeSnapshot(failed, pi('requires_payment_method', { error_code: 'card_declined' }), meta()).kind).toBe(
      'same',
    );
    expect(judgeSnapshot(failed, pi('requires_payment_method', { error_code: 'expired_card' }), meta()).kind).toBe(
      'read',
    );
    expect(judgeSnapshot(partlyRefunded, charge({ refunded_amount: 500 }), meta()).kind).toBe('read');
    expect(judgeSnapshot(refundRow(), refund('succeeded', 200), meta()).kind).toBe('read');
  });
});

describe('snapshots (W2): provably behind', () => {
  it('a PaymentIntent not yet succeeded or canceled while Settle holds it authorized', () => {
    for (const status of ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing'] as const)
      expect(judgeSnapshot(authorized, pi(status), meta())).toEqual({ kind: 'behind' });
  });

  it('any other status while Settle holds succeeded or canceled', () => {
    for (const status of ['requires_payment_method', 'requires_action', 'processing', 'requires_capture'] as const) {
      expect(judgeSnapshot(captured, pi(status), meta())).toEqual({ kind: 'behind' });
      expect(judgeSnapshot(released, pi(status), meta())).toEqual({ kind: 'behind' });
    }
    expect(judgeSnapshot(captured, pi('canceled'), meta())).toEqual({ kind: 'behind' });
    expect(judgeSnapshot(released, pi('succeeded'), meta())).toEqual({ kind: 'behind' });
  });

  it('a charge that captured less, nothing else different; not when something else differs', () => {
    expect(judgeSnapshot(captured, charge({ captured_amount: 0 }), meta())).toEqual({ kind: 'behind' });
    expect(judgeSnapshot(captured, charge({ captured_amount: 0, refunded_amount: 10 }), meta()).kind).toBe('read');
  });

  it('behind needs nothing whatever its version or order', () => {
    const old = meta({ apiVersion: null, created: new Date(0), lastApplied: T });
    expect(judgeSnapshot(captured, pi('requires_capture'), old)).toEqual({ kind: 'behind' });
  });
});

describe('snapshots (W2): applied without a read', () => {
  it('a PaymentIntent that became requires_capture, succeeded or canceled from a status before it', () => {
    const pending = row({ status: 'pending', payment_status: null, authorized_amount: 0 });
    const waiting = row({ status: 'pending_payment_intent', payment_status: null, authorized_amount: 0 });
    expect(judgeSnapshot(waiting, pi('requires_capture'), meta())).toEqual({ kind: 'apply' });
    expect(judgeSnapshot(pending, pi('succeeded'), meta())).toEqual({ kind: 'apply' });
    expect(judgeSnapshot(authorized, pi('succeeded'), meta())).toEqual({ kind: 'apply' });
    expect(judgeSnapshot(authorized, pi('canceled'), meta())).toEqual({ kind: 'apply' });
    expect(judgeSnapshot(waiting, pi('canceled'), meta())).toEqual({ kind: 'apply' });
  });

  it('a charge that captured more, or became disputed, nothing else changed', () => {
    expect(judgeSnapshot(authorized, charge(), meta())).toEqual({ kind: 'apply' });
    expect(judgeSnapshot(captured, charge({ disputed: true }), meta())).toEqual({ kind: 'apply' });
    expect(judgeSnapshot(captured, charge({ disputed: true, refunded_amount: 10 }), meta()).kind).toBe('read');
  });

  it('a refund that failed or was canceled; never a succeeded one that Settle holds pending', () => {
    expect(judgeSnapshot(refundRow(), refund('failed'), meta())).toEqual({ kind: 'apply' });
    expect(judgeSnapshot(refundRow({ status: 'pending', payment_status: null }), refund('canceled'), meta())).toEqual({
      kind: 'apply',
    });
    expect(
      judgeSnapshot(refundRow({ status: 'pending', payment_status: null }), refund('succeeded'), meta()).kind,
    ).toBe('read');
    expect(judgeSnapshot(refundRow({ status: 'failed', payment_status: null }), refund('canceled'), meta()).kind).toBe(
      'same',
    );
  });

  it('only in the pinned API version: another version is read', () => {
    expect(judgeSnapshot(authorized, pi('succeeded'), meta({ apiVersion: '2024-06-20' })).kind).toBe('read');
    expect(judgeSnapshot(authorized, pi('succeeded'), meta({ apiVersion: null })).kind).toBe('read');
  });

  it('only when created strictly after the last snapshot applied for the object', () => {
    expect(judgeSnapshot(authorized, pi('succeeded'), meta({ lastApplied: T })).kind).toBe('read');
    expect(judgeSnapshot(authorized, pi('succeeded'), meta({ lastApplied: new Date(T.getTime() + 1000) })).kind).toBe(
      'read',
    );
    expect(judgeSnapshot(authorized, pi('succeeded'), meta({ lastApplied: new Date(T.getTime() - 1000) }))).toEqual({
      kind: 'apply',
    });
  });
});

describe('snapshots (W2): everything else is read', () => {
  it('no row, a row in flight or in doubt, or a move the rule does not cover', () => {
    expect(judgeSnapshot(null, pi('succeeded'), meta()).kind).toBe('read');
    expect(judgeSnapshot(row({ status: 'process', payment_status: null }), pi('succeeded'), meta()).kind).toBe('read');
    expect(judgeSnapshot(row({ status: 'needs_review', payment_status: null }), charge(), meta()).kind).toBe('read');
    const failed = row({ status: 'failed', payment_status: null });
    expect(judgeSnapshot(failed, pi('succeeded'), meta()).kind).toBe('read');
    const pending = row({ status: 'pending', payment_status: null, authorized_amount: 0 });
    expect(judgeSnapshot(pending, pi('requires_payment_method', { error_code: 'x' }), meta()).kind).toBe('read');
    expect(judgeSnapshot(refundRow({ status: 'failed', payment_status: null }), refund('succeeded'), meta()).kind).toBe(
      'read',
    );
    expect(judgeSnapshot(refundRow(), refund('requires_action'), meta()).kind).toBe('read');
  });
});
