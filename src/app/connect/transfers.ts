// Sending a transfer (Connect, M6): `POST /v1/transactions/{id}/process` on an open `transfer` transaction.
//
// Exactly once, in the shape of the payment actions (app/processing/run-action.ts), without holding a database
// transaction across the call:
//   tx1  lock the row; check it is an open transfer with a connected account (and, when it names a source charge,
//        that the charge has reached the gateway); move it to `process` (begin_processing) with a history row;
//        commit. A second process call, concurrent or later, finds it in `process` and gets 409: only one caller
//        ever sends.
//   call POST /v1/transfers with the idempotency key `settle-transfer-<transaction id>`, fixed for the transaction,
//        so that any resend of it (the SDK's own retry on a dropped connection, StripeClient's retry of a
//        retryable answer) gets the transfer made the first time (docs.stripe.com/api/idempotent_requests).
//   tx2  apply the answer: succeeded -> completed/transferred with `gateway_transfer` (tr_...) and processed_at;
//        refused (invalid request, e.g. insufficient funds) -> failed with the error fields; no answer (unknown,
//        retryable after the client's retries) -> stays in `process` with the error recorded, for review.
// A transfer left in `process` (a crash between tx1 and tx2, or no answer) is resolved by the recovery of Connect sends
// (app/connect/recover-sends.ts, in the `recover` job and `settle recover`): after a grace period it sends the very same
// request again with the same fixed key while the gateway keeps keys (from `sent_at`, set here in tx1) and applies the
// answer with `finishTransfer` below; later than that, needs_review. docs/ARCHITECTURE.md, "Stripe Connect".
import { ValidationError } from '../../domain/errors.js';
import { stateOf, transition } from '../../domain/transaction-state.js';
import type { TransactionRow } from '../../store/schema.js';
import { compareAndSetTransaction, findTransaction, lockTransaction } from '../../store/transactions-repo.js';
import { type Deps, type RequestContext, today } from '../deps.js';
import type { GatewayOutcome, GatewayTransfer } from '../gateway-port.js';
import type { DueRule } from '../processing/auto-process.js';
import { presentTransaction, type TransactionView } from '../transactions/present.js';
import { lockForSend, moveToProcess, sendTarget } from './send-steps.js';

export const transferIdempotencyKey = (transactionId: string): string => `settle-transfer-${transactionId}`;

const refuse = (code: string, message: string, param?: string) => new ValidationError(code, message, param);

/** tx1: checks and moves the transfer to `process`; returns what the call needs. */
async function begin(deps: Deps, ctx: RequestContext, id: string, rule: DueRule | undefined) {
  return deps.db.transaction().execute(async (trx) => {
    const { row, next } = await lockForSend(trx, id, 'transfer', rule, (r) =>
      refuse('not_a_transfer', `Transaction ${id} is a ${r.record_type}; process sends transfers.`, 'id'),
    );
    if (row.connected_account_id === null)
      throw refuse('transfer_missing_account', 'Set connected_account_id: a transfer goes to a connected account.');
    const { account, gateway } = await sendTarget(deps, trx, row.connected_account_id, 'createTransfer', 'transfers');
    let sourceCharge: string | null = null;
    if (row.source_transaction_id !== null) {
      const source = await findTransaction(trx, row.source_transaction_id);
      if (!source?.gateway_charge)
        throw refuse(
          'source_not_charged',
          `The source charge ${row.source_transaction_id} has no gateway charge yet; capture it first.`,
          'source_transaction_id',
        );
      sourceCharge = source.gateway_charge;
    }
    const moved = await moveToProcess(deps, ctx, trx, row, next, gateway.id);
    return { row: moved, gateway, destination: account.gateway_account, sourceCharge };
  });
}

/** tx2: the gateway's answer onto the row (compare-and-set on the row tx1 left); recovery applies its resend with it. */
export async function finishTransfer(
  deps: Deps,
  ctx: RequestContext,
  started: TransactionRow,
  outcome: GatewayOutcome<GatewayTransfer>,
): Promise<TransactionRow> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const row = await lockTransaction(trx, started.id);
    if (!row || row.version !== started.version) return row ?? started; // someone else resolved it
    const error = 'error' in outcome ? outcome.error : null;
    const changes =
      outcome.kind === 'succeeded'
        ? {
            ...transition(stateOf(row), 'transfer_succeeded'),
            gateway_transfer: outcome.result.id,
            gateway_balance_transaction: outcome.result.balance_transaction,
            processed_at: now,
            error_code: null,
            error_message: null,
            error_type: null,
          }
        : outcome.kind === 'invalid_request' || outcome.kind === 'declined' || outcome.kind === 'configuration'
          ? {
              ...transition(stateOf(row), 'payment_failed'),
              processed_at: now,
              error_code: error?.code ?? outcome.kind,
              error_message: error?.message ?? null,
              error_type: error?.type ?? null,
            }
          : { error_code: error?.code ?? outcome.kind, error_message: error?.message ?? null };
    return (await compareAndSetTransaction(trx, row, changes, ctx.actor, 'process')) ?? row;
  });
}

/**
 * POST /v1/transactions/{id}/process for a transfer: 200 with the transaction as the gateway left it. With `rule`,
 * the `transfers` job's item (jobs/definitions.ts): a row that is no longer due is NotEligible (skipped).
 */
export async function processTransfer(
  deps: Deps,
  ctx: RequestContext,
  id: string,
  rule?: DueRule,
): Promise<{ status: number; body: TransactionView }> {
  const started = await begin(deps, ctx, id, rule);
  const gateway = deps.gateways.forRecord(started.gateway);
  if (!gateway.createTransfer) {
    throw new ValidationError('gateway_not_supported', `Gateway ${started.gateway.id} cannot send transfers.`);
  }
  const outcome = await gateway.createTransfer({
    idempotencyKey: transferIdempotencyKey(id),
    transactionId: id,
    amount: started.row.amount,
    currency: started.row.currency,
    destination: started.destination,
    sourceCharge: started.sourceCharge,
    transferGroup: started.row.transfer_group,
  });
  const row = await finishTransfer(deps, ctx, started.row, outcome);
  return { status: 200, body: presentTransaction(row, null, await today(deps)) };
}
