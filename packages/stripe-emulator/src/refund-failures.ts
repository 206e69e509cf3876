// Refunds that fail after the fact: refunds of a charge paid with pm_card_refundFail (Stripe's test card
// 4000000000005126, docs.stripe.com/refunds) are `succeeded` at creation and, 1 day later on the emulator clock, become
// `failed` with failure_reason expired_or_canceled_card. The money comes back: a `refund_failure` balance
// transaction (+amount, reporting_category refund_failure, available at once) is the refund's
// failure_balance_transaction, and the charge's amount_refunded goes back down (refunded false). Events:
// refund.updated, refund.failed, charge.refund.updated (its object is the Refund, Events.d.ts), then
// charge.updated for the charge's amount_refunded going back down.
import { build } from './balance.js';
import { testCardOf } from './customers.js';
import { emitJson, emitUpdated, previousAttributes, snapshot } from './events.js';
import { render } from './render.js';
import type { EmulatorState } from './state.js';
import type { TimedAction } from './timeline.js';
import type { Charge, PaymentMethod, Refund } from './types.js';

export const REFUND_FAILS_AFTER_S = 24 * 60 * 60;

export function scheduleRefundFailure(state: EmulatorState, charge: Charge, refund: Refund): void {
  const pm = state.find<PaymentMethod>(charge.payment_method ?? '', 'payment_method');
  const outcome = pm ? testCardOf(state, pm).outcome : undefined;
  if (outcome?.kind === 'success' && outcome.after === 'refund_fail')
    state.meta(refund.id).failAt = refund.created + REFUND_FAILS_AFTER_S;
}

function fail(state: EmulatorState, refund: Refund): void {
  delete state.meta(refund.id).failAt;
  const before = snapshot(state, refund);
  const bt = build(state, {
    amount: refund.amount,
    currency: refund.currency,
    fee: 0,
    source: refund.id,
    type: 'refund_failure',
    reporting_category: 'refund_failure',
    description: 'REFUND FAILURE',
    availableAfterS: 0,
  });
  refund.status = 'failed';
  refund.failure_reason = 'expired_or_canceled_card';
  refund.failure_balance_transaction = bt.id;
  const charge = state.find<Charge>(refund.charge, 'charge');
  const chargeBefore = charge ? snapshot(state, charge) : undefined;
  if (charge) {
    charge.amount_refunded = Math.max(0, charge.amount_refunded - refund.amount);
    charge.refunded = false;
  }
  const after = render(state, refund);
  const previous = previousAttributes(before, after);
  emitJson(state, 'refund.updated', after, previous);
  emitJson(state, 'refund.failed', render(state, refund));
  emitJson(state, 'charge.refund.updated', render(state, refund), previous);
  // The charge's amount_refunded went back down: not a refund (charge.refunded), so charge.updated.
  if (charge && chargeBefore) emitUpdated(state, 'charge.updated', charge, chargeBefore);
}

/** Timeline source: the next refund to fail. */
export function nextRefundFailure(state: EmulatorState): TimedAction | undefined {
  let first: Refund | undefined;
  let at = Infinity;
  for (const refund of state.all<Refund>('refund')) {
    const failAt = state.internal.get(refund.id)?.failAt;
    if (refund.status === 'succeeded' && failAt !== undefined && failAt < at) {
      at = failAt;
      first = refund;
    }
  }
  return first && { atMs: at * 1000, run: () => fail(state, first) };
}
