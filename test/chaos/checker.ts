// The crash test's checkers (test/chaos/crash.test.ts): pure functions of snapshots of both sides, so that
// test/chaos/checker.test.ts can try them on hand-made worlds without a database or a process. They say where
// Settle and the emulator disagree, what a kill left in flight, and whether every gateway attempt was resolved
// exactly once whichever side got to it first.
import type Stripe from 'stripe';
import type { GatewayAttemptRow, TransactionRow } from '../../src/store/schema.js';

const METADATA_KEY = 'settle_transaction_id';

/** A request in the emulator's log (GET /_emulator/requests). */
export interface EmulatorRequest {
  at: number;
  method: string;
  path: string;
  idempotencyKey: string | null;
  status: number;
}

/** What `settle recover` printed it did. */
export interface RecoveryReport {
  examined: number;
  applied: number;
  reverted: number;
  needs_review: number;
  still_unknown: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Snapshots and the checker.

export interface EmulatorSnapshot {
  paymentIntents: Stripe.PaymentIntent[];
  refunds: Stripe.Refund[];
}

export type SettleTransaction = Pick<
  TransactionRow,
  | 'id'
  | 'record_type'
  | 'transaction_type'
  | 'status'
  | 'payment_status'
  | 'amount'
  | 'authorized_amount'
  | 'captured_amount'
  | 'refunded_amount'
  | 'original_transaction_id'
  | 'gateway_payment_intent'
  | 'gateway_refund'
  | 'uncaptured_method'
  | 'non_gateway'
>;

export type SettleAttempt = Pick<
  GatewayAttemptRow,
  | 'id'
  | 'transaction_id'
  | 'charge_transaction_id'
  | 'action'
  | 'idempotency_key'
  | 'state'
  | 'last_outcome'
  | 'recovery_tries'
  | 'created_at'
>;

export interface SettleSnapshot {
  transactions: SettleTransaction[];
  attempts: SettleAttempt[];
  /** API Idempotency-Keys left `running` (a gateway call under way, or unanswered after a crash). */
  runningKeys: { key: string }[];
}

const label = (t: SettleTransaction) => (t.payment_status ? `${t.status}/${t.payment_status}` : t.status);
const meta = (o: { metadata: Stripe.Metadata | null }) => o.metadata?.[METADATA_KEY];
const piOf = (r: Stripe.Refund) =>
  typeof r.payment_intent === 'string' ? r.payment_intent : (r.payment_intent?.id ?? null);

function groupBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const list = map.get(k) ?? [];
    list.push(item);
    map.set(k, list);
  }
  return map;
}

/** What a charge's payment_status must be, given its amounts (domain/amounts.ts paymentStatusAfterRefund). */
function capturedStatus(t: SettleTransaction): string {
  if (t.refunded_amount > 0) return t.refunded_amount === t.captured_amount ? 'refunded' : 'partially_refunded';
  return t.captured_amount === t.authorized_amount ? 'captured' : 'partially_captured';
}

/**
 * Every disagreement between Settle and the emulator, as sentences naming the objects (empty: they agree exactly).
 * Strict for this test's workload (pm_card_visa only, gateway charges only): every transaction is in a final,
 * true state, every payment and refund at the gateway is known to Settle exactly once, and the amounts match.
 */
export function checkAgreement(settle: SettleSnapshot, emulator: EmulatorSnapshot): string[] {
  const problems: string[] = [];
  const byId = new Map(settle.transactions.map((t) => [t.id, t]));
  const pis = new Map(emulator.paymentIntents.map((p) => [p.id, p]));

  // Nothing left unresolved.
  for (const a of settle.attempts) {
    if (a.state === 'in_flight' || a.state === 'needs_review') {
      problems.push(
        `attempt ${a.id} (${a.action} of ${a.transaction_id}) is ${a.state} (last outcome ${a.last_outcome ?? 'none'}, ${a.recovery_tries} recovery tries)`,
      );
    }
  }
  for (const key of settle.runningKeys)
    problems.push(`Idempotency-Key ${key.key} is still running: its request was never answered`);
  for (const t of settle.transactions) {
    if (t.status === 'process' || t.status === 'needs_review') problems.push(`transaction ${t.id} is ${label(t)}`);
  }

  // Payments: each known to Settle, once, by the transaction that names it.
  const pisByTx = groupBy(emulator.paymentIntents, meta);
  for (const p of emulator.paymentIntents) {
    const txId = meta(p);
    if (txId === undefined) {
      problems.push(
        `payment ${p.id} (${p.status}, ${p.amount}) has no ${METADATA_KEY}: a payment Settle does not know`,
      );
      continue;
    }
    const t = byId.get(txId);
    if (!t) {
      problems.push(`payment ${p.id} (${p.status}) names transaction ${txId}, which Settle does not have`);
      continue;
    }
    if (t.record_type !== 'charge' || t.transaction_type !== 'normal') {
      problems.push(`payment ${p.id} names ${txId}, a ${t.record_type}/${t.transaction_type}, not a normal charge`);
    }
    if (t.gateway_payment_intent !== p.id) {
      problems.push(
        `payment ${p.id} (${p.status}) names ${txId}, but Settle records ${t.gateway_payment_intent ?? 'no payment intent'} for it (${label(t)})`,
      );
    }
  }
  for (const [txId, list] of pisByTx) {
    if (list.length > 1)
      problems.push(
        `transaction ${txId} was paid ${list.length} times at the gateway: ${list.map((p) => `${p.id} (${p.status})`).join(', ')}`,
      );
  }

  // Refunds: each known to Settle once (or the reversal a partial capture creates by itself).
  const refundsByTx = groupBy(emulator.refunds, meta);
  const reversalsByPi = groupBy(
    emulator.refunds.filter((r) => meta(r) === undefined),
    (r) => piOf(r) ?? undefined,
  );
  for (const r of emulator.refunds) {
    const txId = meta(r);
    const piId = piOf(r);
    if (txId === undefined) {
      const p = piId === null ? undefined : pis.get(piId);
      // Stripe books the release of money never captured as a refund: the rest of a partial capture, or the whole
      // of a canceled authorization (nothing received). Neither is a refund Settle made.
      const reversal =
        p !== undefined &&
        p.status === 'succeeded' &&
        p.amount_received < p.amount &&
        r.amount === p.amount - p.amount_received;
      const release = p !== undefined && p.status === 'canceled' && p.amount_received === 0 && r.amount === p.amount;
      if (!reversal && !release)
        problems.push(
          `refund ${r.id} (${r.amount} on ${piId ?? 'no payment'}) has no ${METADATA_KEY} and is neither a partial-capture reversal nor a released authorization: a refund Settle does not know`,
        );
      continue;
    }
    const t = byId.get(txId);
    if (!t) {
      problems.push(`refund ${r.id} names transaction ${txId}, which Settle does not have`);
      continue;
    }
    const charge = t.original_transaction_id === null ? undefined : byId.get(t.original_transaction_id);
    if (t.transaction_type !== 'refund' || !charge) {
      problems.push(
        `refund ${r.id} names ${txId}, which is not a refund of a known charge (${t.transaction_type}, original ${t.original_transaction_id ?? 'none'})`,
      );
      continue;
    }
    if (charge.gateway_payment_intent !== piId)
      problems.push(
        `refund ${r.id} is on ${piId ?? 'no payment'}, but ${txId} refunds ${charge.id} whose payment is ${charge.gateway_payment_intent ?? 'none'}`,
      );
    const wantState =
      r.status === 'pending' ? 'pending' : r.status === 'succeeded' ? 'completed/refunded' : `(a ${r.status} refund)`;
    if (label(t) !== wantState)
      problems.push(`refund ${r.id} is ${r.status} at the gateway, but ${txId} is ${label(t)} (expected ${wantState})`);
    if (t.amount !== -r.amount) problems.push(`refund ${r.id} is for ${r.amount}, but ${txId} has amount ${t.amount}`);
    if (t.gateway_refund !== r.id)
      problems.push(`refund ${r.id} names ${txId}, but Settle records gateway refund ${t.gateway_refund ?? 'none'}`);
  }
  for (const [txId, list] of refundsByTx) {
    if (list.length > 1)
      problems.push(
        `refund transaction ${txId} was refunded ${list.length} times at the gateway: ${list.map((r) => r.id).join(', ')}`,
      );
  }
  for (const [piId, list] of reversalsByPi) {
    if (list.length > 1)
      problems.push(
        `payment ${piId} has ${list.length} refunds without ${METADATA_KEY}: ${list.map((r) => r.id).join(', ')}`,
      );
  }

  // Each transaction in the state the gateway's records call for.
  const refundTxsByCharge = groupBy(
    settle.transactions.filter((t) => t.transaction_type === 'refund'),
    (t) => t.original_transaction_id ?? undefined,
  );
  for (const t of settle.transactions) {
    if (t.non_gateway) {
      problems.push(`transaction ${t.id} is non_gateway: this test makes none`);
      continue;
    }
    if (t.transaction_type === 'refund') {
      const at = refundsByTx.get(t.id) ?? [];
      if (label(t) === 'failed') {
        if (at.length > 0)
          problems.push(
            `refund transaction ${t.id} is failed, but the gateway holds ${at.map((r) => r.id).join(', ')} for it`,
          );
      } else if (at.length === 0) {
        problems.push(`refund transaction ${t.id} is ${label(t)} (${t.amount}), but the gateway has no refund for it`);
      }
      continue;
    }
    if (t.record_type !== 'charge' || t.transaction_type !== 'normal') {
      problems.push(`transaction ${t.id} is a ${t.record_type}/${t.transaction_type}: this test makes none`);
      continue;
    }
    const own = pisByTx.get(t.id) ?? [];
    const p = t.gateway_payment_intent === null ? undefined : pis.get(t.gateway_payment_intent);
    if (t.gateway_payment_intent !== null && !p) {
      problems.push(
        `transaction ${t.id} (${label(t)}) records payment ${t.gateway_payment_intent}, which the gateway does not have`,
      );
      continue;
    }
    if (!p) {
      if (own.length > 0) continue; // reported above (Settle does not record the payment the gateway holds)
      if (label(t) !== 'open' || t.authorized_amount !== 0 || t.captured_amount !== 0 || t.refunded_amount !== 0) {
        problems.push(
          `transaction ${t.id} has no payment at the gateway, but is ${label(t)} (authorized ${t.authorized_amount}, captured ${t.captured_amount}, refunded ${t.refunded_amount}); expected open`,
        );
      }
      continue;
    }
    const seen = `${p.id} is ${p.status} (amount ${p.amount}, capturable ${p.amount_capturable}, received ${p.amount_received})`;
    const is = `${t.id} is ${label(t)} (amount ${t.amount}, authorized ${t.authorized_amount}, captured ${t.captured_amount}, refunded ${t.refunded_amount})`;
    if (p.amount !== t.amount) problems.push(`${seen} but ${is}: amounts differ`);
    const settleRefunds = emulator.refunds
      .filter((r) => meta(r) !== undefined && piOf(r) === p.id)
      .reduce((sum, r) => sum + r.amount, 0);
    const refundTxs = refundTxsByCharge.get(t.id) ?? [];
    const completedRefunds = refundTxs
      .filter((r) => r.status === 'completed' || r.status === 'pending')
      .reduce((s, r) => s - r.amount, 0);
    switch (p.status) {
      case 'requires_capture':
        if (
          label(t) !== 'completed/authorized' ||
          t.authorized_amount !== p.amount_capturable ||
          t.captured_amount !== 0 ||
          t.refunded_amount !== 0
        ) {
          problems.push(`${seen} but ${is}; expected completed/authorized for ${p.amount_capturable}`);
        }
        break;
      case 'succeeded': {
        const ok =
          t.status === 'completed' &&
          t.payment_status === capturedStatus(t) &&
          t.captured_amount === p.amount_received &&
          t.authorized_amount === p.amount &&
          t.refunded_amount === settleRefunds;
        if (!ok) problems.push(`${seen}, refunds by Settle at the gateway ${settleRefunds}, but ${is}`);
        break;
      }
      case 'canceled':
        if (
          label(t) !== 'completed/uncaptured' ||
          t.uncaptured_method !== 'manual' ||
          t.captured_amount !== 0 ||
          t.refunded_amount !== 0
        ) {
          problems.push(
            `${seen} but ${is} (uncaptured_method ${t.uncaptured_method ?? 'none'}); expected completed/uncaptured (manual)`,
          );
        }
        break;
      case 'processing':
      case 'requires_action':
      case 'requires_confirmation':
      case 'requires_payment_method':
        problems.push(`${seen}: a status this test's workload (pm_card_visa) never produces; Settle has ${is}`);
    }
    if (t.refunded_amount !== completedRefunds)
      problems.push(`${is}, but its completed refund transactions add up to ${completedRefunds}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Classifying the attempts a kill left in flight.

export interface InFlightCensus {
  /** Attempts in flight after the kill. */
  inFlight: number;
  /** ... whose request never reached the gateway (the kill landed after tx1, before the call). */
  notSent: number;
  /** ... that the gateway performed (its records show the effect) but Settle never recorded. */
  performed: number;
  /** ... of those, the gateway had answered before the kill (the kill landed between its answer and tx2). */
  answeredBeforeKill: number;
  /** ... whose synchronous answer was lost and recorded as unknown (202) before the kill. */
  recordedUnknown: number;
  ids: string[];
}

/** Whether the emulator's records show the effect of an attempt. */
function performedAtGateway(a: SettleAttempt, settle: SettleSnapshot, emulator: EmulatorSnapshot): boolean {
  const t = settle.transactions.find((x) => x.id === a.transaction_id);
  switch (a.action) {
    case 'authorize':
    case 'charge':
      return emulator.paymentIntents.some((p) => meta(p) === a.transaction_id);
    case 'capture':
    case 'release': {
      const p = emulator.paymentIntents.find((x) => x.id === t?.gateway_payment_intent);
      return p !== undefined && p.status !== 'requires_capture';
    }
    case 'refund':
      return emulator.refunds.some((r) => meta(r) === a.transaction_id);
  }
}

/**
 * `logAfter`: the emulator's request log once it finished what it was doing; `logAtKill`: read just before the kill
 * (an answer in it was written to Settle's socket before the process died).
 */
export function censusOfInFlight(
  settle: SettleSnapshot,
  emulator: EmulatorSnapshot,
  logAfter: EmulatorRequest[],
  logAtKill: EmulatorRequest[],
): InFlightCensus {
  const inFlight = settle.attempts.filter((a) => a.state === 'in_flight');
  const census: InFlightCensus = {
    inFlight: inFlight.length,
    notSent: 0,
    performed: 0,
    answeredBeforeKill: 0,
    recordedUnknown: 0,
    ids: inFlight.map((a) => a.id),
  };
  for (const a of inFlight) {
    const requests = logAfter.filter((r) => r.idempotencyKey === a.idempotency_key);
    if (requests.length === 0) census.notSent += 1;
    if (a.last_outcome === 'unknown') census.recordedUnknown += 1;
    if (performedAtGateway(a, settle, emulator)) {
      census.performed += 1;
      if (logAtKill.some((r) => r.idempotencyKey === a.idempotency_key && r.status >= 200 && r.status < 300))
        census.answeredBeforeKill += 1;
    }
  }
  return census;
}

// ---------------------------------------------------------------------------------------------------------------
// Who resolved each gateway attempt. Every resolution (tx2, recovery, a webhook's news about the call) is written by
// one compare-and-set on the attempt's transaction with a history row whose action names the attempt; the
// history rows that name it otherwise say the call started, its outcome was still unknown or it went to review.

export interface AttemptResolution {
  /** The transaction_history row. */
  history_id: number;
  attempt_id: string;
  transaction_id: string;
  actor: string;
  action: string;
}

const NOT_A_RESOLUTION = /^(\w+ started|gateway outcome unknown|needs review):/;

/** The resolution a history row records, or null when it records none. */
export function resolutionOf(row: {
  id: number | string;
  transaction_id: string;
  actor: string;
  action: string;
}): AttemptResolution | null {
  const named = /\bgatt_[0-9a-z]+/.exec(row.action);
  if (!named || NOT_A_RESOLUTION.test(row.action)) return null;
  return {
    history_id: Number(row.id),
    attempt_id: named[0],
    transaction_id: row.transaction_id,
    actor: row.actor,
    action: row.action,
  };
}

/** Every attempt resolved at most once, exactly once when it is no longer in flight or in review; none made up. */
export function checkResolutions(
  attempts: readonly SettleAttempt[],
  resolutions: readonly AttemptResolution[],
): string[] {
  const problems: string[] = [];
  const byAttempt = groupBy([...resolutions], (r) => r.attempt_id);
  const known = new Map(attempts.map((a) => [a.id, a]));
  for (const [id, list] of byAttempt) {
    const attempt = known.get(id);
    if (!attempt)
      problems.push(`history resolves attempt ${id}, which does not exist: ${list.map((r) => r.action).join('; ')}`);
    else if (list.some((r) => r.transaction_id !== attempt.transaction_id))
      problems.push(`attempt ${id} of ${attempt.transaction_id} is resolved in another transaction's history`);
  }
  for (const a of attempts) {
    const list = byAttempt.get(a.id) ?? [];
    const unresolved = a.state === 'in_flight' || a.state === 'needs_review';
    const expected = unresolved ? 0 : 1;
    if (list.length !== expected) {
      problems.push(
        `attempt ${a.id} (${a.action} of ${a.transaction_id}, ${a.state}) was resolved ${list.length} times, expected ${expected}: ${list.map((r) => `${r.actor}: ${r.action}`).join('; ') || 'no resolution'}`,
      );
    }
  }
  return problems;
}

export interface RecoveryAccount {
  problems: string[];
  /** Attempts in flight after the kill that something else (the restarted server, from a webhook) resolved first. */
  resolvedElsewhere: number;
}

/**
 * Recovery's report against what happened, whichever side resolved each call first: the attempts in flight after the
 * kill (`inFlightIds`) are all resolved, recovery wrote exactly the resolutions it reports (applied + put back),
 * only of attempts that were in flight, and examined no more than those plus any started since (`before`: the
 * attempts as they were just before recovery ran). The restarted server may apply the gateway's webhook about a
 * call before recovery lists it (recovery examines fewer) or after (recovery finds it resolved and counts nothing).
 */
export function accountForRecovery(input: {
  report: RecoveryReport;
  recoveryActor: string;
  inFlightIds: readonly string[];
  before: readonly SettleAttempt[];
  after: readonly SettleAttempt[];
  /** The resolutions written since recovery started. */
  resolutionsSince: readonly AttemptResolution[];
}): RecoveryAccount {
  const { report, recoveryActor, inFlightIds, before, after, resolutionsSince } = input;
  const problems: string[] = [];
  const beforeIds = new Set(before.map((a) => a.id));
  const startedSince = after.filter((a) => !beforeIds.has(a.id)).map((a) => a.id);
  const mayExamine = new Set([...inFlightIds, ...startedSince]);
  const byRecovery = resolutionsSince.filter((r) => r.actor === recoveryActor);
  if (byRecovery.length !== report.applied + report.reverted) {
    problems.push(
      `recovery reports ${report.applied} applied + ${report.reverted} put back, but wrote ${byRecovery.length} resolutions: ${byRecovery.map((r) => r.action).join('; ')}`,
    );
  }
  for (const r of byRecovery)
    if (!mayExamine.has(r.attempt_id))
      problems.push(`recovery resolved ${r.attempt_id}, which was not in flight: ${r.action}`);
  if (report.examined > mayExamine.size)
    problems.push(`recovery examined ${report.examined} attempts; only ${mayExamine.size} were in flight`);
  if (report.examined < byRecovery.length)
    problems.push(`recovery examined ${report.examined} attempts but resolved ${byRecovery.length}`);
  const state = new Map(after.map((a) => [a.id, a.state]));
  for (const id of inFlightIds) {
    if (state.get(id) === 'in_flight' || state.get(id) === 'needs_review' || !state.has(id))
      problems.push(`attempt ${id}, in flight after the kill, is ${state.get(id) ?? 'gone'} after recovery`);
  }
  const recovered = new Set(byRecovery.map((r) => r.attempt_id));
  return { problems, resolvedElsewhere: inFlightIds.filter((id) => !recovered.has(id)).length };
}
