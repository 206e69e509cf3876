// When a webhook event's snapshot (its `data.object`) can stand in for a read of the gateway (W2). Pure: no I/O.
//
// Stripe renders an event's object once, with the API version of the event, and never changes it; events come in no
// guaranteed order and may come twice (docs.stripe.com/webhooks, "Event ordering"; Events.d.ts: `data` is rendered
// with the `api_version` in force when the event was created). So a snapshot is trusted only as far as this module
// can prove it is not older than what Settle holds:
//
//   - `same`: it shows exactly what Settle holds (the fields Settle stores, listed per object below): nothing to do.
//   - `behind`: it is provably older under Stripe's PaymentIntent and Charge lifecycles (a PaymentIntent that is not
//     yet succeeded or canceled while Settle holds it authorized; anything but the terminal status Settle holds;
//     a charge that captured less, with nothing else different): nothing to do, whatever order it came in.
//   - `apply`: a forward move Settle may take from the snapshot alone: same API version as Settle's pinned one, created
//     strictly after the last snapshot applied for that object, and one of: a PaymentIntent that became
//     requires_capture, succeeded or canceled from a status before it; a charge whose amount_captured grew or that
//     became disputed, nothing else changed; a refund that failed or was canceled (a succeeded refund can still fail,
//     so `succeeded` is never taken from a snapshot).
//   - `read`: anything else: the object is read again from the gateway.
//
// Settle's own actions make events of the first two kinds, so they cost no request.

/** Stripe's PaymentIntent statuses (PaymentIntents.d.ts). */
export type IntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

export type ChargeStatus = 'succeeded' | 'pending' | 'failed';
export type RefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

/** What a snapshot says, in Settle's units (minor units), as the gateway adapter maps it. */
export type Snapshot =
  | {
      object: 'payment_intent';
      status: IntentStatus;
      /** amount_capturable */
      authorized_amount: number;
      /** amount_received */
      captured_amount: number;
      /** last_payment_error's code, null without one */
      error_code: string | null;
    }
  | {
      object: 'charge';
      status: ChargeStatus;
      captured_amount: number;
      /** amount_refunded less what was released uncaptured (not money returned to the customer) */
      refunded_amount: number;
      disputed: boolean;
      error_code: string | null;
    }
  | {
      object: 'refund';
      status: RefundStatus;
      amount: number;
    };

/** The ledger row the snapshot is compared with: the charge (PaymentIntent, Charge) or the refund (Refund). */
export interface HeldRow {
  status: string;
  payment_status: string | null;
  /** A refund row's amount is negative (money out); a charge's is positive. */
  amount: number;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  disputed_amount: number;
  error_code: string | null;
}

export interface SnapshotMeta {
  /** The event's api_version. */
  apiVersion: string | null;
  /** The API version Settle's adapter is pinned to. */
  pinnedVersion: string;
  /** The event's `created`. */
  created: Date;
  /** `created` of the last snapshot applied for this object; null when none was. */
  lastApplied: Date | null;
}

export type SnapshotDecision =
  { kind: 'same' } | { kind: 'behind' } | { kind: 'apply' } | { kind: 'read'; reason: string };

const SAME = { kind: 'same' } as const;
const BEHIND = { kind: 'behind' } as const;
const APPLY = { kind: 'apply' } as const;
const read = (reason: string): SnapshotDecision => ({ kind: 'read', reason });

/** Charge payment statuses that say a charge captured money (whatever happened to it since). */
const CAPTURED = new Set([
  'captured',
  'partially_captured',
  'refunded',
  'partially_refunded',
  'disputed',
  'dispute_warning',
]);
const DISPUTED = new Set(['disputed', 'dispute_warning']);

/**
 * The PaymentIntent status a charge row stands for; null for a row with nothing settled at the gateway (open, on
 * hold, canceled in Settle before any call) or whose own call is in flight or in doubt (process, needs_review).
 */
export function heldIntentStatus(row: Pick<HeldRow, 'status' | 'payment_status'>): IntentStatus | null {
  switch (row.status) {
    case 'pending':
      return 'processing';
    case 'pending_payment_intent':
      return 'requires_action';
    case 'failed':
      return 'requires_payment_method';
    case 'completed':
      if (row.payment_status === 'authorized') return 'requires_capture';
      if (row.payment_status === 'uncaptured') return 'canceled';
      return row.payment_status !== null && CAPTURED.has(row.payment_status) ? 'succeeded' : null;
    default:
      return null;
  }
}

/** The refund status a refund row stands for; null while its own call is in flight (or for a state a refund never has). */
export function heldRefundStatus(
  row: Pick<HeldRow, 'status' | 'payment_status'>,
): RefundStatus | 'failed_or_canceled' | null {
  if (row.status === 'pending') return 'pending';
  if (row.status === 'completed' && row.payment_status === 'refunded') return 'succeeded';
  if (row.status === 'failed') return 'failed_or_canceled';
  return null;
}

/** Which of the two: can Settle take this forward move from the snapshot (version and order checked)? */
function forward(meta: SnapshotMeta, what: string): SnapshotDecision {
  if (meta.apiVersion !== meta.pinnedVersion)
    return read(
      `${what}, but the event is rendered in API version ${meta.apiVersion ?? '(none)'}, not ${meta.pinnedVersion}`,
    );
  if (meta.lastApplied !== null && meta.created.getTime() <= meta.lastApplied.getTime())
    return read(`${what}, but the event is not later than the last snapshot applied for the object`);
  return APPLY;
}

function judgeIntent(
  held: HeldRow,
  s: Extract<Snapshot, { object: 'payment_intent' }>,
  meta: SnapshotMeta,
): SnapshotDecision {
  const holds = heldIntentStatus(held);
  if (holds === null) return read(`Settle holds ${held.status}, which a snapshot cannot be compared with`);
  if (s.status === holds) {
    // The fields Settle stores from a PaymentIntent in that status.
    const same =
      holds === 'requires_capture'
        ? s.authorized_amount === held.authorized_amount
        : holds === 'succeeded'
          ? s.captured_amount === held.captured_amount
          : holds === 'requires_payment_method'
            ? s.error_code === held.error_code
            : true;
    return same ? SAME : read(`the payment is ${s.status} as Settle holds it, but its amounts or error differ`);
  }
  // A failed charge row can come from a canceled intent as well (payment_failed): the same final state.
  if (held.status === 'failed')
    return s.status === 'canceled' ? SAME : read(`the payment is ${s.status} where Settle holds it failed`);
  if (holds === 'requires_capture' && s.status !== 'succeeded' && s.status !== 'canceled') return BEHIND;
  if ((holds === 'succeeded' || holds === 'canceled') && s.status !== holds) return BEHIND;
  const before: readonly IntentStatus[] =
    s.status === 'requires_capture'
      ? ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing']
      : ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture'];
  if (
    (s.status === 'requires_capture' || s.status === 'succeeded' || s.status === 'canceled') &&
    before.includes(holds)
  )
    return forward(meta, `the payment moved forward to ${s.status}`);
  return read(`the payment is ${s.status} where Settle holds ${holds}`);
}

function heldChargeStatus(held: HeldRow): ChargeStatus | null {
  if (held.status === 'completed') return 'succeeded';
  if (held.status === 'pending') return 'pending';
  if (held.status === 'failed') return 'failed';
  return null;
}

function judgeCharge(held: HeldRow, s: Extract<Snapshot, { object: 'charge' }>, meta: SnapshotMeta): SnapshotDecision {
  const status = heldChargeStatus(held);
  if (status === null) return read(`Settle holds ${held.status}, which a snapshot cannot be compared with`);
  const heldDisputed = (held.payment_status !== null && DISPUTED.has(held.payment_status)) || held.disputed_amount > 0;
  const statusSame = s.status === status && (status !== 'failed' || s.error_code === held.error_code);
  const refundedSame = s.refunded_amount === held.refunded_amount;
  const disputedSame = s.disputed === heldDisputed;
  const capturedSame = s.captured_amount === held.captured_amount;
  if (statusSame && refundedSame && disputedSame) {
    if (capturedSame) return SAME;
    if (s.captured_amount < held.captured_amount) return BEHIND;
    return forward(meta, 'the charge captured more');
  }
  if (statusSame && refundedSame && capturedSame && s.disputed && !heldDisputed)
    return forward(meta, 'the charge became disputed');
  return read('the charge differs from what Settle holds');
}

function judgeRefund(held: HeldRow, s: Extract<Snapshot, { object: 'refund' }>, meta: SnapshotMeta): SnapshotDecision {
  const holds = heldRefundStatus(held);
  if (holds === null) return read(`Settle holds the refund ${held.status}, which a snapshot cannot be compared with`);
  if (s.amount !== -held.amount) return read('the refund amount differs from what Settle holds');
  if (s.status === holds || (holds === 'failed_or_canceled' && (s.status === 'failed' || s.status === 'canceled')))
    return SAME;
  if ((s.status === 'failed' || s.status === 'canceled') && (holds === 'pending' || holds === 'succeeded'))
    return forward(meta, `the refund ${s.status}`);
  return read(`the refund is ${s.status} where Settle holds ${holds}`);
}

/** What to do with one snapshot, given the row Settle holds for its object (null: Settle holds no row for it). */
export function judgeSnapshot(held: HeldRow | null, snapshot: Snapshot, meta: SnapshotMeta): SnapshotDecision {
  if (held === null) return read(`Settle holds no record of this ${snapshot.object}`);
  switch (snapshot.object) {
    case 'payment_intent':
      return judgeIntent(held, snapshot, meta);
    case 'charge':
      return judgeCharge(held, snapshot, meta);
    case 'refund':
      return judgeRefund(held, snapshot, meta);
  }
}
