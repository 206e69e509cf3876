// The exactly-once driver of every gateway action (P12; no database transaction is held across the gateway call):
//   tx1  lock the row(s), decide through the state machine and the amount rules, record the attempt (with the
//        idempotency key derived from its id) and move the transaction to `process`; commit.
//   call the gateway, outside any database transaction, with that key and our transaction id in metadata.
//   tx2  apply the outcome (apply-outcome.ts) and store the API response in the same commit.
// A crash between the steps leaves an in-flight attempt that recovery resolves (recover.ts). An action on a
// transaction stuck in `process` for longer than the `stuck_after_seconds` setting first runs that recovery.
import { NotFoundError, SettleError, StateConflictError } from '../../domain/errors.js';
import { stateLabel, stateOf, transition } from '../../domain/transaction-state.js';
import { findInFlightAttempt, insertAttemptAlongside } from '../../store/gateway-attempts-repo.js';
import type { Db, GatewayAttemptRow, GatewayRow, TransactionRow } from '../../store/schema.js';
import {
  type ActionPaymentMethod,
  compareAndSetAlongside,
  compareAndSetTransaction,
  creationChanges,
  diffChanges,
  insertTransactionGuarded,
  type LockedForAction,
  loadForAction,
  type TransactionChanges,
} from '../../store/transactions-repo.js';
import type { ActionKey, CommandResult, RunOutcome, StoreResponse } from '../command-runner.js';
import { dateInZone } from '../clock.js';
import { type Deps, findPaymentMethodRef, type PaymentMethodRef, type RequestContext } from '../deps.js';
import type { GatewayError } from '../gateway-port.js';
import { collectGatewayLogs } from '../gateway-log.js';
import { connectRequestFields, gatewayForRequest } from '../connect/direct-charges.js';
import { newId } from '../ids.js';
import { prepareSavedMethod, SavedMethodNeeded } from '../saved-cards.js';
import { presentTransaction, type TransactionView } from '../transactions/present.js';
import { applyAttemptOutcome, type AttemptVerdict, type Resolution, RowMoved } from './apply-outcome.js';
import { type AttemptRequest, type AttemptToSend, type GatewayAction, sendAttempt } from './attempt-call.js';

/** A database transaction (tx1 under the row lock), or the database itself (tx1 without a lock; see runGatewayAction). */
type Trx = Db;

/** What tx1 decided. */
export type Plan =
  /** Finished inside tx1 (a non-gateway transaction, nothing to call): respond with this row. */
  | { kind: 'done'; status: number; transaction: TransactionRow }
  /**
   * Writes that need the row lock (more than one compare-and-set): the locked tx1 runs them and responds; tx1
   * without a lock hands over to the locked one.
   */
  | { kind: 'under_lock'; run: (trx: Trx) => Promise<{ status: number; transaction: TransactionRow }> }
  /**
   * Call the gateway for `transaction` (the row read, or a refund of `charge` to create); the response will carry
   * `responseStatus`.
   */
  | {
      kind: 'call';
      transaction: TransactionRow;
      /** A refund's charge, whose version moves on when the refund starts (what is in flight counts against it). */
      charge: TransactionRow | null;
      /** `transaction` is a new row (a refund the action creates), inserted already started. */
      insert?: boolean;
      action: GatewayAction;
      request: AttemptRequest;
      gateway: GatewayRow;
      revertStatus: GatewayAttemptRow['revert_status'];
      responseStatus: number;
    };

export interface Started {
  attemptId: string;
  gateway: GatewayRow;
  send: AttemptToSend;
  responseStatus: number;
  /** The row and the attempt as tx1 committed them, and a refund's charge as tx1 read it (tx2's fast path starts from them). */
  row: TransactionRow;
  attempt: GatewayAttemptRow;
  charge: TransactionRow | null;
  /** The row's payment method, for the response. */
  paymentMethod: PaymentMethodRef | null;
}

/** The gateway of a locked transaction: its own, else the default one (recorded on the transaction in tx1). */
export function gatewayFor(locked: LockedForAction): GatewayRow {
  if (locked.gateway) return locked.gateway;
  if (locked.row.gateway_id !== null)
    throw new Error(`transaction ${locked.row.id} refers to a missing gateway ${locked.row.gateway_id}`);
  throw new SettleError(
    'invalid_request',
    'no_default_gateway',
    'No gateway is configured as the default; create one with POST /v1/gateways (is_default true).',
  );
}

/** 409 unless the row is in one of `allowed` (labels like 'open', 'completed/authorized'). */
export function requireState(row: TransactionRow, action: string, allowed: readonly string[]): void {
  const current = stateLabel(stateOf(row));
  if (!allowed.includes(current)) {
    const extra = row.status === 'process' ? 'An earlier gateway call for it is still being confirmed.' : undefined;
    throw new StateConflictError(action, current, allowed, extra);
  }
}

/**
 * tx1's write, one statement: the attempt row, and the transaction in `process` with what to go back to and its
 * history row; both or neither. RowMoved when the row is no longer at the version the plan was made from (only
 * possible without the row lock).
 */
export async function recordAttempt(
  deps: Deps,
  trx: Trx,
  plan: Extract<Plan, { kind: 'call' }>,
  key: ActionKey | undefined,
  actor: string,
  paymentMethod: PaymentMethodRef | null,
): Promise<Started> {
  const row = plan.transaction;
  // Connect (M6): a direct charge's calls record the connected account (and the fee) they are sent with.
  const sendRequest: AttemptRequest = {
    ...plan.request,
    ...(await connectRequestFields(trx, row, plan.charge, plan.action)),
  };
  // The adapter is built now (scoped to the connected account, if any), so a gateway without credentials or without
  // Connect fails before anything is recorded.
  gatewayForRequest(deps.gateways.forRecord(plan.gateway), sendRequest);
  const now = deps.clock.now();
  const attemptId = newId('gateway_attempt', now.getTime());
  const idempotencyKey = `settle_${attemptId}`;
  const next = transition(stateOf(row), 'begin_processing');
  const attempt: GatewayAttemptRow = {
    id: attemptId,
    transaction_id: row.id,
    charge_transaction_id: plan.charge?.id ?? null,
    gateway_id: plan.gateway.id,
    action: plan.action,
    idempotency_key: idempotencyKey,
    request: { ...sendRequest },
    state: 'in_flight',
    last_outcome: null,
    error_message: null,
    recovery_tries: 0,
    previous_status: row.status,
    previous_payment_status: row.payment_status,
    revert_status: plan.revertStatus,
    api_key_id: key?.apiKeyId ?? null,
    api_idempotency_key: key?.key ?? null,
    response_status: plan.responseStatus,
    created_at: now,
    updated_at: now,
    resolved_at: null,
  };
  const changes = {
    status: next.status,
    payment_status: next.payment_status,
    previous_status: row.status,
    previous_payment_status: row.payment_status,
    gateway_id: plan.gateway.id,
    error_code: null,
    decline_code: null,
    error_message: null,
    error_type: null,
    advice_code: null,
  } satisfies TransactionChanges;
  const action = `${plan.action} started: ${attemptId}`;
  // Inserted only when the compare-and-set applies (every column from one JSON parameter).
  const insertAttempt = [insertAttemptAlongside(attempt)];
  const { charge } = plan;
  let saved: TransactionRow | undefined;
  let chargeAfter: TransactionRow | null = null;
  if (charge === null) {
    saved = await compareAndSetTransaction(trx, row, changes, actor, action, insertAttempt);
    if (!saved) throw new RowMoved(row.id);
  } else {
    // A refund starts with its charge's version moved on in the same statement, so that another refund decided
    // from the charge as it was (tx1 without a lock) cannot also start: what is in flight counts against it.
    if (plan.insert) {
      const startedRow = { ...row, ...changes, version: row.version + 1, updated_at: now };
      const history = [
        { action: `refund of ${charge.id}`, changes: creationChanges(row) },
        { action, changes: diffChanges(row, changes) },
      ];
      saved = await insertTransactionGuarded(trx, startedRow, history, actor, charge, now, insertAttempt);
    } else {
      const bump = compareAndSetAlongside(charge, {}, actor, action, now);
      saved = await compareAndSetTransaction(
        trx,
        row,
        changes,
        actor,
        action,
        [...bump.writes, ...insertAttempt],
        charge,
      );
    }
    if (!saved) throw new RowMoved(charge.id);
    chargeAfter = { ...charge, version: charge.version + 1, updated_at: now };
  }
  return {
    attemptId,
    gateway: plan.gateway,
    responseStatus: plan.responseStatus,
    send: { action: plan.action, idempotency_key: idempotencyKey, transaction_id: row.id, request: sendRequest },
    row: saved,
    attempt,
    charge: chargeAfter,
    paymentMethod,
  };
}

function thrownAsUnknown(error: unknown): AttemptVerdict {
  const gatewayError: GatewayError = {
    code: null,
    decline_code: null,
    message: `The call failed in an unexpected way: ${error instanceof Error ? error.message : String(error)}`,
    type: null,
    advice_code: null,
    network_decline_code: null,
    param: null,
    http_status: null,
    request_id: null,
  };
  return { kind: 'unknown', error: gatewayError };
}

/** Sends an attempt's request; an adapter that throws (it should classify everything) counts as an unknown outcome. */
export async function callForAttempt(deps: Deps, gateway: GatewayRow, send: AttemptToSend): Promise<AttemptVerdict> {
  try {
    return await sendAttempt(deps.gateways.forRecord(gateway), send);
  } catch (error) {
    return thrownAsUnknown(error);
  }
}

/** The API answer for a resolution: the row's view, 202 while the outcome is unknown. */
export function responseFor(
  resolution: Resolution,
  responseStatus: number,
  day: string,
  paymentMethod: PaymentMethodRef | null,
): CommandResult<TransactionView> {
  const row = resolution.transaction;
  const status =
    resolution.kind === 'unknown' || (resolution.kind === 'already_resolved' && row.status === 'process')
      ? 202
      : responseStatus;
  return { status, body: presentTransaction(row, paymentMethod, day) };
}

/** responseFor, with the row's payment method read (recovery, which has not read it). */
export async function readResponseFor(
  trx: Trx,
  resolution: Resolution,
  responseStatus: number,
  day: string,
): Promise<CommandResult<TransactionView>> {
  const id = resolution.transaction.payment_method_id;
  const pm = id === null ? null : ((await findPaymentMethodRef(trx, id)) ?? null);
  return responseFor(resolution, responseStatus, day, pm);
}

/**
 * The call and tx2 of a started action. Throws the revert error (after committing the revert) when nothing happened.
 * `store` (the request had an Idempotency-Key) stores the response in tx2's commit; without it, tx2 takes the fast
 * path when it can (apply-outcome.ts): one statement, no database transaction.
 */
export async function finishAttempt(
  deps: Deps,
  started: Started,
  store: StoreResponse<TransactionView> | undefined,
  actor: string,
  day: string,
): Promise<CommandResult<TransactionView>> {
  const { value: verdict, records: logs } = await collectGatewayLogs(() =>
    callForAttempt(deps, started.gateway, started.send),
  );
  const answer = (resolution: Resolution): { error: SettleError } | { result: CommandResult<TransactionView> } =>
    resolution.kind === 'reverted' && resolution.error
      ? { error: resolution.error }
      : { result: responseFor(resolution, started.responseStatus, day, started.paymentMethod) };
  let done: { error: SettleError } | { result: CommandResult<TransactionView> } | undefined;
  if (store === undefined) {
    try {
      const known = { row: started.row, attempt: started.attempt, charge: started.charge };
      done = answer(
        await applyAttemptOutcome(deps.db, started.attemptId, verdict, { actor, now: deps.clock.now(), known, logs }),
      );
    } catch (error) {
      if (!(error instanceof RowMoved)) throw error;
    }
  }
  done ??= await deps.db.transaction().execute(async (trx) => {
    const resolution = await applyAttemptOutcome(trx, started.attemptId, verdict, {
      actor,
      now: deps.clock.now(),
      rows: { transactionId: started.row.id, chargeId: started.charge?.id ?? null },
      logs,
    });
    const answered = answer(resolution);
    // An unknown outcome is not an answer: the request's Idempotency-Key stays `running` (a retry with it is told
    // the request is still in progress) until recovery resolves the attempt and stores the final response.
    if ('result' in answered && resolution.kind !== 'unknown' && store) await store(trx, answered.result);
    return answered;
  });
  if ('error' in done) throw done.error;
  return done.result;
}

export type Planner = (trx: Trx, locked: LockedForAction, day: string) => Promise<Plan>;

function paymentMethodRef(pm: ActionPaymentMethod | null): PaymentMethodRef | null {
  if (pm === null) return null;
  const { gateway_token: _token, ...ref } = pm;
  return ref;
}

/** Thrown out of tx1 when the row is stuck in `process`: recovery runs (outside any transaction), then tx1 again. */
class StuckInProcess extends Error {
  constructor(readonly attemptId: string) {
    super(`transaction stuck in process (attempt ${attemptId})`);
  }
}

/** The in-flight attempt of a transaction in `process`, when it started longer than `stuckAfterSeconds` ago. */
async function stuckAttempt(
  trx: Trx,
  transactionId: string,
  stuckAfterSeconds: number,
  now: Date,
): Promise<string | undefined> {
  const attempt = await findInFlightAttempt(trx, transactionId);
  if (!attempt || now.getTime() - new Date(attempt.created_at).getTime() < stuckAfterSeconds * 1000) return undefined;
  return attempt.id;
}

/** How many times tx1 without a lock is tried before the locked tx1 takes over (each try lost a race). */
const LOCK_FREE_TRIES = 3;

/**
 * tx1 without `BEGIN`/`COMMIT`, for a planner that only reads and decides (`lockFree`) and a request without an
 * Idempotency-Key: read the row (no lock; with its refunds in flight, as of the same snapshot, for a refund), plan,
 * then write the attempt and the row in one statement that applies only if the row is still at the version read
 * (recordAttempt; for a refund, the charge, whose version that statement moves on). A lost race reads again; a row
 * in `process` (maybe stuck), a plan that needs the lock, or a run of lost races goes to the locked tx1 (undefined).
 */
async function lockFreeAction(
  deps: Deps,
  ctx: RequestContext,
  id: string,
  plan: Planner,
  day: string,
  refundsInFlight: boolean,
): Promise<RunOutcome<TransactionView> | undefined> {
  for (let tries = 0; tries < LOCK_FREE_TRIES; tries += 1) {
    const found = await loadForAction(deps.db, id, { lock: false, refundsInFlight });
    if (!found) throw new NotFoundError('transaction', id);
    if (found.row.status === 'process') return undefined;
    const decided = await plan(deps.db, found, day);
    const pm = paymentMethodRef(found.paymentMethod);
    if (decided.kind === 'under_lock') return undefined;
    if (decided.kind === 'done')
      return {
        ...responseFor({ kind: 'applied', transaction: decided.transaction, charge: null }, decided.status, day, pm),
        replayed: false,
      };
    let started: Started;
    try {
      started = await recordAttempt(deps, deps.db, decided, undefined, ctx.actor, pm);
    } catch (error) {
      if (error instanceof RowMoved) continue;
      throw error;
    }
    return { ...(await finishAttempt(deps, started, undefined, ctx.actor, day)), replayed: false };
  }
  return undefined;
}

/**
 * Runs one action on transaction `id`: tx1 (`plan` under the row lock), the call and tx2, with the request's
 * Idempotency-Key held `running` in between. A row found stuck in `process` (longer than `stuck_after_seconds`)
 * is recovered first (`recover`), and tx1 then runs once more on what recovery left. `lockFree`: the planner only
 * reads and decides, and its one write (if any) is a compare-and-set, so a request without an Idempotency-Key
 * first tries tx1 without a lock (lockFreeAction); `refundsInFlight`: that read includes the row's refunds in flight.
 */
export async function runGatewayAction(
  deps: Deps,
  ctx: RequestContext,
  id: string,
  plan: Planner,
  recover: (deps: Deps, attemptId: string) => Promise<unknown>,
  options: { lockFree?: boolean; refundsInFlight?: boolean } = {},
): Promise<RunOutcome<TransactionView>> {
  // A payment method that must first be saved to its owner's gateway Customer (saved-cards.ts): tx1 stops, the save
  // runs outside any database transaction (it throws a clear error when it cannot finish), and tx1 runs again.
  for (let saves = 0; ; saves += 1) {
    try {
      return await runGatewayActionOnce(deps, ctx, id, plan, recover, options);
    } catch (error) {
      if (!(error instanceof SavedMethodNeeded)) throw error;
      if (saves >= 2) throw new SettleError('unavailable', 'payment_method_not_saved', error.message);
      await prepareSavedMethod(deps, error.paymentMethodId, error.gateway);
    }
  }
}

async function runGatewayActionOnce(
  deps: Deps,
  ctx: RequestContext,
  id: string,
  plan: Planner,
  recover: (deps: Deps, attemptId: string) => Promise<unknown>,
  options: { lockFree?: boolean; refundsInFlight?: boolean },
): Promise<RunOutcome<TransactionView>> {
  // Settings are read before any transaction: PGlite has one connection, which a transaction holds.
  const settings = await deps.settings.get();
  const day = dateInZone(deps.clock.now(), settings.timezone);
  if (options.lockFree && !ctx.idempotency) {
    const done = await lockFreeAction(deps, ctx, id, plan, day, options.refundsInFlight === true);
    if (done) return done;
  }
  for (let round = 0; ; round += 1) {
    try {
      return await deps.commands.runAction<TransactionView, Started>(
        ctx.idempotency,
        async (trx, key) => {
          const locked = await loadForAction(trx, id);
          if (!locked) throw new NotFoundError('transaction', id);
          if (locked.row.status === 'process' && round === 0) {
            const stuck = await stuckAttempt(trx, id, settings.stuck_after_seconds, deps.clock.now());
            if (stuck) throw new StuckInProcess(stuck);
          }
          const decided = await plan(trx, locked, day);
          const pm = paymentMethodRef(locked.paymentMethod);
          if (decided.kind === 'call')
            return { continuation: await recordAttempt(deps, trx, decided, key, ctx.actor, pm) };
          const finished = decided.kind === 'under_lock' ? await decided.run(trx) : decided;
          return {
            done: responseFor(
              { kind: 'applied', transaction: finished.transaction, charge: null },
              finished.status,
              day,
              pm,
            ),
          };
        },
        (started, store) => finishAttempt(deps, started, store, ctx.actor, day),
      );
    } catch (error) {
      if (!(error instanceof StuckInProcess)) throw error;
      await recover(deps, error.attemptId);
    }
  }
}
