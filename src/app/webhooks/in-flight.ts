// An event about a row whose own gateway call is still in flight (or in doubt): the event's news resolves the
// attempt through the same use case as the call's own answer (applyAttemptOutcome), so the call's tx2, when it
// comes, finds the attempt resolved and changes nothing. Only a conclusive reading does that; anything else waits
// for the call (Deferred), and the recovery job settles calls that never come back.
import { lockUnresolvedAttempt } from '../../store/gateway-attempts-repo.js';
import type { Db, Tx, TransactionRow } from '../../store/schema.js';
import type { GatewayPayment } from '../gateway-port.js';
import { applyAttemptOutcome } from '../processing/apply-outcome.js';
import { type ActionOutcome, type GatewayAction, paymentAsOutcome } from '../processing/attempt-call.js';
import { answerRequest } from '../processing/recover.js';
import { ApplyFailed, Deferred, type SyncContext } from './sync-context.js';

/** Whether a payment read shows how `action` ended (not merely where it was before the call took effect). */
export function conclusiveFor(action: GatewayAction, payment: GatewayPayment): ActionOutcome | null {
  const failed = payment.status === 'requires_payment_method' && payment.last_error !== null;
  switch (action) {
    case 'authorize':
      return ['requires_capture', 'requires_action', 'processing', 'canceled'].includes(payment.status) || failed
        ? paymentAsOutcome(action, payment)
        : null;
    case 'charge':
      return ['succeeded', 'requires_action', 'processing', 'canceled'].includes(payment.status) || failed
        ? paymentAsOutcome(action, payment)
        : null;
    case 'capture':
      return payment.status === 'succeeded' || payment.status === 'canceled' ? paymentAsOutcome(action, payment) : null;
    case 'release':
      return payment.status === 'canceled' ? paymentAsOutcome(action, payment) : null;
    case 'refund':
      return null;
  }
}

/** Resolves the row's unresolved attempt with `verdictFor(action)`, or defers when that says nothing conclusive. */
export async function resolveInFlight(
  trx: Db,
  ctx: SyncContext,
  row: TransactionRow,
  chargeId: string | null,
  verdictFor: (action: GatewayAction) => ActionOutcome | null,
): Promise<string> {
  const attempt = await lockUnresolvedAttempt(trx, row.id);
  if (!attempt) throw new ApplyFailed(`${row.id} is in ${row.status} without a gateway attempt to resolve.`, false);
  const verdict = verdictFor(attempt.action);
  if (verdict === null) {
    throw new Deferred(
      `${row.id} is in ${row.status}: Settle's own ${attempt.action} call (${attempt.id}) has not finished; the event is applied after it.`,
    );
  }
  const resolution = await applyAttemptOutcome(trx, attempt.id, verdict, {
    actor: ctx.actor,
    now: ctx.now,
    rows: { transactionId: row.id, chargeId },
  });
  // The request that made the call may have died with it: its Idempotency-Key gets its answer now, as recovery
  // would give it (a live request's own tx2 then finds the attempt resolved and the key answered).
  if (resolution.kind !== 'already_resolved') await answerRequest(trx as Tx, attempt, resolution, ctx.day);
  return `${row.id}: ${attempt.action} ${attempt.id} resolved from the gateway (${resolution.kind})`;
}
