// Automatic payouts (docs.stripe.com/payouts/reconciliation; Payouts.d.ts). At each UTC midnight the emulator clock
// crosses (and on
// controls.runPayouts()), every currency whose available balance not yet paid out is positive is paid out: a
// Payout (automatic, standard, bank_account) with a `payout` balance transaction of -amount, and every balance
// transaction it pays out is marked with it, so GET /v1/balance_transactions?payout=po_… lists them and the
// payout's own balance transaction, as Stripe does for automatic payouts. Status: pending, then in_transit at
// once (payout.created, payout.updated); at arrival_date (created + 2 days) paid (payout.updated,
// payout.paid), then reconciliation_status completed (payout.reconciliation_completed). reconciliation_status
// is `in_progress` until then (the emulator's reading of Payouts.d.ts: `not_applicable` is for manual
// payouts, whose transactions Stripe cannot list). controls.failNextPayout(code) makes the next payout fail at
// arrival instead: status failed, failure_code, and a failure_balance_transaction (`payout_failure`, +amount,
// reporting_category payout_reversal) returning the money (payout.updated, payout.failed). Payouts.d.ts: the
// failure_balance_transaction "returns the funds from the failed payout back in your balance"; it is available at
// once and belongs to no payout yet, so the next automatic payout pays it out again and lists it under
// GET /v1/balance_transactions?payout= (the failed payout keeps listing what it had paid out, and its own `payout`
// transaction). Payouts are per balance currency: the settlement currency (balance transactions are converted into
// it, balance.ts and fx.ts), plus any currency without a fixed rate. Their balance transactions are not converted.
import { build } from './balance.js';
import { emit, emitUpdated, snapshot } from './events.js';
import { resourceMissing } from './errors.js';
import type { FormObject } from './form.js';
import { checkKnown, optString } from './params.js';
import { rangeFilter } from './range-filter.js';
import { renderList } from './render.js';
import type { EmulatorState } from './state.js';
import type { TimedAction } from './timeline.js';
import type { BalanceTransaction, Payout } from './types.js';

const DAY_S = 24 * 60 * 60;
const ARRIVAL_AFTER_S = 2 * DAY_S;
const FAILURE_MESSAGES: Record<string, string> = {
  account_closed: 'The bank account has been closed.',
  no_account: 'The bank account details on file are probably incorrect.',
  insufficient_funds: 'Your Stripe account has insufficient funds to cover the payout.',
};
const nextFailure = new WeakMap<EmulatorState, string>();

export function failNextPayout(state: EmulatorState, code = 'account_closed'): void {
  nextFailure.set(state, code);
}

export function requirePayout(state: EmulatorState, id: string, param = 'id'): Payout {
  const payout = state.find<Payout>(id, 'payout');
  if (!payout) throw resourceMissing('payout', id, param);
  return payout;
}

function createPayout(state: EmulatorState, currency: string, amount: number, paidOut: BalanceTransaction[]): Payout {
  const created = state.nowSeconds();
  const id = state.newId('po');
  const bt = build(state, {
    amount: -amount,
    currency,
    fee: 0,
    source: id,
    type: 'payout',
    reporting_category: 'payout',
    description: 'STRIPE PAYOUT',
    availableAfterS: 0,
    convert: false,
  });
  const payout: Payout = {
    id,
    object: 'payout',
    amount,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: created + ARRIVAL_AFTER_S,
    automatic: true,
    balance_transaction: bt.id,
    created,
    currency,
    description: 'STRIPE PAYOUT',
    destination: 'ba_emulator',
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: {},
    method: 'standard',
    original_payout: null,
    payout_method: null,
    reconciliation_status: 'in_progress',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: null,
    status: 'pending',
    trace_id: { status: 'pending', value: null },
    type: 'bank_account',
  };
  state.put(payout);
  for (const t of [...paidOut, bt]) state.meta(t.id).payout = id;
  state.meta(id).members = [...paidOut, bt].map((t) => t.id);
  const failWith = nextFailure.get(state);
  if (failWith !== undefined) {
    state.meta(id).failWith = failWith;
    nextFailure.delete(state);
  }
  emit(state, 'payout.created', payout);
  const before = snapshot(state, payout);
  payout.status = 'in_transit';
  emitUpdated(state, 'payout.updated', payout, before);
  return payout;
}

/** Pays out each currency's available balance not yet paid out, if positive. Returns the new payouts. */
export function runPayouts(state: EmulatorState): Payout[] {
  const nowS = state.nowSeconds();
  const unpaid = new Map<string, BalanceTransaction[]>();
  for (const bt of state.all<BalanceTransaction>('balance_transaction')) {
    if (state.internal.get(bt.id)?.payout !== undefined) continue;
    if (bt.status === 'pending' && bt.available_on <= nowS) bt.status = 'available';
    if (bt.status !== 'available') continue;
    // Appended in place: copying the list for each one made a payout of 20,000 balance transactions take 10 s.
    const list = unpaid.get(bt.currency);
    if (list === undefined) unpaid.set(bt.currency, [bt]);
    else list.push(bt);
  }
  const out: Payout[] = [];
  for (const [currency, bts] of unpaid) {
    const amount = bts.reduce((sum, b) => sum + b.net, 0);
    if (amount > 0) out.push(createPayout(state, currency, amount, bts));
  }
  return out;
}

function arrive(state: EmulatorState, payout: Payout): void {
  const failWith = state.internal.get(payout.id)?.failWith;
  const before = snapshot(state, payout);
  if (failWith !== undefined) {
    const bt = build(state, {
      amount: payout.amount,
      currency: payout.currency,
      fee: 0,
      source: payout.id,
      type: 'payout_failure',
      reporting_category: 'payout_reversal',
      description: `Payout failure (${failWith})`,
      availableAfterS: 0,
      convert: false,
    });
    payout.status = 'failed';
    payout.failure_code = failWith;
    payout.failure_message = FAILURE_MESSAGES[failWith] ?? 'The payout failed.';
    payout.failure_balance_transaction = bt.id;
    emitUpdated(state, 'payout.updated', payout, before);
    emit(state, 'payout.failed', payout);
    return;
  }
  payout.status = 'paid';
  payout.trace_id = { status: 'supported', value: `EMU${payout.id.slice(-12).toUpperCase()}` };
  emitUpdated(state, 'payout.updated', payout, before);
  emit(state, 'payout.paid', payout);
  // Only automatic payouts are reconciled (manual ones stay not_applicable: payouts-manual.ts).
  if (payout.automatic !== true) return;
  payout.reconciliation_status = 'completed';
  emit(state, 'payout.reconciliation_completed', payout);
}

/** Timeline source: the next payout to arrive. */
export function nextPayoutArrival(state: EmulatorState): TimedAction | undefined {
  let first: Payout | undefined;
  for (const p of state.all<Payout>('payout')) {
    if (
      (p.status === 'pending' || p.status === 'in_transit') &&
      (first === undefined || p.arrival_date < first.arrival_date)
    )
      first = p;
  }
  return first && { atMs: first.arrival_date * 1000, run: () => arrive(state, first) };
}

/** Timeline source: the automatic payout run at the next UTC midnight. */
export function nextMidnightPayout(state: EmulatorState): TimedAction | undefined {
  if (state.timelineMs === null) return undefined;
  const dayMs = DAY_S * 1000;
  return { atMs: (Math.floor(state.timelineMs / dayMs) + 1) * dayMs, run: () => void runPayouts(state) };
}

export function listPayouts(state: EmulatorState, params: FormObject): Record<string, unknown> {
  checkKnown(params, [
    'status',
    'arrival_date',
    'created',
    'destination',
    'limit',
    'starting_after',
    'ending_before',
    'expand',
  ]);
  const status = optString(params, 'status');
  // destination: "Only return payouts sent to this external account" (PayoutListParams).
  const destination = optString(params, 'destination');
  const arrival = rangeFilter(params, 'arrival_date');
  const created = rangeFilter(params, 'created');
  const payouts = state
    .all<Payout>('payout')
    .filter(
      (p) =>
        (status === undefined || p.status === status) &&
        (destination === undefined || p.destination === destination) &&
        arrival(p.arrival_date) &&
        created(p.created),
    );
  return renderList(state, payouts, '/v1/payouts', params);
}
