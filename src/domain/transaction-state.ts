// The transaction state machine (L2, P1-P12, W3, M1, M7), written as data: TRANSITIONS is the one table
// of legal moves; `transition` only looks things up in it. Pure: no I/O imports.
import { SettleError, StateConflictError } from './errors.js';

export const TRANSACTION_STATUSES = [
  'open',
  'process',
  'pending',
  'pending_payment_intent',
  'completed',
  'on_hold',
  'canceled',
  'needs_review',
  'failed',
] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

export const CHARGE_PAYMENT_STATUSES = [
  'authorized',
  'captured',
  'partially_captured',
  'refunded',
  'partially_refunded',
  'uncaptured',
  'disputed',
  'dispute_warning',
] as const;
export const PAYOUT_PAYMENT_STATUSES = ['in_transit', 'paid', 'transferred', 'partially_reversed', 'reversed'] as const;
export const PAYMENT_STATUSES = [...CHARGE_PAYMENT_STATUSES, ...PAYOUT_PAYMENT_STATUSES] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** `payment_status` is non-null iff `status === 'completed'`. */
export interface TxState {
  status: TransactionStatus;
  payment_status: PaymentStatus | null;
}

export const TRANSACTION_EVENTS = [
  // by hand
  'hold',
  'unhold',
  'cancel',
  // Settle starts a gateway call
  'begin_processing',
  // outcomes of a call (from process, or later from needs_review / the asynchronous waits)
  'authorization_succeeded',
  'capture_succeeded',
  'partial_capture_succeeded',
  'release_succeeded',
  'payment_failed',
  'payment_pending',
  'action_required',
  'revert_to_open',
  'revert_to_authorized',
  'review_required',
  'refund_succeeded',
  // gateway-driven changes
  'authorization_expired',
  'canceled_at_gateway',
  // refunds applied to the original charge
  'refund_applied',
  'refund_reversed',
  'refund_failed',
  // disputes
  'dispute_opened',
  'dispute_warning_opened',
  'dispute_closed',
  // payouts
  'payout_paid',
  'payout_failed',
  'payout_canceled',
  // Connect payouts sent by Settle (M6)
  'payout_sent',
  // Connect transfers (M6)
  'transfer_succeeded',
  // Connect transfer reversals (M6): the reversal transaction itself, and what it does to its transfer
  'reversal_succeeded',
  'transfer_partially_reversed',
  'transfer_reversed',
] as const;
export type TransactionEvent = (typeof TRANSACTION_EVENTS)[number];

export type TransitionActor = 'hand' | 'settle' | 'gateway';

export interface TransitionEdge {
  event: TransactionEvent;
  from: TxState;
  to: TxState;
  by: TransitionActor;
}

export type RecordType = 'charge' | 'payout' | 'transfer' | 'adjustment';

/** Exhaustiveness guard for `switch` statements over unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new SettleError('internal', 'unexpected_value', `Unexpected ${what}: ${JSON.stringify(value)}`);
}

const at = (status: Exclude<TransactionStatus, 'completed'>): TxState =>
  Object.freeze({ status, payment_status: null });
const done = (payment_status: PaymentStatus): TxState => Object.freeze({ status: 'completed', payment_status });

const OPEN = at('open');
const PROCESS = at('process');
const PENDING = at('pending');
const PENDING_PI = at('pending_payment_intent');
const ON_HOLD = at('on_hold');
const CANCELED = at('canceled');
const NEEDS_REVIEW = at('needs_review');
const FAILED = at('failed');
const AUTHORIZED = done('authorized');
const CAPTURED = done('captured');
const PARTIALLY_CAPTURED = done('partially_captured');
const REFUNDED = done('refunded');
const PARTIALLY_REFUNDED = done('partially_refunded');
const UNCAPTURED = done('uncaptured');
const DISPUTED = done('disputed');
const DISPUTE_WARNING = done('dispute_warning');
const IN_TRANSIT = done('in_transit');
const PAID = done('paid');
const TRANSFERRED = done('transferred');
const PARTIALLY_REVERSED = done('partially_reversed');
const REVERSED = done('reversed');

const edge = (event: TransactionEvent, from: TxState, to: TxState, by: TransitionActor): TransitionEdge =>
  Object.freeze({ event, from, to, by });

/** THE table. One line per legal move; anything not listed here is a 409 unexpected_state. */
export const TRANSITIONS: readonly TransitionEdge[] = Object.freeze([
  // L2: the only changes a person may make by hand.
  edge('hold', OPEN, ON_HOLD, 'hand'),
  edge('unhold', ON_HOLD, OPEN, 'hand'),
  edge('cancel', OPEN, CANCELED, 'hand'),

  // P12: Settle records the attempt before calling the gateway (charge/authorize, or capture/release).
  edge('begin_processing', OPEN, PROCESS, 'settle'),
  edge('begin_processing', AUTHORIZED, PROCESS, 'settle'),

  // P1: authorize.
  edge('authorization_succeeded', PROCESS, AUTHORIZED, 'settle'),
  edge('authorization_succeeded', NEEDS_REVIEW, AUTHORIZED, 'settle'),
  edge('authorization_succeeded', PENDING_PI, AUTHORIZED, 'gateway'),
  // P2/P3: capture, full or partial.
  edge('capture_succeeded', PROCESS, CAPTURED, 'settle'),
  edge('capture_succeeded', NEEDS_REVIEW, CAPTURED, 'settle'),
  edge('capture_succeeded', PENDING, CAPTURED, 'gateway'),
  edge('capture_succeeded', PENDING_PI, CAPTURED, 'gateway'),
  edge('capture_succeeded', AUTHORIZED, CAPTURED, 'gateway'),
  edge('partial_capture_succeeded', PROCESS, PARTIALLY_CAPTURED, 'settle'),
  edge('partial_capture_succeeded', NEEDS_REVIEW, PARTIALLY_CAPTURED, 'settle'),
  // W3: an authorization captured outside Settle (the gateway's dashboard), learnt from its events.
  edge('partial_capture_succeeded', AUTHORIZED, PARTIALLY_CAPTURED, 'gateway'),
  // P4: release an authorization.
  edge('release_succeeded', PROCESS, UNCAPTURED, 'settle'),
  edge('release_succeeded', NEEDS_REVIEW, UNCAPTURED, 'settle'),
  // P8/P9: failure, and the asynchronous waits (ACH, SCA).
  edge('payment_failed', PROCESS, FAILED, 'settle'),
  edge('payment_failed', NEEDS_REVIEW, FAILED, 'settle'),
  edge('payment_failed', PENDING, FAILED, 'gateway'),
  edge('payment_failed', PENDING_PI, FAILED, 'gateway'),
  edge('payment_pending', PROCESS, PENDING, 'settle'),
  edge('action_required', PROCESS, PENDING_PI, 'settle'),
  // P12: the gateway proved nothing happened -> back to the remembered previous state; or undecidable.
  edge('revert_to_open', PROCESS, OPEN, 'settle'),
  edge('revert_to_open', NEEDS_REVIEW, OPEN, 'settle'),
  edge('revert_to_authorized', PROCESS, AUTHORIZED, 'settle'),
  edge('revert_to_authorized', NEEDS_REVIEW, AUTHORIZED, 'settle'),
  edge('review_required', PROCESS, NEEDS_REVIEW, 'settle'),
  // P5: a refund-type transaction succeeding (possibly after waiting in pending).
  edge('refund_succeeded', PROCESS, REFUNDED, 'settle'),
  edge('refund_succeeded', NEEDS_REVIEW, REFUNDED, 'settle'),
  edge('refund_succeeded', PENDING, REFUNDED, 'gateway'),

  // P1: an authorization that lapses; P9: a payment the customer never authenticated.
  edge('authorization_expired', AUTHORIZED, UNCAPTURED, 'gateway'),
  edge('canceled_at_gateway', PENDING_PI, CANCELED, 'gateway'),

  // P5: refunds applied to the original charge; the caller picks the target from the amounts.
  edge('refund_applied', CAPTURED, PARTIALLY_REFUNDED, 'settle'),
  edge('refund_applied', CAPTURED, REFUNDED, 'settle'),
  edge('refund_applied', PARTIALLY_CAPTURED, PARTIALLY_REFUNDED, 'settle'),
  edge('refund_applied', PARTIALLY_CAPTURED, REFUNDED, 'settle'),
  edge('refund_applied', PARTIALLY_REFUNDED, PARTIALLY_REFUNDED, 'settle'),
  edge('refund_applied', PARTIALLY_REFUNDED, REFUNDED, 'settle'),
  // P5: a refund that fails later gives its amount back to the original.
  edge('refund_reversed', REFUNDED, CAPTURED, 'gateway'),
  edge('refund_reversed', REFUNDED, PARTIALLY_CAPTURED, 'gateway'),
  edge('refund_reversed', REFUNDED, PARTIALLY_REFUNDED, 'gateway'),
  edge('refund_reversed', PARTIALLY_REFUNDED, CAPTURED, 'gateway'),
  edge('refund_reversed', PARTIALLY_REFUNDED, PARTIALLY_CAPTURED, 'gateway'),
  edge('refund_reversed', PARTIALLY_REFUNDED, PARTIALLY_REFUNDED, 'gateway'),
  // P5: the refund transaction itself failing later (refund.failed).
  edge('refund_failed', REFUNDED, FAILED, 'gateway'),

  // M7/W3: disputes; the closing status follows the amounts.
  edge('dispute_opened', CAPTURED, DISPUTED, 'gateway'),
  edge('dispute_opened', PARTIALLY_CAPTURED, DISPUTED, 'gateway'),
  edge('dispute_opened', PARTIALLY_REFUNDED, DISPUTED, 'gateway'),
  edge('dispute_warning_opened', CAPTURED, DISPUTE_WARNING, 'gateway'),
  edge('dispute_warning_opened', PARTIALLY_CAPTURED, DISPUTE_WARNING, 'gateway'),
  edge('dispute_warning_opened', PARTIALLY_REFUNDED, DISPUTE_WARNING, 'gateway'),
  edge('dispute_closed', DISPUTED, CAPTURED, 'gateway'),
  edge('dispute_closed', DISPUTED, PARTIALLY_CAPTURED, 'gateway'),
  edge('dispute_closed', DISPUTED, PARTIALLY_REFUNDED, 'gateway'),
  edge('dispute_closed', DISPUTED, REFUNDED, 'gateway'),
  edge('dispute_closed', DISPUTE_WARNING, CAPTURED, 'gateway'),
  edge('dispute_closed', DISPUTE_WARNING, PARTIALLY_CAPTURED, 'gateway'),
  edge('dispute_closed', DISPUTE_WARNING, PARTIALLY_REFUNDED, 'gateway'),
  edge('dispute_closed', DISPUTE_WARNING, REFUNDED, 'gateway'),

  // M1: payouts (a payout may show paid and fail later).
  edge('payout_paid', IN_TRANSIT, PAID, 'gateway'),
  edge('payout_failed', IN_TRANSIT, FAILED, 'gateway'),
  edge('payout_failed', PAID, FAILED, 'gateway'),
  edge('payout_canceled', IN_TRANSIT, CANCELED, 'gateway'),

  // M6: a transfer to a connected account, sent by Settle (app/connect/transfers.ts); a refusal is payment_failed.
  edge('transfer_succeeded', PROCESS, TRANSFERRED, 'settle'),
  // M6: a connected account's payout, sent by Settle (app/connect/payouts-send.ts): Stripe took it (pending at first,
  // Payouts.d.ts `status`), in transit until its payout.paid / payout.failed events; a refusal is payment_failed.
  edge('payout_sent', PROCESS, IN_TRANSIT, 'settle'),
  // M6: a transfer reversal sent by Settle (app/connect/reversals.ts): the reversal row is completed/reversed (a refusal
  // is payment_failed), and its transfer follows the amounts: partially_reversed, or reversed once nothing is left.
  edge('reversal_succeeded', PROCESS, REVERSED, 'settle'),
  edge('transfer_partially_reversed', TRANSFERRED, PARTIALLY_REVERSED, 'settle'),
  edge('transfer_partially_reversed', PARTIALLY_REVERSED, PARTIALLY_REVERSED, 'settle'),
  edge('transfer_reversed', TRANSFERRED, REVERSED, 'settle'),
  edge('transfer_reversed', PARTIALLY_REVERSED, REVERSED, 'settle'),
]);

/** The status changes a user may make directly (L2), read from the table. */
export const MANUAL_STATUS_CHANGES: readonly {
  from: TransactionStatus;
  to: TransactionStatus;
  event: TransactionEvent;
}[] = Object.freeze(
  TRANSITIONS.filter((e) => e.by === 'hand').map((e) =>
    Object.freeze({ from: e.from.status, to: e.to.status, event: e.event }),
  ),
);

/** The state of a stored row (its status columns; the database's CHECK constraints keep them valid). */
export function stateOf(row: { status: string; payment_status: string | null }): TxState {
  return { status: row.status, payment_status: row.payment_status } as TxState;
}

export function sameState(a: TxState, b: TxState): boolean {
  return a.status === b.status && a.payment_status === b.payment_status;
}

/** 'open', 'completed/authorized'. */
export function stateLabel(s: TxState): string {
  return s.payment_status === null ? s.status : `${s.status}/${s.payment_status}`;
}

function unique(labels: string[]): string[] {
  return [...new Set(labels)];
}

function edgesFrom(current: TxState, event: TransactionEvent): TransitionEdge[] {
  return TRANSITIONS.filter((e) => e.event === event && sameState(e.from, current));
}

type Pick = { ok: true; edge: TransitionEdge } | { ok: false; extra: string | undefined };

function pick(current: TxState, event: TransactionEvent, target: TxState | undefined): Pick {
  const candidates = edgesFrom(current, event);
  if (candidates.length === 0) return { ok: false, extra: undefined };
  const targets = candidates.map((e) => stateLabel(e.to)).join(', ');
  if (target === undefined) {
    const [only, ...rest] = candidates;
    if (only !== undefined && rest.length === 0) return { ok: true, edge: only };
    return { ok: false, extra: `The target state must be given; possible: ${targets}.` };
  }
  const chosen = candidates.find((e) => sameState(e.to, target));
  if (chosen !== undefined) return { ok: true, edge: chosen };
  return { ok: false, extra: `Target '${stateLabel(target)}' is not reachable this way; possible: ${targets}.` };
}

/** The next state, or a StateConflictError naming the current state and the states `event` is allowed from. */
export function transition(current: TxState, event: TransactionEvent, target?: TxState): TxState {
  const found = pick(current, event, target);
  if (found.ok) return { ...found.edge.to };
  const allowed = unique(TRANSITIONS.filter((e) => e.event === event).map((e) => stateLabel(e.from)));
  throw new StateConflictError(event.replaceAll('_', ' '), stateLabel(current), allowed, found.extra);
}

export function canTransition(current: TxState, event: TransactionEvent, target?: TxState): boolean {
  return pick(current, event, target).ok;
}

/** Events with at least one edge from `current`, in table order. */
export function allowedEvents(current: TxState): TransactionEvent[] {
  return [...new Set(TRANSITIONS.filter((e) => sameState(e.from, current)).map((e) => e.event))];
}

export function isValidState(s: TxState, recordType: RecordType): boolean {
  if (!(TRANSACTION_STATUSES as readonly string[]).includes(s.status)) return false;
  if (s.status !== 'completed') return s.payment_status === null;
  if (s.payment_status === null) return false;
  switch (recordType) {
    case 'charge':
    case 'adjustment':
      return (CHARGE_PAYMENT_STATUSES as readonly string[]).includes(s.payment_status);
    case 'payout':
    case 'transfer':
      return (PAYOUT_PAYMENT_STATUSES as readonly string[]).includes(s.payment_status);
    default:
      return assertNever(recordType, 'record type');
  }
}

function mermaidId(s: TxState): string {
  return s.payment_status === null ? s.status : `${s.status}_${s.payment_status}`;
}

function actorHeading(by: TransitionActor): string {
  switch (by) {
    case 'hand':
      return 'changed by hand';
    case 'settle':
      return 'changed by Settle (its own calls and their recovery)';
    case 'gateway':
      return 'changed by gateway events';
    default:
      return assertNever(by, 'actor');
  }
}

/** A mermaid `stateDiagram-v2` generated from TRANSITIONS; edge labels are event names. */
export function toMermaid(): string {
  const lines = ['stateDiagram-v2'];
  const states = new Map<string, TxState>();
  for (const e of TRANSITIONS) {
    for (const s of [e.from, e.to]) states.set(mermaidId(s), s);
  }
  for (const [id, s] of states) {
    if (s.payment_status !== null) lines.push(`    state "${stateLabel(s)}" as ${id}`);
  }
  const actors: TransitionActor[] = ['hand', 'settle', 'gateway'];
  for (const by of actors) {
    lines.push(`    %% ${actorHeading(by)}`);
    for (const e of TRANSITIONS.filter((t) => t.by === by)) {
      lines.push(`    ${mermaidId(e.from)} --> ${mermaidId(e.to)}: ${e.event}`);
    }
  }
  return lines.join('\n');
}
