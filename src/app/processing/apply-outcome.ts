// tx2 of an action (P12): applies a gateway attempt's outcome to the ledger through the state machine. The one
// code path for "the gateway says X happened to this attempt": the synchronous answer, recovery's replay or lookup,
// and (with the webhook issue) events all end here.
//
// Runs inside a database transaction. Locks in the order tx1 used (the charge before its refund), re-reads the
// attempt under the lock and does nothing when it is already resolved, so a late second resolution (a replay
// racing the original answer, recovery racing a slow request) is a no-op, never a double application.
//
// tx2's fast path (`known`): the synchronous answer to a call is applied without a database transaction, from the
// rows as tx1 left them: the attempt's resolution, the row and its history, the refunded charge and its history (a
// refund) and the call's gateway log are one statement, guarded by the rows' versions. Every change to an attempt's state
// also changes its transaction's version (in the same commit), so a row still at tx1's version proves the attempt
// is still in flight. When the version moved on (recovery or another path got there first), nothing is written and
// RowMoved is thrown: the caller runs the locked path, which sees what happened.
import { paymentStatusAfterRefund } from '../../domain/amounts.js';
import { SettleError, ValidationError } from '../../domain/errors.js';
import {
  canTransition,
  stateOf,
  transition,
  type TransactionEvent,
  type TxState,
} from '../../domain/transaction-state.js';
import { attemptTransactions, lockAttempt, resolveAttemptAlongside } from '../../store/gateway-attempts-repo.js';
import type { Db, GatewayAttemptRow, TransactionRow } from '../../store/schema.js';
import {
  type AlongsideWrite,
  compareAndSetAlongside,
  compareAndSetTransaction,
  lockTransaction,
  type RowGuard,
  type TransactionChanges,
} from '../../store/transactions-repo.js';
import { applicationFeeFields, refundedApplicationFee } from '../connect/direct-charges.js';
import { type GatewayLogRecord, gatewayLogsAlongside, insertGatewayLogs } from '../gateway-log.js';
import type { GatewayBalance, GatewayError, GatewayPayment, GatewayRefund } from '../gateway-port.js';
import type { ActionOutcome } from './attempt-call.js';

/** What tx2 was given: an outcome, or recovery's proof that the call never happened. */
export type AttemptVerdict =
  ActionOutcome | { kind: 'nothing'; message: string } | { kind: 'needs_review'; message: string };

export type Resolution =
  | { kind: 'applied'; transaction: TransactionRow; charge: TransactionRow | null }
  | { kind: 'unknown'; transaction: TransactionRow }
  | { kind: 'needs_review'; transaction: TransactionRow }
  /** Nothing happened at the gateway: the transaction is back where it was; `error` says why (null for recovery). */
  | { kind: 'reverted'; transaction: TransactionRow; error: SettleError | null }
  /** Another path resolved the attempt first. */
  | { kind: 'already_resolved'; transaction: TransactionRow; attempt: GatewayAttemptRow };

export const UNKNOWN_OUTCOME_MESSAGE =
  "The gateway's answer did not arrive (timeout, dropped connection or server error). Settle is confirming the outcome with the gateway; the transaction stays in process until it knows.";

export function stateChange(
  row: TransactionRow,
  event: TransactionEvent,
  target?: TxState,
): Pick<TransactionChanges, 'status' | 'payment_status'> {
  const next = transition(stateOf(row), event, target);
  return { status: next.status, payment_status: next.payment_status };
}

const day = (date: Date): string => date.toISOString().slice(0, 10);

/**
 * Fee, net and availability from the charge's (or refund's) balance transaction (M3, M5). After a partial capture
 * Stripe books the full authorized amount and a separate `partial_capture_reversal` for the released part
 * (docs/STRIPE.md, "Capture, release and expiry"), so the charge's own balance transaction overstates what is kept:
 * in the charge's own currency the net is corrected by the released part; across currencies the reversal's
 * converted amount is not known here and the balance transaction's net is kept as the gateway gave it.
 */
export function balanceFields(
  balance: GatewayBalance | null,
  captured?: { amount: number; currency: string },
): TransactionChanges {
  if (!balance) return {};
  const released =
    captured && balance.currency === captured.currency && balance.amount > captured.amount
      ? balance.amount - captured.amount
      : 0;
  return {
    gateway_balance_transaction: balance.id,
    gateway_fee: balance.gateway_fee,
    net_amount: balance.net_amount - released,
    // M4: the balance transaction's currency and gross, as the gateway converted them (Settle never multiplies by
    // the rate). Set whenever a balance transaction is known, equal to `currency` when nothing was converted.
    settlement_currency: balance.currency,
    settlement_amount: balance.amount - released,
    exchange_rate: balance.exchange_rate,
    balance_status: balance.balance_status,
    available_on: day(balance.available_on),
  };
}

/** A refund's balance transaction as its charge counts it: its net, and the fee it gave back (positive). */
export interface RefundMoney {
  net: number;
  feeBack: number;
}

export const refundMoney = (balance: GatewayBalance | null): RefundMoney | null =>
  balance === null ? null : { net: balance.net_amount, feeBack: -balance.gateway_fee };

/**
 * M3: a refund's balance transaction counted on its charge (`sign` 1), or taken back off it when the refund failed
 * after it was counted (`sign` -1: Stripe returns the funds with a `refund_failure` balance transaction). Stripe's
 * refund balance transaction is the refunded amount at the refund's own rate, negative, usually with no fee
 * (docs.stripe.com/api/balance_transactions; the processing fee is not returned), so the charge's
 * `retained_net_amount` falls by the whole refund and can end below zero.
 */
export function refundOnCharge(charge: TransactionRow, money: RefundMoney | null, sign: 1 | -1): TransactionChanges {
  if (money === null) return {};
  return {
    refunds_net_amount: charge.refunds_net_amount + sign * money.net,
    refunded_gateway_fee: charge.refunded_gateway_fee + sign * money.feeBack,
  };
}

function paymentRefs(row: TransactionRow, p: GatewayPayment): TransactionChanges {
  return {
    gateway_payment_intent: p.refs.payment_intent ?? row.gateway_payment_intent,
    gateway_charge: p.refs.charge ?? row.gateway_charge,
    gateway_balance_transaction: p.refs.balance_transaction ?? row.gateway_balance_transaction,
    // L11: the charge's outcome at the network and Stripe's risk level, for successes and declines alike.
    network_status: p.network_status ?? row.network_status,
    risk_level: p.risk_level ?? row.risk_level,
  };
}

export const NO_ERROR: TransactionChanges = {
  error_code: null,
  decline_code: null,
  error_message: null,
  error_type: null,
  advice_code: null,
};

export function errorFields(error: GatewayError): TransactionChanges {
  return {
    error_code: error.code,
    decline_code: error.decline_code,
    error_message: error.message,
    error_type: error.type,
    advice_code: error.advice_code,
  };
}

/** The error a caller gets when the gateway did nothing (the transaction was put back). */
export function revertError(outcome: AttemptVerdict): SettleError | null {
  switch (outcome.kind) {
    case 'retryable':
      return new SettleError(
        'unavailable',
        'gateway_unavailable',
        `The gateway could not take the request now (${outcome.error.message}); nothing was charged or refunded. Try again later.`,
      );
    case 'configuration':
      return new SettleError(
        'unavailable',
        'gateway_configuration_error',
        `The gateway refused Settle's credentials or configuration: ${outcome.error.message}`,
      );
    case 'invalid_request': {
      const param =
        outcome.error.param === 'amount_to_capture' || outcome.error.param === 'amount' ? 'amount' : undefined;
      return new ValidationError(
        outcome.error.code ?? 'gateway_invalid_request',
        `The gateway refused the request: ${outcome.error.message}`,
        param,
      );
    }
    // The gateway did something (or may have): not a revert, no error to give.
    case 'succeeded':
    case 'pending':
    case 'requires_action':
    case 'declined':
    case 'unknown':
    case 'nothing':
    case 'needs_review':
      return null;
  }
}

/** Thrown by the fast path when the row is no longer at tx1's version: nothing was written. */
export class RowMoved extends Error {
  constructor(readonly transactionId: string) {
    super(`transaction ${transactionId} moved on since tx1`);
  }
}

interface Writer {
  db: Db;
  /** The fast path: rows not locked, a lost compare-and-set is RowMoved. */
  fast: boolean;
  /** Gateway log records to commit with the attempt's resolution. */
  logs: readonly GatewayLogRecord[];
}

/**
 * The row's compare-and-set with `alongside` writes in the same statement. Under tx2's locks it cannot lose; on the
 * fast path a lost one is RowMoved (nothing was written).
 */
async function save(
  w: Writer,
  row: TransactionRow,
  changes: TransactionChanges,
  actor: string,
  action: string,
  alongside: readonly AlongsideWrite[] = [],
  guard?: RowGuard,
): Promise<TransactionRow> {
  const saved = await compareAndSetTransaction(w.db, row, changes, actor, action, alongside, guard);
  if (saved) return saved;
  if (w.fast) throw new RowMoved(row.id);
  throw new Error(`transaction ${row.id} changed under its row lock`);
}

/** The attempt's new state, written with its row (only when that row's compare-and-set succeeds), and the call's logs. */
function resolveAttempt(
  w: Writer,
  attempt: GatewayAttemptRow,
  state: GatewayAttemptRow['state'],
  outcome: string,
  message: string | null,
  now: Date,
): AlongsideWrite[] {
  const unresolved = state === 'in_flight' || state === 'needs_review';
  return [
    resolveAttemptAlongside(attempt, state, outcome, message, now, unresolved ? null : now),
    ...(w.logs.length > 0 ? [gatewayLogsAlongside(w.logs)] : []),
  ];
}

export interface ApplyContext {
  actor: string;
  now: Date;
  /** Recovery counts its tries; the synchronous answer does not. */
  recoveryTry?: boolean;
  /** The attempt's rows when the caller knows them (tx2 does, from tx1): saves reading them first. */
  rows?: { transactionId: string; chargeId: string | null };
  /**
   * tx2's fast path: the row and the attempt as tx1 wrote them, and a refund's charge as tx1 read it. `db` is then
   * not a database transaction; see the top of this file.
   */
  known?: { row: TransactionRow; attempt: GatewayAttemptRow; charge: TransactionRow | null };
  /** The call's gateway log records, committed with the resolution (or on their own when there is none). */
  logs?: readonly GatewayLogRecord[];
}

/** The rows of an attempt, locked charge first (the order tx1 and every refund path use), or as tx1 left them. */
async function rowsOf(db: Db, attemptId: string, ctx: ApplyContext) {
  if (ctx.known) {
    const { row, attempt, charge } = ctx.known;
    if ((charge?.id ?? null) !== attempt.charge_transaction_id)
      throw new Error(`attempt ${attempt.id}: the fast path was given the wrong charge`);
    return { charge: charge ?? undefined, row, attempt };
  }
  const peek =
    ctx.rows === undefined
      ? await attemptTransactions(db, attemptId)
      : { transaction_id: ctx.rows.transactionId, charge_transaction_id: ctx.rows.chargeId };
  const charge =
    peek.charge_transaction_id === null ? undefined : await lockTransaction(db, peek.charge_transaction_id);
  const row = await lockTransaction(db, peek.transaction_id);
  if (!row) throw new Error(`gateway attempt ${attemptId} refers to a missing transaction`);
  return { charge, row, attempt: await lockAttempt(db, attemptId) };
}

/**
 * Applies a verdict to an attempt: inside a database transaction (`db` is one), or on the fast path (`ctx.known`),
 * where a row that moved on since tx1 throws RowMoved and nothing is written.
 */
export async function applyAttemptOutcome(
  db: Db,
  attemptId: string,
  verdict: AttemptVerdict,
  ctx: ApplyContext,
): Promise<Resolution> {
  const { charge, row, attempt } = await rowsOf(db, attemptId, ctx);
  const w: Writer = { db, fast: ctx.known !== undefined, logs: ctx.logs ?? [] };
  if (
    attempt.state !== 'in_flight' &&
    !(attempt.state === 'needs_review' && verdict.kind !== 'unknown' && verdict.kind !== 'needs_review')
  ) {
    await insertGatewayLogs(db, w.logs);
    return { kind: 'already_resolved', transaction: row, attempt };
  }
  const what = `${attempt.action} ${attempt.id}`;
  const triesNote = ctx.recoveryTry ? ' (recovery)' : '';

  switch (verdict.kind) {
    case 'unknown': {
      // Still in flight: only what was last heard changes (resolveAttempt keeps the state).
      const alongside = resolveAttempt(w, attempt, attempt.state, 'unknown', verdict.error.message, ctx.now);
      const saved = await save(
        w,
        row,
        { error_message: UNKNOWN_OUTCOME_MESSAGE },
        ctx.actor,
        `gateway outcome unknown: ${what}`,
        alongside,
      );
      return { kind: 'unknown', transaction: saved };
    }
    case 'needs_review': {
      const saved = await save(
        w,
        row,
        { ...stateChange(row, 'review_required'), error_code: 'outcome_unknown', error_message: verdict.message },
        ctx.actor,
        `needs review: ${what}`,
        resolveAttempt(w, attempt, 'needs_review', 'needs_review', verdict.message, ctx.now),
      );
      return { kind: 'needs_review', transaction: saved };
    }
    case 'nothing':
    case 'retryable':
    case 'configuration':
    case 'invalid_request': {
      const error = revertError(verdict);
      const message = verdict.kind === 'nothing' ? verdict.message : verdict.error.message;
      const failed = attempt.revert_status === 'failed';
      const alongside = resolveAttempt(w, attempt, failed ? 'failed' : 'reverted', verdict.kind, message, ctx.now);
      const changes: TransactionChanges = failed
        ? {
            ...stateChange(row, 'payment_failed'),
            error_code: error?.code ?? 'not_performed',
            decline_code: null,
            advice_code: null,
            error_message: error?.message ?? `The gateway did not perform it: ${message}`,
            error_type: verdict.kind === 'invalid_request' ? 'invalid_request_error' : 'api_error',
            processed_at: ctx.now,
          }
        : {
            ...stateChange(row, attempt.revert_status === 'open' ? 'revert_to_open' : 'revert_to_authorized'),
            previous_status: null,
            previous_payment_status: null,
            ...(row.error_message === UNKNOWN_OUTCOME_MESSAGE ? { error_message: null } : {}),
          };
      const saved = await save(
        w,
        row,
        changes,
        ctx.actor,
        `${failed ? 'failed' : 'reverted'}${triesNote}: ${what} (${verdict.kind})`,
        alongside,
      );
      return { kind: 'reverted', transaction: saved, error };
    }
    case 'succeeded':
    case 'pending':
    case 'requires_action':
    case 'declined':
      break;
  }

  if (attempt.action === 'refund') {
    if (!charge) throw new Error(`refund attempt ${attempt.id} has no charge`);
    const refund = verdict.result as GatewayRefund | null;
    return applyRefund(w, { attempt, row, charge, refund, verdict, ctx, what });
  }
  const payment = verdict.result as GatewayPayment | null;
  let changes: TransactionChanges;
  let state: GatewayAttemptRow['state'] = 'succeeded';
  // A decline may come without the payment object but still names the intent and charge it created.
  const refs = payment
    ? paymentRefs(row, payment)
    : verdict.kind === 'declined'
      ? {
          gateway_payment_intent: verdict.refs.payment_intent ?? row.gateway_payment_intent,
          gateway_charge: verdict.refs.charge ?? row.gateway_charge,
        }
      : {};
  switch (verdict.kind) {
    case 'declined':
      if (needsCustomerPresent(attempt, verdict.error)) {
        // S1: an off-session charge the card's issuer wants authenticated. Stripe keeps the PaymentIntent
        // (requires_payment_method) for the customer to confirm on session: waiting for them, not failed.
        changes = { ...stateChange(row, 'action_required'), ...refs, ...errorFields(verdict.error) };
        break;
      }
      state = 'failed';
      changes = {
        ...stateChange(row, 'payment_failed'),
        ...refs,
        ...errorFields(verdict.error),
        processed_at: ctx.now,
      };
      break;
    case 'pending':
      changes = { ...stateChange(row, 'payment_pending'), ...refs, ...NO_ERROR };
      break;
    case 'requires_action':
      changes = {
        ...stateChange(row, 'action_required'),
        ...refs,
        ...NO_ERROR,
        error_message: `The customer must complete an authentication step (${payment?.next_action ?? 'next action'}) before the payment can go through.`,
      };
      break;
    case 'succeeded':
      changes = {
        ...succeededPayment(row, attempt, payment!),
        ...refs,
        ...balanceFields(payment!.balance, { amount: payment!.captured_amount, currency: payment!.currency }),
        // Connect (M6): a direct charge's application fee as the platform holds it (app/connect/direct-charges.ts).
        ...applicationFeeFields(row, payment!.application_fee),
        ...NO_ERROR,
        processed_at: ctx.now,
      };
      break;
  }
  const alongside = resolveAttempt(
    w,
    attempt,
    state,
    verdict.kind,
    verdict.kind === 'declined' ? verdict.error.message : null,
    ctx.now,
  );
  const saved = await save(
    w,
    row,
    { ...changes, previous_status: null, previous_payment_status: null },
    ctx.actor,
    `${attempt.action} ${verdict.kind}${triesNote}: ${attempt.id}`,
    alongside,
  );
  return { kind: 'applied', transaction: saved, charge: null };
}

/**
 * An off-session payment declined with `authentication_required` (docs/STRIPE.md, "Bank debits and authentication":
 * on-session the same card answers requires_action; off-session the issuer's demand for 3-D Secure comes back as
 * this decline code).
 */
function needsCustomerPresent(attempt: GatewayAttemptRow, error: GatewayError): boolean {
  const request = attempt.request as { off_session?: unknown };
  return (
    request.off_session === true &&
    (error.decline_code === 'authentication_required' || error.code === 'authentication_required')
  );
}

/** The state and amounts after a successful authorize, charge, capture or release. */
function succeededPayment(row: TransactionRow, attempt: GatewayAttemptRow, p: GatewayPayment): TransactionChanges {
  if (attempt.action === 'release' || p.status === 'canceled') {
    return { ...stateChange(row, 'release_succeeded'), uncaptured_method: 'manual', authorization_expires_at: null };
  }
  if (p.status === 'requires_capture') {
    return {
      ...stateChange(row, 'authorization_succeeded'),
      authorized_amount: p.authorized_amount,
      captured_amount: 0,
      authorization_expires_at: p.authorization_expires_at,
    };
  }
  // Captured (charge now, or a capture of an authorization, in full or in part).
  const authorized =
    attempt.action === 'capture' ? Math.max(row.authorized_amount, p.captured_amount) : p.captured_amount;
  const partial = p.captured_amount < authorized;
  return {
    ...stateChange(row, partial ? 'partial_capture_succeeded' : 'capture_succeeded'),
    authorized_amount: authorized,
    captured_amount: p.captured_amount,
    authorization_expires_at: null,
  };
}

interface RefundApplication {
  attempt: GatewayAttemptRow;
  row: TransactionRow;
  charge: TransactionRow | undefined;
  refund: GatewayRefund | null;
  verdict: Extract<AttemptVerdict, { kind: 'succeeded' | 'pending' | 'requires_action' | 'declined' }>;
  ctx: ApplyContext;
  what: string;
}

async function applyRefund(w: Writer, a: RefundApplication): Promise<Resolution> {
  const { attempt, row, refund, verdict, ctx } = a;
  const charge = a.charge!;
  const refs: TransactionChanges = {
    gateway_payment_intent: refund?.refs.payment_intent ?? row.gateway_payment_intent,
    gateway_charge: refund?.refs.charge ?? row.gateway_charge,
    gateway_refund: refund?.refs.refund ?? row.gateway_refund,
    ...balanceFields(refund?.balance ?? null),
  };
  if (verdict.kind === 'declined') {
    const saved = await save(
      w,
      row,
      { ...stateChange(row, 'payment_failed'), ...refs, ...errorFields(verdict.error), processed_at: ctx.now },
      ctx.actor,
      `refund declined: ${attempt.id}`,
      resolveAttempt(w, attempt, 'failed', 'declined', verdict.error.message, ctx.now),
    );
    return { kind: 'applied', transaction: saved, charge };
  }
  // Succeeded or pending at the gateway: the money is on its way back, so it leaves the charge now (P5); a refund
  // that fails later gives it back (webhook issue).
  const pending = verdict.kind !== 'succeeded';
  const amount = -row.amount;
  const refunded = charge.refunded_amount + amount;
  const target = paymentStatusAfterRefund({ ...charge, refunded_amount: refunded });
  const chargeTarget: TxState = { status: 'completed', payment_status: target };
  const chargeChanges: TransactionChanges = {
    refunded_amount: refunded,
    ...refundOnCharge(charge, refundMoney(refund?.balance ?? null), 1),
    ...refundedApplicationFee(charge, refund?.application_fee),
  };
  if (canTransition(stateOf(charge), 'refund_applied', chargeTarget))
    Object.assign(chargeChanges, stateChange(charge, 'refund_applied', chargeTarget));
  const chargeAction = `refund ${row.id} applied (${pending ? 'pending' : 'succeeded'})`;
  // Locked: the charge first, as every refund path does. Fast: the charge's change rides along with the refund's,
  // which is guarded by the charge's version, so both apply or neither.
  let savedCharge: TransactionRow;
  let alongCharge: AlongsideWrite[] = [];
  if (w.fast) {
    const along = compareAndSetAlongside(charge, chargeChanges, ctx.actor, chargeAction, ctx.now);
    savedCharge = along.next;
    alongCharge = along.writes;
  } else {
    savedCharge = await save(w, charge, chargeChanges, ctx.actor, chargeAction);
  }
  const saved = await save(
    w,
    row,
    {
      ...stateChange(row, pending ? 'payment_pending' : 'refund_succeeded'),
      ...refs,
      ...NO_ERROR,
      previous_status: null,
      previous_payment_status: null,
      ...(pending ? {} : { processed_at: ctx.now }),
    },
    ctx.actor,
    `refund ${verdict.kind}: ${attempt.id}`,
    [...alongCharge, ...resolveAttempt(w, attempt, 'succeeded', verdict.kind, null, ctx.now)],
    w.fast ? { id: charge.id, version: charge.version } : undefined,
  );
  return { kind: 'applied', transaction: saved, charge: savedCharge };
}
