import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SettleError, StateConflictError } from '../../src/domain/errors.js';
import {
  MANUAL_STATUS_CHANGES,
  PAYMENT_STATUSES,
  TRANSACTION_EVENTS,
  TRANSACTION_STATUSES,
  TRANSITIONS,
  allowedEvents,
  canTransition,
  isValidState,
  stateLabel,
  toMermaid,
  transition,
  type TransactionEvent,
  type TxState,
} from '../../src/domain/transaction-state.js';

// The legal moves, written out by hand from the features (L2, P1-P12, W3, M1, M7 in docs/FEATURES.md)
// and the payment status flow they describe. Never derived from TRANSITIONS.
const EXPECTED: readonly (readonly [from: string, event: string, to: string])[] = [
  ['open', 'hold', 'on_hold'],
  ['on_hold', 'unhold', 'open'],
  ['open', 'cancel', 'canceled'],
  ['open', 'begin_processing', 'process'],
  ['completed/authorized', 'begin_processing', 'process'],
  ['process', 'authorization_succeeded', 'completed/authorized'],
  ['needs_review', 'authorization_succeeded', 'completed/authorized'],
  ['pending_payment_intent', 'authorization_succeeded', 'completed/authorized'],
  ['process', 'capture_succeeded', 'completed/captured'],
  ['needs_review', 'capture_succeeded', 'completed/captured'],
  ['pending', 'capture_succeeded', 'completed/captured'],
  ['pending_payment_intent', 'capture_succeeded', 'completed/captured'],
  ['completed/authorized', 'capture_succeeded', 'completed/captured'],
  ['process', 'partial_capture_succeeded', 'completed/partially_captured'],
  ['needs_review', 'partial_capture_succeeded', 'completed/partially_captured'],
  ['completed/authorized', 'partial_capture_succeeded', 'completed/partially_captured'],
  ['process', 'release_succeeded', 'completed/uncaptured'],
  ['needs_review', 'release_succeeded', 'completed/uncaptured'],
  ['process', 'payment_failed', 'failed'],
  ['needs_review', 'payment_failed', 'failed'],
  ['pending', 'payment_failed', 'failed'],
  ['pending_payment_intent', 'payment_failed', 'failed'],
  ['process', 'payment_pending', 'pending'],
  ['process', 'action_required', 'pending_payment_intent'],
  ['process', 'revert_to_open', 'open'],
  ['needs_review', 'revert_to_open', 'open'],
  ['process', 'revert_to_authorized', 'completed/authorized'],
  ['needs_review', 'revert_to_authorized', 'completed/authorized'],
  ['process', 'review_required', 'needs_review'],
  ['process', 'refund_succeeded', 'completed/refunded'],
  ['needs_review', 'refund_succeeded', 'completed/refunded'],
  ['pending', 'refund_succeeded', 'completed/refunded'],
  ['completed/authorized', 'authorization_expired', 'completed/uncaptured'],
  ['pending_payment_intent', 'canceled_at_gateway', 'canceled'],
  ['completed/captured', 'refund_applied', 'completed/partially_refunded'],
  ['completed/captured', 'refund_applied', 'completed/refunded'],
  ['completed/partially_captured', 'refund_applied', 'completed/partially_refunded'],
  ['completed/partially_captured', 'refund_applied', 'completed/refunded'],
  ['completed/partially_refunded', 'refund_applied', 'completed/partially_refunded'],
  ['completed/partially_refunded', 'refund_applied', 'completed/refunded'],
  ['completed/refunded', 'refund_reversed', 'completed/captured'],
  ['completed/refunded', 'refund_reversed', 'completed/partially_captured'],
  ['completed/refunded', 'refund_reversed', 'completed/partially_refunded'],
  ['completed/partially_refunded', 'refund_reversed', 'completed/captured'],
  ['completed/partially_refunded', 'refund_reversed', 'completed/partially_captured'],
  ['completed/partially_refunded', 'refund_reversed', 'completed/partially_refunded'],
  ['completed/refunded', 'refund_failed', 'failed'],
  ['completed/captured', 'dispute_opened', 'completed/disputed'],
  ['completed/partially_captured', 'dispute_opened', 'completed/disputed'],
  ['completed/partially_refunded', 'dispute_opened', 'completed/disputed'],
  ['completed/captured', 'dispute_warning_opened', 'completed/dispute_warning'],
  ['completed/partially_captured', 'dispute_warning_opened', 'completed/dispute_warning'],
  ['completed/partially_refunded', 'dispute_warning_opened', 'completed/dispute_warning'],
  ['completed/disputed', 'dispute_closed', 'completed/captured'],
  ['completed/disputed', 'dispute_closed', 'completed/partially_captured'],
  ['completed/disputed', 'dispute_closed', 'completed/partially_refunded'],
  ['completed/disputed', 'dispute_closed', 'completed/refunded'],
  ['completed/dispute_warning', 'dispute_closed', 'completed/captured'],
  ['completed/dispute_warning', 'dispute_closed', 'completed/partially_captured'],
  ['completed/dispute_warning', 'dispute_closed', 'completed/partially_refunded'],
  ['completed/dispute_warning', 'dispute_closed', 'completed/refunded'],
  ['completed/in_transit', 'payout_paid', 'completed/paid'],
  ['completed/in_transit', 'payout_failed', 'failed'],
  ['completed/paid', 'payout_failed', 'failed'],
  ['completed/in_transit', 'payout_canceled', 'canceled'],
  ['process', 'transfer_succeeded', 'completed/transferred'],
  ['process', 'payout_sent', 'completed/in_transit'],
  ['process', 'reversal_succeeded', 'completed/reversed'],
  ['completed/transferred', 'transfer_partially_reversed', 'completed/partially_reversed'],
  ['completed/partially_reversed', 'transfer_partially_reversed', 'completed/partially_reversed'],
  ['completed/transferred', 'transfer_reversed', 'completed/reversed'],
  ['completed/partially_reversed', 'transfer_reversed', 'completed/reversed'],
];

const EXPECTED_EVENTS = [...new Set(EXPECTED.map(([, event]) => event))];

function parse(label: string): TxState {
  const [status, payment] = label.split('/');
  return { status, payment_status: payment ?? null } as TxState;
}

const ALL_STATES: TxState[] = TRANSACTION_STATUSES.flatMap((status) =>
  [null, ...PAYMENT_STATUSES].map((payment_status) => ({ status, payment_status })),
);

function expectedTargets(from: TxState, event: string): string[] {
  return EXPECTED.filter(([f, e]) => f === stateLabel(from) && e === event).map(([, , to]) => to);
}

function expectedAllowed(event: string): string[] {
  return [...new Set(EXPECTED.filter(([, e]) => e === event).map(([from]) => from))];
}

function isLegal(from: TxState, event: string, target: TxState | undefined): boolean {
  const targets = expectedTargets(from, event);
  return target === undefined ? targets.length === 1 : targets.includes(stateLabel(target));
}

const stateArb: fc.Arbitrary<TxState> = fc.oneof(
  fc.record({
    status: fc.constantFrom(...TRANSACTION_STATUSES),
    payment_status: fc.option(fc.constantFrom(...PAYMENT_STATUSES), { nil: null }),
  }),
  fc.constantFrom(...EXPECTED.flatMap(([from, , to]) => [parse(from), parse(to)])),
);
const eventArb = fc.constantFrom(...TRANSACTION_EVENTS);
const targetArb = fc.option(stateArb, { nil: undefined });

describe('transaction state machine', () => {
  it('knows exactly the events of the expected list', () => {
    expect([...TRANSACTION_EVENTS].sort()).toEqual([...EXPECTED_EVENTS].sort());
  });

  it('accepts exactly the expected transitions, and rejects the rest with a 409 unexpected_state', () => {
    fc.assert(
      fc.property(stateArb, eventArb, targetArb, (current, event, target) => {
        const legal = isLegal(current, event, target);
        expect(canTransition(current, event, target)).toBe(legal);
        if (legal) {
          const next = transition(current, event, target);
          const to = target ?? parse(expectedTargets(current, event)[0] ?? '');
          expect(next).toEqual(to);
          return;
        }
        let thrown: unknown;
        try {
          transition(current, event, target);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(StateConflictError);
        const error = thrown as StateConflictError;
        expect(error.kind).toBe('conflict');
        expect(error.code).toBe('unexpected_state');
        expect(error.current).toBe(stateLabel(current));
        const allowed = expectedAllowed(event);
        expect([...error.allowed].sort()).toEqual([...allowed].sort());
        expect(error.message).toContain(
          `Cannot ${event.replaceAll('_', ' ')} a transaction in state '${stateLabel(current)}'`,
        );
        for (const label of allowed) expect(error.message).toContain(label);
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with the expected list on every (state, event, target) combination', () => {
    for (const current of ALL_STATES) {
      for (const event of TRANSACTION_EVENTS) {
        expect(canTransition(current, event), `${stateLabel(current)} ${event}`).toBe(
          isLegal(current, event, undefined),
        );
        for (const target of ALL_STATES) {
          if (canTransition(current, event, target) !== isLegal(current, event, target)) {
            expect.fail(`${stateLabel(current)} -${event}-> ${stateLabel(target)}`);
          }
        }
      }
    }
  });

  it('names the allowed states in table order', () => {
    expect(() => transition(parse('completed/captured'), 'begin_processing')).toThrowError(
      "Cannot begin processing a transaction in state 'completed/captured'; allowed from: open, completed/authorized.",
    );
  });

  it('asks for a target when the event has several, and rejects one it cannot reach', () => {
    const captured = parse('completed/captured');
    expect(() => transition(captured, 'refund_applied')).toThrowError(/target state must be given/);
    expect(() => transition(captured, 'refund_applied', parse('completed/captured'))).toThrowError(/not reachable/);
    expect(transition(captured, 'refund_applied', parse('completed/refunded'))).toEqual(parse('completed/refunded'));
  });

  it('returns a fresh state object', () => {
    const next = transition(parse('open'), 'hold');
    next.status = 'open';
    expect(transition(parse('open'), 'hold')).toEqual(parse('on_hold'));
  });

  it('lists the allowed events of a state', () => {
    expect(allowedEvents(parse('open'))).toEqual(['hold', 'cancel', 'begin_processing']);
    expect(allowedEvents(parse('completed/authorized'))).toEqual([
      'begin_processing',
      'capture_succeeded',
      'partial_capture_succeeded',
      'authorization_expired',
    ]);
    expect(allowedEvents(parse('canceled'))).toEqual([]);
    for (const state of ALL_STATES) {
      const expected = TRANSACTION_EVENTS.filter((e) => expectedTargets(state, e).length > 0);
      expect(new Set(allowedEvents(state))).toEqual(new Set(expected));
    }
  });

  it('allows only open <-> on_hold and open -> canceled by hand', () => {
    expect(MANUAL_STATUS_CHANGES).toEqual([
      { from: 'open', to: 'on_hold', event: 'hold' },
      { from: 'on_hold', to: 'open', event: 'unhold' },
      { from: 'open', to: 'canceled', event: 'cancel' },
    ]);
    expect(TRANSITIONS.filter((e) => e.by === 'hand').map((e) => e.event)).toEqual(['hold', 'unhold', 'cancel']);
  });

  it('has an edge for every event and no duplicate edges', () => {
    for (const event of TRANSACTION_EVENTS)
      expect(
        TRANSITIONS.some((e) => e.event === event),
        event,
      ).toBe(true);
    const keys = TRANSITIONS.map((e) => `${stateLabel(e.from)} ${e.event} ${stateLabel(e.to)}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('only reaches valid states, and each edge stays within one record type', () => {
    const types = ['charge', 'payout', 'transfer', 'adjustment'] as const;
    for (const e of TRANSITIONS) {
      expect(
        types.some((t) => isValidState(e.from, t) && isValidState(e.to, t)),
        `${stateLabel(e.from)} -> ${stateLabel(e.to)}`,
      ).toBe(true);
    }
  });
});

describe('isValidState', () => {
  it('requires a payment status exactly when completed', () => {
    expect(isValidState(parse('open'), 'charge')).toBe(true);
    expect(isValidState(parse('open/captured'), 'charge')).toBe(false);
    expect(isValidState(parse('completed'), 'charge')).toBe(false);
    expect(isValidState(parse('completed/captured'), 'charge')).toBe(true);
  });

  it('uses charge statuses for charges and adjustments, payout statuses for payouts and transfers', () => {
    expect(isValidState(parse('completed/disputed'), 'adjustment')).toBe(true);
    expect(isValidState(parse('completed/paid'), 'charge')).toBe(false);
    expect(isValidState(parse('completed/paid'), 'payout')).toBe(true);
    expect(isValidState(parse('completed/transferred'), 'transfer')).toBe(true);
    expect(isValidState(parse('completed/captured'), 'transfer')).toBe(false);
  });

  it('rejects unknown statuses and record types', () => {
    expect(isValidState({ status: 'lost' as TxState['status'], payment_status: null }, 'charge')).toBe(false);
    expect(() => isValidState(parse('completed/paid'), 'invoice' as 'charge')).toThrow(SettleError);
  });
});

describe('toMermaid', () => {
  const diagram = toMermaid();
  const id = (label: string): string => label.replace('/', '_');

  it('is a state diagram with every edge of the expected list, labelled by event', () => {
    expect(diagram.startsWith('stateDiagram-v2\n')).toBe(true);
    const edgeLines = diagram
      .split('\n')
      .filter((line) => line.includes('-->'))
      .map((line) => line.trim());
    for (const [from, event, to] of EXPECTED) expect(edgeLines).toContain(`${id(from)} --> ${id(to)}: ${event}`);
    expect(edgeLines).toHaveLength(EXPECTED.length);
  });

  it('names completed states by their label', () => {
    expect(diagram).toContain('state "completed/authorized" as completed_authorized');
  });

  it('labels edges with known events only', () => {
    const events = diagram
      .split('\n')
      .filter((line) => line.includes('-->'))
      .map((line) => line.split(': ')[1] as TransactionEvent);
    for (const event of events) expect(TRANSACTION_EVENTS).toContain(event);
  });
});
