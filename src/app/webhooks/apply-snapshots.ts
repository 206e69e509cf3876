// Events about a payment applied from their own snapshots, without a request (W2; the rule: domain/snapshots.ts).
// The events of one PaymentIntent group (its payment_intent.*, charge.* and refund.* events) are judged in order
// against the rows Settle holds, inside one database transaction:
//   - an event that shows what Settle holds, or something provably older, needs nothing (Settle's own actions make
//     only such events, so they cost no request);
//   - a forward move is applied from the snapshot when the rule allows it and the snapshot carries everything Settle
//     stores for that move: a cancel (status, reason, error), a refund that failed or was canceled, a charge that
//     became disputed (its dispute's own events, read, do the rest). A capture or an authorization made elsewhere
//     is read instead: an event's objects are not expanded, so it carries neither the fees (the balance transaction
//     is an id) nor the capture deadline (the PaymentIntent's charge is an id);
//   - anything else rolls the transaction back and the group is read once, as before (processor.ts).
// A row whose own gateway call is still under way (`process`) waits for the call's answer a few times (Deferred, no
// request): the call's tx2 then leaves the row as the events show it. After that, or for a row in doubt, the group is
// read and resolved through the call's attempt (in-flight.ts), as recovery would.
import { judgeSnapshot, type SnapshotDecision } from '../../domain/snapshots.js';
import { lockUnresolvedAttempt } from '../../store/gateway-attempts-repo.js';
import { appliedCallKeys, lastAppliedSnapshots, recordAppliedSnapshot } from '../../store/gateway-snapshots-repo.js';
import type { Db, TransactionRow, WebhookEventRow } from '../../store/schema.js';
import {
  compareAndSetTransaction,
  lockChargeByPaymentIntent,
  lockTransaction,
  lockTransactionByGatewayRef,
} from '../../store/transactions-repo.js';
import type { GatewaySnapshot } from '../gateway-port.js';
import { Deferred, lockChargeOfPayment, type SyncContext } from './sync-context.js';
import { orderReference, paymentChanges } from './sync-payment.js';
import { syncRefundRow } from './sync-refunds.js';

/** How many times an event waits for Settle's own call before the object is read. */
export const OWN_CALL_WAITS = 3;
const OWN_CALL_WAIT_MS = 500;

/** The group needs a read; the transaction is rolled back. */
class NeedsRead extends Error {}

interface Judged {
  event: WebhookEventRow;
  snap: GatewaySnapshot;
}

/**
 * Waits for the row's own call (no request) while that call has not answered yet, or asks for a read: once the event
 * has waited long enough, when the call answered without an outcome (unknown: it may never be settled by Settle's own
 * answer), or for a row in doubt.
 */
async function inFlight(trx: Db, row: TransactionRow, events: readonly WebhookEventRow[]): Promise<never> {
  const tries = Math.max(...events.map((e) => e.attempts));
  const attempt = row.status === 'process' ? await lockUnresolvedAttempt(trx, row.id) : undefined;
  if (attempt !== undefined && attempt.last_outcome === null && tries <= OWN_CALL_WAITS) {
    throw new Deferred(
      `${row.id} is in process: Settle's own gateway call has not finished; the event is compared with its result`,
      OWN_CALL_WAIT_MS,
    );
  }
  throw new NeedsRead(`${row.id} is ${row.status}`);
}

async function chargeRow(trx: Db, snaps: readonly GatewaySnapshot[], paymentIntentId: string) {
  const named = snaps.find((s) => s.snapshot.object !== 'refund' && s.transaction_id !== null)?.transaction_id ?? null;
  return named !== null ? lockChargeOfPayment(trx, named, null) : lockChargeByPaymentIntent(trx, paymentIntentId);
}

async function refundRow(trx: Db, snap: GatewaySnapshot): Promise<TransactionRow | undefined> {
  if (snap.transaction_id !== null) return lockTransaction(trx, snap.transaction_id);
  return lockTransactionByGatewayRef(trx, 'gateway_refund', snap.object_id);
}

/**
 * Applies the group's events from their snapshots; returns what was done, or null when the payment must be read
 * (nothing was written then). Throws Deferred while Settle's own call for the row is under way.
 */
export async function applyFromSnapshots(
  ctx: SyncContext,
  paymentIntentId: string,
  events: readonly WebhookEventRow[],
): Promise<string | null> {
  const judged: Judged[] = [];
  for (const event of events) {
    const snap = ctx.gateway.parseSnapshot(event.payload);
    if (snap === null) return null;
    judged.push({ event, snap });
  }
  // Within one second (events' `created` has whole seconds), refunds before the charge and the intent: a charge's
  // amount_refunded follows its refunds, so judged first it would look ahead of Settle and ask for a read. The
  // processor orders by time, then by the gateway's event id, which is random; the sort is stable otherwise.
  const rank = (j: Judged): number => (j.snap.snapshot.object === 'refund' ? 0 : 1);
  judged.sort((a, b) => a.snap.created.getTime() - b.snap.created.getTime() || rank(a) - rank(b));
  const snaps = judged.map((j) => j.snap);
  const ownCalls = await appliedCallKeys(
    ctx.deps.db,
    snaps.flatMap((s) => (s.request_key === null ? [] : [s.request_key])),
  );
  const isOwn = (snap: GatewaySnapshot) => snap.request_key !== null && ownCalls.has(snap.request_key);
  // The common case, and one round trip: the snapshots already applied are read only when something is judged.
  if (snaps.every(isOwn)) return `the events of Settle's own calls, whose answers it applied (no read)`;
  const lastApplied = await lastAppliedSnapshots(
    ctx.deps.db,
    ctx.gatewayRow.id,
    snaps.map((s) => s.object_id),
  );
  try {
    return await ctx.deps.db.transaction().execute(async (trx) => {
      let charge = await chargeRow(trx, snaps, paymentIntentId);
      if (!charge) throw new NeedsRead('no charge row');
      if (charge.status === 'process' || charge.status === 'needs_review') await inFlight(trx, charge, events);
      const notes: string[] = [];
      for (const { event, snap } of judged) {
        const target = snap.snapshot.object === 'refund' ? await refundRow(trx, snap) : charge;
        if (target === undefined) {
          // A refund Settle has no row for: one Stripe made to release an authorization (expired, or canceled while
          // nothing was captured) is none of the ledger's (sync-refunds.ts isRelease); any other is read.
          if (snap.refund?.reason === 'expired_uncaptured_charge') continue;
          if (charge.captured_amount === 0 && charge.status === 'completed') continue;
          throw new NeedsRead('a refund Settle has no record of');
        }
        if (target.status === 'process' || target.status === 'needs_review') await inFlight(trx, target, events);
        // Caused by one of Settle's own calls whose answer Settle applied: the event shows what that answer showed,
        // which Settle holds or has moved on from since (its attempt is resolved, so no later call of it is pending).
        if (isOwn(snap)) continue;
        const missing = readForOrders(charge, target, snap);
        if (missing !== null) throw new NeedsRead(missing);
        const decision = judgeSnapshot(target, snap.snapshot, {
          apiVersion: snap.api_version,
          pinnedVersion: snap.pinned_version,
          created: snap.created,
          lastApplied: lastApplied.get(snap.object_id) ?? null,
        });
        const note = await act(trx, ctx, decision, charge, target, snap);
        if (note === null) continue;
        notes.push(note);
        await recordAppliedSnapshot(trx, {
          gatewayId: ctx.gatewayRow.id,
          objectId: snap.object_id,
          created: snap.created,
          eventId: event.event_id,
          now: ctx.now,
        });
        lastApplied.set(snap.object_id, snap.created);
        charge = (await lockTransaction(trx, charge.id)) ?? charge;
      }
      return notes.length > 0
        ? notes.join('; ')
        : `${charge.id}: the events show what Settle holds, or older (applied without a read)`;
    });
  } catch (error) {
    if (error instanceof NeedsRead) return null;
    throw error;
  }
}

/**
 * Issue 20: what the snapshot rule does not compare but a read brings: the balance transaction of a charge captured
 * with automatic_async (charge.updated carries it; an external payment's record on an order is referenced by it), and
 * the order a checkout payment's metadata names for an external charge not on an order yet. Null: nothing missing.
 */
function readForOrders(charge: TransactionRow, target: TransactionRow, snap: GatewaySnapshot): string | null {
  if (target !== charge) return null;
  if (
    snap.snapshot.object === 'charge' &&
    (snap.balance_transaction ?? null) !== null &&
    charge.gateway_balance_transaction === null &&
    charge.captured_amount > 0
  ) {
    return `the charge's balance transaction ${snap.balance_transaction ?? ''} is not in the ledger yet`;
  }
  if (
    snap.payment !== null &&
    charge.processing_mode === 'external' &&
    charge.order_id === null &&
    orderReference(snap.payment) !== null
  ) {
    return 'the payment names an order in its metadata';
  }
  return null;
}

/** Applies one forward move (null: nothing to write for this event). */
async function act(
  trx: Db,
  ctx: SyncContext,
  decision: SnapshotDecision,
  charge: TransactionRow,
  target: TransactionRow,
  snap: GatewaySnapshot,
): Promise<string | null> {
  if (decision.kind === 'same' || decision.kind === 'behind') return null;
  if (decision.kind === 'read') throw new NeedsRead(decision.reason);
  const s = snap.snapshot;
  if (s.object === 'payment_intent' && s.status === 'canceled' && snap.payment !== null) {
    const plan = paymentChanges(charge, snap.payment, ctx.now);
    if (plan === null) throw new NeedsRead('the cancel is no move from the row');
    const saved = await compareAndSetTransaction(trx, charge, plan.changes, ctx.actor, plan.action);
    if (!saved) throw new Error(`transaction ${charge.id} changed under its row lock`);
    return `${charge.id}: ${plan.action} (from the event)`;
  }
  if (s.object === 'charge' && s.disputed && s.captured_amount === charge.captured_amount)
    return `${charge.id}: the charge is disputed; its dispute's events apply it`;
  if (s.object === 'refund' && snap.refund !== null && (s.status === 'failed' || s.status === 'canceled')) {
    const note = await syncRefundRow(trx, ctx, charge, target, snap.refund);
    if (note === null) throw new NeedsRead('the refund failure is no move from the row');
    return `${note} (from the event)`;
  }
  throw new NeedsRead('the event does not carry everything Settle stores for this move');
}
