// Reversing a transfer (Connect, M6): `POST /v1/transactions/{id}/reverse` on a sent transfer, with `{ amount? }`.
//
// A reversal is its own transaction: record_type transfer, transaction_type reversal, original_transaction_id the
// transfer, a NEGATIVE amount (the money comes back to the platform, as a refund's does), the transfer's currency,
// connected account and gateway. Exactly once, in the shape of the transfer's send (transfers.ts), without holding a
// database transaction across the call:
//   tx1  lock the transfer; check it is a sent transfer (completed/transferred or partially_reversed with its tr_...);
//        check the amount against what is left: its amount - what was reversed (refunded_amount) - the reversals still
//        in flight (summed by a statement after the lock, so a reversal committed meanwhile counts); insert the
//        reversal already in `process` with its history row and `sent_at`; commit. Two concurrent reverses serialise
//        on the transfer's lock: the second sees the first in flight, so together they never exceed the transfer.
//   call POST /v1/transfers/{tr}/reversals for the amount, with the key `settle-reversal-<reversal id>`, fixed for the
//        reversal transaction, so any resend (the SDK's, StripeClient's, recovery's) gets the reversal made the first
//        time (docs.stripe.com/api/idempotent_requests).
//   tx2  lock the transfer, then the reversal (tx1's order); apply the answer only if the reversal is still at the
//        version tx1 left (a late second resolution is a no-op): succeeded -> the reversal completed/reversed with
//        gateway_transfer trr_..., its balance transaction and net_amount (a transfer_refund balance transaction has
//        no fee), and the transfer's refunded_amount grows by it, with payment_status partially_reversed or reversed
//        (transfer_partially_reversed / transfer_reversed); refused -> the reversal failed with the error fields, the
//        transfer unchanged; no answer -> the reversal stays in `process` with the error, for the recovery of Connect
//        sends (recover-sends.ts), which resends it with the same key and applies the answer with finishReversal.
// A transfer's refunded_amount holds what was reversed of it (migration 0016 bounds it by the transfer's amount).
import { formatAmount, parseAmount } from '../../domain/money.js';
import { NotFoundError, SettleError, StateConflictError, ValidationError } from '../../domain/errors.js';
import { stateLabel, stateOf, type TxState, transition } from '../../domain/transaction-state.js';
import { sumReversalsInFlight } from '../../store/connect-sends-repo.js';
import { findGateway } from '../../store/gateway-records-repo.js';
import type { GatewayRow, NewTransactionRow, TransactionRow } from '../../store/schema.js';
import { compareAndSetTransaction, insertTransaction, lockTransaction } from '../../store/transactions-repo.js';
import { type Deps, type RequestContext, today } from '../deps.js';
import type { Gateway, GatewayOutcome, GatewayTransferReversal } from '../gateway-port.js';
import { newId } from '../ids.js';
import { presentTransaction, type TransactionView } from '../transactions/present.js';
import { transactionDefaults } from '../transactions/create-transaction.js';

export const reversalIdempotencyKey = (reversalId: string): string => `settle-reversal-${reversalId}`;

/** The states a transfer can be reversed from: sent, and not yet wholly reversed. */
const REVERSIBLE: readonly TxState[] = [
  { status: 'completed', payment_status: 'transferred' },
  { status: 'completed', payment_status: 'partially_reversed' },
];

export interface ReverseInput {
  amount?: unknown;
}

/** What can still be reversed of a transfer: its amount - reversed - reversals in flight. Never below 0. */
function reversible(transfer: TransactionRow, inFlight: number): number {
  return Math.max(0, transfer.amount - transfer.refunded_amount - inFlight);
}

/** The adapter of a gateway record, if it can reverse transfers. */
function reverser(deps: Deps, record: GatewayRow): Gateway & Required<Pick<Gateway, 'reverseTransfer'>> {
  const gateway = deps.gateways.forRecord(record);
  if (!gateway.reverseTransfer)
    throw new ValidationError('gateway_not_supported', `Gateway ${record.id} cannot reverse transfers.`);
  return gateway as Gateway & Required<Pick<Gateway, 'reverseTransfer'>>;
}

/** tx1: checks the transfer under its lock and inserts the reversal in `process`; returns what the call needs. */
async function begin(deps: Deps, ctx: RequestContext, id: string, input: ReverseInput) {
  const asked = input.amount === undefined ? undefined : parseAmount(input.amount, 'amount', 'positive');
  return deps.db.transaction().execute(async (trx) => {
    const transfer = await lockTransaction(trx, id);
    if (!transfer) throw new NotFoundError('transaction', id, 'id');
    if (transfer.record_type !== 'transfer' || transfer.transaction_type !== 'normal')
      throw new ValidationError(
        'not_a_transfer',
        `Transaction ${id} is a ${transfer.record_type} ${transfer.transaction_type}; reverse takes a sent transfer.`,
        'id',
      );
    const state = stateOf(transfer);
    if (!REVERSIBLE.some((s) => s.status === state.status && s.payment_status === state.payment_status))
      throw new StateConflictError('reverse', stateLabel(state), REVERSIBLE.map(stateLabel));
    if (transfer.gateway_transfer === null || transfer.gateway_id === null)
      throw new ValidationError(
        'transfer_not_at_gateway',
        `Transfer ${id} has no gateway transfer (tr_...) to reverse; it was recorded, not sent.`,
        'id',
      );
    const record = await findGateway(trx, transfer.gateway_id);
    if (!record) throw new NotFoundError('gateway', transfer.gateway_id, 'gateway_id');
    reverser(deps, record); // refuse before writing anything
    const left = reversible(transfer, await sumReversalsInFlight(trx, id));
    const amount = asked ?? left;
    if (amount <= 0 || amount > left)
      throw new ValidationError(
        'amount_exceeds_reversible',
        `The reversal of ${formatAmount(amount, transfer.currency)} exceeds what can still be reversed on ${id}: ${formatAmount(left, transfer.currency)} (reversals in flight count).`,
        'amount',
      );
    const now = deps.clock.now();
    const row: NewTransactionRow = {
      ...transactionDefaults(newId('transaction', now.getTime()), now),
      record_type: 'transfer',
      transaction_type: 'reversal',
      status: 'process',
      previous_status: 'open',
      amount: -amount,
      currency: transfer.currency,
      account_id: transfer.account_id,
      contact_id: transfer.contact_id,
      gateway_id: transfer.gateway_id,
      original_transaction_id: transfer.id,
      connected_account_id: transfer.connected_account_id,
      transfer_group: transfer.transfer_group,
      source: 'api',
      sent_at: now,
    };
    const reversal = await insertTransaction(trx, row, ctx.actor);
    return { reversal, transfer: transfer.gateway_transfer, gateway: record };
  });
}

/** The call: the reversal as tx1 stored it, with its fixed key (recovery sends exactly the same). */
export function sendReversal(
  gateway: Gateway,
  reversal: TransactionRow,
  transfer: string,
): Promise<GatewayOutcome<GatewayTransferReversal>> {
  if (!gateway.reverseTransfer)
    throw new ValidationError('gateway_not_supported', `Gateway ${reversal.gateway_id} cannot reverse transfers.`);
  return gateway.reverseTransfer({
    idempotencyKey: reversalIdempotencyKey(reversal.id),
    transactionId: reversal.id,
    transfer,
    amount: -reversal.amount,
    currency: reversal.currency,
  });
}

/**
 * tx2: the gateway's answer onto the reversal and, when it succeeded, onto its transfer; applied only if the reversal
 * is still at the version `started` has (else someone resolved it first: the row as it is now is returned).
 */
export async function finishReversal(
  deps: Deps,
  actor: string,
  started: TransactionRow,
  outcome: GatewayOutcome<GatewayTransferReversal>,
): Promise<TransactionRow> {
  const now = deps.clock.now();
  const transferId = started.original_transaction_id;
  if (transferId === null)
    throw new SettleError('internal', 'reversal_without_transfer', 'A reversal names its transfer.');
  return deps.db.transaction().execute(async (trx) => {
    const transfer = await lockTransaction(trx, transferId); // tx1's order: the transfer, then the reversal
    const row = await lockTransaction(trx, started.id);
    if (!row || !transfer || row.version !== started.version) return row ?? started;
    const error = 'error' in outcome ? outcome.error : null;
    if (outcome.kind === 'succeeded') {
      const amount = -row.amount;
      const reversed = transfer.refunded_amount + amount;
      const event = reversed >= transfer.amount ? 'transfer_reversed' : 'transfer_partially_reversed';
      const movedTransfer = await compareAndSetTransaction(
        trx,
        transfer,
        { ...transition(stateOf(transfer), event), refunded_amount: reversed },
        actor,
        'reverse',
      );
      if (!movedTransfer)
        throw new SettleError('conflict', 'unexpected_state', `Transfer ${transfer.id} changed; retry.`);
      const done = await compareAndSetTransaction(
        trx,
        row,
        {
          ...transition(stateOf(row), 'reversal_succeeded'),
          gateway_transfer: outcome.result.id,
          gateway_balance_transaction: outcome.result.balance_transaction,
          // The platform's transfer_refund balance transaction: +amount, no fee (TransferReversals.d.ts).
          net_amount: amount,
          processed_at: now,
          error_code: null,
          error_message: null,
          error_type: null,
        },
        actor,
        'process',
      );
      if (!done) throw new SettleError('conflict', 'unexpected_state', `Reversal ${row.id} changed; retry.`);
      return done;
    }
    const refused =
      outcome.kind === 'invalid_request' || outcome.kind === 'declined' || outcome.kind === 'configuration';
    const changes = refused
      ? {
          ...transition(stateOf(row), 'payment_failed'),
          processed_at: now,
          error_code: error?.code ?? outcome.kind,
          error_message: error?.message ?? null,
          error_type: error?.type ?? null,
        }
      : { error_code: error?.code ?? outcome.kind, error_message: error?.message ?? null };
    return (await compareAndSetTransaction(trx, row, changes, actor, 'process')) ?? row;
  });
}

/**
 * POST /v1/transactions/{id}/reverse: 201 with the reversal as the gateway left it (completed/reversed, or failed with
 * the error fields when the gateway refused it); 202 when the answer is unknown (the reversal stays in `process` until
 * recovery resolves it).
 */
export async function reverseTransfer(
  deps: Deps,
  ctx: RequestContext,
  id: string,
  input: ReverseInput,
): Promise<{ status: number; body: TransactionView }> {
  const started = await begin(deps, ctx, id, input);
  const outcome = await sendReversal(reverser(deps, started.gateway), started.reversal, started.transfer);
  const row = await finishReversal(deps, ctx.actor, started.reversal, outcome);
  return { status: row.status === 'process' ? 202 : 201, body: presentTransaction(row, null, await today(deps)) };
}
