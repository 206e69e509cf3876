// The steps of tx1 that sending a transfer (transfers.ts) and a payout (payouts-send.ts) share: locking the row and
// checking it is an open one of the kind sent (still due, for a job's run), finding the connected account and its gateway, refusing a gateway that cannot make the call before anything moves, and moving the row to
// `process` with the time the send began (recover-sends.ts replays it only within Stripe's idempotency window).
import { NotFoundError, SettleError, ValidationError } from '../../domain/errors.js';
import { stateOf, transition, type TxState } from '../../domain/transaction-state.js';
import { findConnectedAccount } from '../../store/connected-accounts-repo.js';
import { findGateway } from '../../store/gateway-records-repo.js';
import type { Tx, TransactionRow } from '../../store/schema.js';
import { compareAndSetTransaction, lockTransaction } from '../../store/transactions-repo.js';
import type { Deps, RequestContext } from '../deps.js';
import { type DueRule, isDue, NotEligible } from '../processing/auto-process.js';

/**
 * The row locked, and its next state (409 unless open). With `rule` (the `transfers` or `payouts` job): the
 * selection's rule again, under the lock, since the row may have changed since it was selected (NotEligible). A row of
 * another kind is refused with `notSent`.
 */
export async function lockForSend(
  trx: Tx,
  id: string,
  kind: 'transfer' | 'payout',
  rule: DueRule | undefined,
  notSent: (row: TransactionRow) => ValidationError,
): Promise<{ row: TransactionRow; next: TxState }> {
  const row = await lockTransaction(trx, id);
  if (!row) throw new NotFoundError('transaction', id, 'id');
  if (rule !== undefined && (row.status !== 'open' || !row.auto_process || !isDue(row, rule)))
    throw new NotEligible(id, `it is not an open, due, auto-process ${kind} any more`);
  if (row.record_type !== kind || row.transaction_type !== 'normal') throw notSent(row);
  return { row, next: transition(stateOf(row), 'begin_processing') };
}

/** The account and its gateway; 400 gateway_not_supported when the gateway's adapter has no `method`. */
export async function sendTarget(
  deps: Deps,
  trx: Tx,
  accountId: string,
  method: 'createTransfer' | 'createPayout',
  what: string,
) {
  const account = await findConnectedAccount(trx, accountId);
  if (!account) throw new NotFoundError('connected_account', accountId, 'connected_account_id');
  const gateway = await findGateway(trx, account.gateway_id);
  if (!gateway) throw new NotFoundError('gateway', account.gateway_id, 'gateway_id');
  // Before the row moves: a gateway that cannot make the call must not leave it in `process`.
  if (!deps.gateways.forRecord(gateway)[method])
    throw new ValidationError('gateway_not_supported', `Gateway ${gateway.id} cannot send ${what}.`, 'gateway_id');
  return { account, gateway };
}

/** The row (locked by the caller) moved to `process` on `gatewayId`, its send dated; 409 if it changed meanwhile. */
export async function moveToProcess(
  deps: Deps,
  ctx: RequestContext,
  trx: Tx,
  row: TransactionRow,
  next: TxState,
  gatewayId: string,
): Promise<TransactionRow> {
  const moved = await compareAndSetTransaction(
    trx,
    row,
    {
      ...next,
      previous_status: row.status,
      previous_payment_status: row.payment_status,
      gateway_id: gatewayId,
      sent_at: deps.clock.now(),
    },
    ctx.actor,
    'process',
  );
  if (!moved) throw new SettleError('conflict', 'unexpected_state', `Transaction ${row.id} changed meanwhile; retry.`);
  return moved;
}
