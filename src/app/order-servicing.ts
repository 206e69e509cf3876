// Ensure funds and ensure refunds (issue 20, O4): capture an amount across an order's authorizations, refund an
// amount across its captured charges. Each capture or refund is the ordinary exactly-once gateway action (P12: the
// planners of processing/actions.ts, recordAttempt, the call and tx2 of processing/run-action.ts), and the whole
// request is exact under concurrency:
//   tx1  one database transaction takes the order's lock first (lockOrder: every capture, refund and checkout attach
//        of the order waits for it), reads the charges it may use as the requests before it left them, plans, and
//        starts every planned action (each under its row lock from loadForAction, checked again by its planner, and
//        recorded by recordAttempt); commit.
//        A second request on the order waits for the lock and plans from what the first one left: a charge being
//        captured is in `process` and a refund in flight counts against its charge, so nothing is planned twice.
//   then the gateway calls and their outcomes (finishAttempt), a few at a time, outside any database transaction.
// The request's Idempotency-Key is left `running` by tx1 and its response stored once every outcome is known
// (the runner's runAction, as the batch capture uses it). The attempts do not carry the request's key: recovery
// answers an attempt's key with that one transaction's response, and here one request owns several attempts.
// Instead tx1 records which attempts the key started (order_requests, the same commit as the attempts). A process
// that dies after tx1 leaves the key `running`; once the runner lets a retry of that key run again (abandoned, or
// released after a failure), begin finds that record and RESUMES instead of planning: planning again from what is
// left would capture or refund a second time. Resuming recovers each attempt still in flight (recover.ts: replay
// with its gateway key, or ask the gateway) and answers from the attempts and their transactions as they stand, in
// the shape the first run would have answered; no new attempt is made.
import { capturableAmount, refundableAmount } from '../domain/amounts.js';
import { ConflictError, isSettleError, NotFoundError, SettleError, ValidationError } from '../domain/errors.js';
import { formatAmount, parseAmount } from '../domain/money.js';
import { lockOrder } from '../store/orders-repo.js';
import {
  type AttemptWithRows,
  attemptsWithRows,
  findOrderRequest,
  insertOrderRequest,
  type OrderChargeUse,
  type OrderRequest,
  orderChargesFor,
  refundsInFlightOf,
} from '../store/order-servicing-repo.js';
import type { TransactionRow, Tx } from '../store/schema.js';
import { loadForAction } from '../store/transactions-repo.js';
import { dateInZone } from './clock.js';
import type { CommandResult, RunOutcome } from './command-runner.js';
import type { Deps, RequestContext } from './deps.js';
import { type PaymentSummaryView, requireOrder, requireSummary, summaryViews } from './orders.js';
import { capturePlanner, refundPlanner } from './processing/actions.js';
import { type AttemptVerdict, revertError } from './processing/apply-outcome.js';
import { recoverAttempt } from './processing/recover.js';
import { finishAttempt, type Planner, recordAttempt, type Started } from './processing/run-action.js';
import { presentTransaction, type TransactionView } from './transactions/present.js';

/** How many of one request's gateway calls run at once (as the batch capture, within the gateway's rate limit). */
const CONCURRENCY = 4;

/** How one capture or refund of the request ended. */
export type ItemStatus = 'succeeded' | 'pending' | 'failed';

/** One planned action and how it ended: `result` when the gateway answered (or its answer is unknown), else `error`. */
interface ItemOutcome {
  /** The transaction acted on (a capture's charge, the new refund), and a refund's charge (null for a capture). */
  row: TransactionRow;
  charge: TransactionRow | null;
  /** What the action was planned for. */
  amount: number;
  result?: CommandResult<TransactionView>;
  error?: SettleError;
  /** Neither: tx2 failed, the attempt is in flight until recovery resolves it. */
  unresolved?: true;
}

export interface CaptureItem {
  /** The charge captured (an authorization of the order). */
  transaction_id: string;
  payment_method_id: string;
  payment_summary_id: string | null;
  amount: number;
  /** What the gateway released of the authorization (the rest of a partial capture; 0 when captured in full). */
  released_amount: number | null;
  status: ItemStatus;
  /**
   * The HTTP status this capture alone would have answered (202: its outcome is unknown until recovery); null when
   * it ended in `error`, whose own status it is.
   */
  status_code: number | null;
  error: SettleError | null;
}

export interface RefundItem {
  /** The new refund transaction. */
  transaction_id: string;
  charge_transaction_id: string;
  payment_method_id: string;
  payment_summary_id: string | null;
  amount: number;
  status: ItemStatus;
  status_code: number | null;
  error: SettleError | null;
}

export interface EnsureFundsResult {
  order_id: string;
  amount: number;
  captured_amount: number;
  pending_amount: number;
  captures: CaptureItem[];
  payment_summaries: PaymentSummaryView[];
}

export interface EnsureRefundsResult {
  order_id: string;
  amount: number;
  refunded_amount: number;
  pending_amount: number;
  refunds: RefundItem[];
  payment_summaries: PaymentSummaryView[];
}

/** An action chosen by a plan: this charge, for this amount. */
interface Chosen {
  charge: TransactionRow;
  amount: number;
}

/**
 * Ensure funds' choice: every authorization whose whole remaining amount fits in what is still asked, oldest first;
 * then at most one partial capture for the rest, of the oldest authorization left (each left holds more than the
 * rest). Stripe captures a PaymentIntent once and releases what it did not capture, so splitting the rest over
 * several authorizations would release more than needed. `available` was checked first, so the rest always fits.
 */
export function chooseCaptures(
  authorizations: readonly { charge: TransactionRow; capturable: number }[],
  amount: number,
): Chosen[] {
  const chosen: Chosen[] = [];
  const left: { charge: TransactionRow; capturable: number }[] = [];
  let rest = amount;
  for (const a of authorizations) {
    if (a.capturable > 0 && a.capturable <= rest) {
      chosen.push({ charge: a.charge, amount: a.capturable });
      rest -= a.capturable;
    } else if (a.capturable > 0) left.push(a);
  }
  if (rest > 0) {
    const partial = left[0];
    if (!partial) throw new Error('ensure funds: the authorizations do not cover an amount checked against them');
    chosen.push({ charge: partial.charge, amount: rest });
  }
  return chosen;
}

/** Ensure refunds' choice: the captured charges newest first, each for what it can still refund, until none is left. */
export function chooseRefunds(
  charges: readonly { charge: TransactionRow; refundable: number }[],
  amount: number,
): Chosen[] {
  const chosen: Chosen[] = [];
  let rest = amount;
  for (const c of [...charges].reverse()) {
    if (rest === 0) break;
    const part = Math.min(rest, c.refundable);
    if (part > 0) {
      chosen.push({ charge: c.charge, amount: part });
      rest -= part;
    }
  }
  if (rest > 0) throw new Error('ensure refunds: the charges do not cover an amount checked against them');
  return chosen;
}

function parseSummaryId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new ValidationError(
      'invalid_payment_summary_id',
      "'payment_summary_id' must be a payment summary id (ops_...).",
      'payment_summary_id',
    );
  }
  return value;
}

/** tx1 of one planned action: its row lock, its planner's checks, and its attempt recorded (nothing sent yet). */
async function startAction(
  deps: Deps,
  trx: Tx,
  ctx: RequestContext,
  chosen: Chosen,
  plan: Planner,
  day: string,
): Promise<Started> {
  const locked = await loadForAction(trx, chosen.charge.id);
  if (!locked) throw new Error(`transaction ${chosen.charge.id} vanished under its lock`);
  const decided = await plan(trx, locked, day);
  // The charges were chosen as authorized or captured gateway charges, for which the planners always call.
  if (decided.kind !== 'call') throw new Error(`the plan for ${chosen.charge.id} makes no gateway call`);
  // No ActionKey: the request's key is answered once all its actions are (see the top of this file). No payment
  // method for the response: each item reports its amounts, not the transaction's view.
  return recordAttempt(deps, trx, decided, undefined, ctx.actor, null);
}

/**
 * The calls and tx2s of the started actions, a few at a time; what the gateway refused is that item's error. A call
 * whose tx2 failed for another reason (a fault of ours, the database) leaves its attempt in flight, which recovery
 * resolves: the item is reported pending, never failed, and the request is answered, not released, because the
 * other actions have happened and a retry would plan them again.
 */
async function finishAll(
  deps: Deps,
  ctx: RequestContext,
  started: readonly Started[],
  amounts: readonly number[],
  day: string,
): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = new Array(started.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < started.length; i = next++) {
      const s = started[i]!;
      try {
        outcomes[i] = {
          row: s.row,
          charge: s.charge,
          amount: amounts[i]!,
          result: await finishAttempt(deps, s, undefined, ctx.actor, day),
        };
      } catch (error) {
        if (isSettleError(error)) outcomes[i] = { row: s.row, charge: s.charge, amount: amounts[i]!, error };
        else {
          console.error(`order ${s.row.order_id ?? ''}: attempt ${s.attemptId} left in flight for recovery`, error);
          outcomes[i] = { row: s.row, charge: s.charge, amount: amounts[i]!, unresolved: true };
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, started.length) }, worker));
  return outcomes;
}

/** succeeded, pending (the answer is unknown, or the gateway has not finished: a pending refund) or failed. */
function itemStatus(outcome: ItemOutcome): { status: ItemStatus; status_code: number | null } {
  if (outcome.unresolved) return { status: 'pending', status_code: 202 };
  if (outcome.error || !outcome.result) return { status: 'failed', status_code: null };
  const { status, body } = outcome.result;
  if (status === 202 || body.status === 'process' || body.status === 'pending')
    return { status: 'pending', status_code: status };
  if (body.status === 'completed') return { status: 'succeeded', status_code: status };
  return { status: 'failed', status_code: status };
}

/** The error of an item the gateway refused or declined (a decline is an answer: the row holds its error fields). */
function itemError(outcome: ItemOutcome): SettleError | null {
  if (outcome.error) return outcome.error;
  const body = outcome.result?.body;
  if (!body || body.status !== 'failed') return null;
  return new SettleError(
    'invalid_request',
    body.error_code ?? 'gateway_declined',
    body.error_message ?? `The gateway declined the action on ${body.id}.`,
  );
}

function summaryIdOf(summaries: readonly PaymentSummaryView[], paymentMethodId: string): string | null {
  return summaries.find((s) => s.payment_method_id === paymentMethodId)?.id ?? null;
}

/** What tx1 hands to the rest of the request: the actions it started, or an earlier run's to resume. */
type Continuation = { kind: 'run'; started: Started[]; amounts: number[] } | { kind: 'resume'; request: OrderRequest };

/** The verdicts by which the gateway did nothing (apply-outcome.ts reverts, or fails a new refund, on them). */
const REVERT_OUTCOMES: ReadonlySet<string> = new Set(['nothing', 'retryable', 'configuration', 'invalid_request']);

/**
 * The error of an attempt the gateway did nothing for, as the first run reported it (revertError, from what the
 * attempt kept: its last verdict and the gateway's message). An attempt recovery found never sent ('nothing') has
 * no gateway error: it is reported as not performed, nothing moved.
 */
function revertedError(attempt: AttemptWithRows['attempt']): SettleError {
  const message = attempt.error_message ?? 'the gateway did not perform it';
  const kind = attempt.last_outcome;
  if (kind === 'retryable' || kind === 'configuration' || kind === 'invalid_request') {
    const verdict = {
      kind,
      error: {
        code: null,
        decline_code: null,
        message,
        type: null,
        advice_code: null,
        network_decline_code: null,
        param: null,
        http_status: null,
        request_id: null,
      },
    } as AttemptVerdict;
    const error = revertError(verdict);
    if (error) return error;
  }
  return new SettleError(
    'unavailable',
    'not_performed',
    `The gateway did not perform the ${attempt.action} of ${attempt.transaction_id} (${message}); nothing was moved by it.`,
  );
}

/**
 * Resumes a request whose earlier run started these attempts (and died, or failed, before its response was stored):
 * recovers each attempt still in flight, outside any database transaction, then reads each attempt's outcome as the
 * first run would have reported it. Money is never planned here, so nothing is captured or refunded twice.
 */
async function resumeOutcomes(deps: Deps, request: OrderRequest, day: string): Promise<ItemOutcome[]> {
  for (const { attempt } of await attemptsWithRows(deps.db, request.attemptIds)) {
    if (attempt.state === 'in_flight') await recoverAttempt(deps, attempt.id);
  }
  return (await attemptsWithRows(deps.db, request.attemptIds)).map(({ attempt, transaction, charge }, i) => {
    const amount = request.amounts[i]!;
    const base = { row: transaction, charge, amount };
    // Recovery could not tell yet (or it is for a person to check): pending, as a lost answer is in the first run.
    if (attempt.state === 'in_flight' || attempt.state === 'needs_review') return { ...base, unresolved: true };
    if (REVERT_OUTCOMES.has(attempt.last_outcome ?? '')) return { ...base, error: revertedError(attempt) };
    // The gateway answered (succeeded, pending, or a decline kept on the row): the row's view, as tx2 answered it.
    return {
      ...base,
      result: { status: attempt.response_status, body: presentTransaction(transaction, null, day) },
    };
  });
}

/** An earlier run of this key must have been this same request: the runner's hash check says so; asserted here too. */
function requireSameRequest(request: OrderRequest, orderId: string, kind: OrderChargeUse, amount: number): void {
  const asked = request.amounts.reduce((sum, a) => sum + a, 0);
  if (request.orderId !== orderId || request.kind !== kind || asked !== amount) {
    throw new ConflictError(
      'idempotency_key_reused',
      `This Idempotency-Key was already used for a ${request.kind} of ${asked} on order ${request.orderId}; use a new key for a new request.`,
    );
  }
}

/**
 * Runs the request: `plan` is tx1 under the order's lock, `report` shapes the outcomes; Idempotency-Key honoured. With
 * a key, tx1 records the attempts it started (order_requests), and a run of a key that already has them resumes them.
 */
async function runOrderRequest<T, R>(
  deps: Deps,
  ctx: RequestContext,
  orderId: string,
  request: { kind: OrderChargeUse; amount: number },
  plan: (trx: Tx, day: string) => Promise<{ started: Started[]; amounts: number[] }>,
  report: (outcomes: ItemOutcome[], summaries: PaymentSummaryView[]) => R,
  present: (result: R) => T,
): Promise<RunOutcome<T>> {
  // Settings are read before any transaction: PGlite has one connection, which a transaction holds.
  const settings = await deps.settings.get();
  const day = dateInZone(deps.clock.now(), settings.timezone);
  return deps.commands.runAction<T, Continuation>(
    ctx.idempotency,
    async (trx, key) => {
      // Before any planning: an earlier run of this key that started its attempts is resumed, never planned again.
      // Read under the lock of the key's idempotency record (the runner's tx1), so two runs of one key never both
      // get past here to plan.
      const earlier = key ? await findOrderRequest(trx, key) : undefined;
      if (earlier) {
        requireSameRequest(earlier, orderId, request.kind, request.amount);
        return { continuation: { kind: 'resume', request: earlier } };
      }
      const planned = await plan(trx, day);
      if (key) {
        await insertOrderRequest(trx, key, {
          orderId,
          kind: request.kind,
          attemptIds: planned.started.map((s) => s.attemptId),
          amounts: planned.amounts,
        });
      }
      return { continuation: { kind: 'run', ...planned } };
    },
    async (continuation, store) => {
      const outcomes =
        continuation.kind === 'run'
          ? await finishAll(deps, ctx, continuation.started, continuation.amounts, day)
          : await resumeOutcomes(deps, continuation.request, day);
      const summaries = await summaryViews(deps.db, orderId);
      const result = { status: 200, body: present(report(outcomes, summaries)) };
      if (store) await deps.db.transaction().execute((trx) => store(trx, result));
      return result;
    },
  );
}

/**
 * POST /v1/orders/{id}/capture (ensure funds): captures `amount` across the order's authorizations (or one
 * summary's), chosen by chooseCaptures. More than they hold is a 400 amount_exceeds_available, before anything is
 * written or sent.
 */
export async function ensureFunds<T>(
  deps: Deps,
  ctx: RequestContext,
  orderId: string,
  input: { amount?: unknown; payment_summary_id?: unknown },
  present: (result: EnsureFundsResult) => T,
): Promise<RunOutcome<T>> {
  const amount = parseAmount(input.amount, 'amount', 'positive');
  const summaryId = parseSummaryId(input.payment_summary_id);
  return runOrderRequest(
    deps,
    ctx,
    orderId,
    { kind: 'capture', amount },
    async (trx, day) => {
      await lockOrder(trx, orderId);
      const order = await requireOrder(trx, orderId);
      let paymentMethodId: string | undefined;
      if (summaryId !== undefined) {
        const summary = await requireSummary(trx, summaryId).catch((error: unknown) => {
          throw error instanceof NotFoundError
            ? new NotFoundError('payment summary', summaryId, 'payment_summary_id')
            : error;
        });
        if (summary.order_id !== orderId) {
          throw new ValidationError(
            'payment_summary_not_of_order',
            `Payment summary ${summaryId} belongs to order ${summary.order_id}, not ${orderId}.`,
            'payment_summary_id',
          );
        }
        paymentMethodId = summary.payment_method_id;
      }
      const charges = await orderChargesFor(trx, order, 'capture', paymentMethodId);
      const authorizations = charges.map((charge) => ({ charge, capturable: capturableAmount(charge) }));
      const available = authorizations.reduce((sum, a) => sum + a.capturable, 0);
      if (amount > available) {
        const where = summaryId === undefined ? `order ${orderId}` : `payment summary ${summaryId}`;
        throw new ValidationError(
          'amount_exceeds_available',
          `The capture of ${formatAmount(amount, order.currency)} exceeds what the authorizations of ${where} can still capture: ${formatAmount(available, order.currency)}.`,
          'amount',
        );
      }
      const chosen = chooseCaptures(authorizations, amount);
      const started: Started[] = [];
      for (const c of chosen)
        started.push(await startAction(deps, trx, ctx, c, capturePlanner(deps, ctx, { amount: c.amount }), day));
      return { started, amounts: chosen.map((c) => c.amount) };
    },
    (outcomes, summaries) => {
      const captures = outcomes.map((o): CaptureItem => {
        const { status, status_code } = itemStatus(o);
        const row = o.result?.body;
        const paymentMethodId = o.row.payment_method_id!;
        return {
          transaction_id: o.row.id,
          payment_method_id: paymentMethodId,
          payment_summary_id: summaryIdOf(summaries, paymentMethodId),
          amount: o.amount,
          released_amount:
            status === 'succeeded' && row
              ? row.authorized_amount - row.captured_amount
              : status === 'failed'
                ? 0
                : null,
          status,
          status_code,
          error: itemError(o),
        };
      });
      const sum = (s: ItemStatus) => captures.filter((c) => c.status === s).reduce((n, c) => n + c.amount, 0);
      return {
        order_id: orderId,
        amount,
        captured_amount: sum('succeeded'),
        pending_amount: sum('pending'),
        captures,
        payment_summaries: summaries,
      };
    },
    present,
  );
}

/**
 * POST /v1/orders/{id}/refund (ensure refunds): refunds `amount` across the order's captured charges, newest first,
 * each for what it can still refund net of its refunds in flight (chooseRefunds). More than that is a 400
 * amount_exceeds_refundable, before anything is written or sent.
 */
export async function ensureRefunds<T>(
  deps: Deps,
  ctx: RequestContext,
  orderId: string,
  input: { amount?: unknown },
  present: (result: EnsureRefundsResult) => T,
): Promise<RunOutcome<T>> {
  const amount = parseAmount(input.amount, 'amount', 'positive');
  return runOrderRequest(
    deps,
    ctx,
    orderId,
    { kind: 'refund', amount },
    async (trx, day) => {
      await lockOrder(trx, orderId);
      const order = await requireOrder(trx, orderId);
      const charges = await orderChargesFor(trx, order, 'refund');
      const inFlight = await refundsInFlightOf(
        trx,
        charges.map((c) => c.id),
      );
      // A disputed charge is in neither captured state; what a lost dispute took is off retained_amount.
      const refundable = charges.map((charge) => ({
        charge,
        refundable: refundableAmount(charge, inFlight.get(charge.id) ?? 0),
      }));
      const available = refundable.reduce((sum, c) => sum + c.refundable, 0);
      if (amount > available) {
        throw new ValidationError(
          'amount_exceeds_refundable',
          `The refund of ${formatAmount(amount, order.currency)} exceeds what the payments of order ${orderId} can still refund: ${formatAmount(available, order.currency)}.`,
          'amount',
        );
      }
      const chosen = chooseRefunds(refundable, amount);
      const started: Started[] = [];
      for (const c of chosen)
        started.push(await startAction(deps, trx, ctx, c, refundPlanner(deps, ctx, { amount: c.amount }), day));
      return { started, amounts: chosen.map((c) => c.amount) };
    },
    (outcomes, summaries) => {
      const refunds = outcomes.map((o): RefundItem => {
        const paymentMethodId = o.charge?.payment_method_id ?? o.row.payment_method_id!;
        return {
          transaction_id: o.row.id,
          charge_transaction_id: o.row.original_transaction_id!,
          payment_method_id: paymentMethodId,
          payment_summary_id: summaryIdOf(summaries, paymentMethodId),
          amount: o.amount,
          ...itemStatus(o),
          error: itemError(o),
        };
      });
      const sum = (s: ItemStatus) => refunds.filter((r) => r.status === s).reduce((n, r) => n + r.amount, 0);
      return {
        order_id: orderId,
        amount,
        refunded_amount: sum('succeeded'),
        pending_amount: sum('pending'),
        refunds,
        payment_summaries: summaries,
      };
    },
    present,
  );
}
