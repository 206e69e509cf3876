// Payout events (M1, W3): the payout is read again and kept as a `payout` transaction in the state its status calls
// for (pending and in transit -> completed/in_transit; paid; failed; canceled), moved only along the state machine's
// payout edges, so a late event never moves it back. A payout can show paid and fail later (docs/STRIPE.md,
// "Payouts"). A payout Settle sent on a connected account (Connect, M6) is its own row, found by `gateway_payout` or
// the transaction id in its metadata, and moved in_transit -> paid / failed like any other; a connected account's
// other payouts are not recorded.
import { stateLabel, stateOf, type TransactionEvent } from '../../domain/transaction-state.js';
import type { Db, TransactionRow } from '../../store/schema.js';
import {
  compareAndSetTransaction,
  insertTransaction,
  lockTransaction,
  lockTransactionByGatewayRef,
} from '../../store/transactions-repo.js';
import { collectGatewayLogs, insertGatewayLogs } from '../gateway-log.js';
import type { GatewayPayout } from '../gateway-port.js';
import { newId } from '../ids.js';
import { stateChange } from '../processing/apply-outcome.js';
import { transactionDefaults } from '../transactions/create-transaction.js';
import { recordPayoutReconciliation } from '../payouts/record-reconciliation.js';
import { ApplyFailed, Deferred, resultOf, type SyncContext } from './sync-context.js';

function payoutState(p: GatewayPayout): Pick<TransactionRow, 'status' | 'payment_status'> {
  switch (p.status) {
    case 'pending':
    case 'in_transit':
      return { status: 'completed', payment_status: 'in_transit' };
    case 'paid':
      return { status: 'completed', payment_status: 'paid' };
    case 'failed':
      return { status: 'failed', payment_status: null };
    case 'canceled':
      return { status: 'canceled', payment_status: null };
  }
}

const EVENT_FOR: Partial<Record<GatewayPayout['status'], TransactionEvent>> = {
  paid: 'payout_paid',
  failed: 'payout_failed',
  canceled: 'payout_canceled',
};

function failure(p: GatewayPayout) {
  return p.status === 'failed'
    ? {
        error_code: p.failure_code,
        error_message: p.failure_message ?? `The payout failed (${p.failure_code ?? 'no reason given'}).`,
        error_type: 'payout_failure',
      }
    : {};
}

export async function syncPayout(ctx: SyncContext, payoutId: string): Promise<string> {
  const { value: payout, records } = await collectGatewayLogs(async () =>
    resultOf(await ctx.gateway.retrievePayout(payoutId), `payout ${payoutId}`),
  );
  return ctx.deps.db.transaction().execute(async (trx) => {
    await insertGatewayLogs(trx, records);
    return applyPayout(trx, ctx, payout);
  });
}

/**
 * Connect (M6): a payout Settle sent (app/connect/payouts-send.ts) names its transaction in metadata. Its row is found
 * by `gateway_payout` once Settle's call recorded the answer; before that (an event faster than the call's tx2) the
 * row is still being sent, and the event waits for it rather than recording the payout a second time.
 */
async function lockSentPayout(trx: Db, payout: GatewayPayout): Promise<TransactionRow | undefined> {
  if (payout.transaction_id === null || payout.transaction_id === undefined) return undefined;
  const row = await lockTransaction(trx, payout.transaction_id);
  if (!row) return undefined;
  if (row.record_type !== 'payout')
    throw new ApplyFailed(`Payout ${payout.id} names ${row.id}, which is a ${row.record_type}, not a payout.`, false);
  if (row.gateway_payout !== null && row.gateway_payout !== payout.id)
    throw new ApplyFailed(`Payout ${payout.id} names ${row.id}, which holds payout ${row.gateway_payout}.`, false);
  if (row.gateway_payout === null && row.status === 'process')
    throw new Deferred(`${row.id} is still being sent; payout ${payout.id} waits for its answer`);
  if (row.gateway_payout === null)
    throw new ApplyFailed(
      `Payout ${payout.id} names ${row.id}, which is ${row.status} without a gateway payout; resolve it by hand.`,
      false,
    );
  return row;
}

/** Applies a payout as read inside `trx`, without reading the gateway (W3, W6). */
export async function applyPayout(trx: Db, ctx: SyncContext, payout: GatewayPayout): Promise<string> {
  const row =
    (await lockTransactionByGatewayRef(trx, 'gateway_payout', payout.id)) ?? (await lockSentPayout(trx, payout));
  const state = payoutState(payout);
  // Connect (M6): a connected account's own payouts (its automatic ones, or one made in its dashboard) are paid from
  // its balance, not the platform's: recorded as a platform payout they would count in the platform's ledger figures
  // and be reconciled against the platform's balance transactions. Settle keeps only the payouts it sends on them.
  if (!row && ctx.account !== null && ctx.account !== undefined)
    return `payout ${payout.id} of connected account ${ctx.account}: not one Settle sent, not recorded`;
  if (!row) {
    const now = ctx.now;
    const created = await insertTransaction(
      trx,
      {
        ...transactionDefaults(newId('transaction', now.getTime()), now),
        record_type: 'payout',
        ...state,
        amount: payout.amount,
        currency: payout.currency,
        gateway_id: ctx.gatewayRow.id,
        gateway_payout: payout.id,
        gateway_balance_transaction: payout.balance_transaction,
        available_on: payout.arrival_date.toISOString().slice(0, 10),
        source: ctx.source ?? 'webhook',
        description: `${payout.automatic ? 'Automatic payout' : 'Payout'} ${payout.id}`,
        processed_at: state.status === 'completed' && state.payment_status === 'paid' ? now : null,
        ...failure(payout),
      },
      ctx.actor,
      `created from the gateway: payout ${payout.id} ${payout.status}`,
    );
    await recordPayoutReconciliation(trx, ctx, created.id, payout);
    return `${created.id}: payout ${payout.id} recorded (${stateLabel(stateOf(created))})`;
  }
  // Payout reconciliation (M2): Stripe's reconciliation status as read; a completed one makes the payout due.
  await recordPayoutReconciliation(trx, ctx, row.id, payout);
  const from = stateLabel(stateOf(row));
  const to = stateLabel(state);
  const event = EVENT_FOR[payout.status];
  if (from === to || event === undefined) return `${row.id}: payout ${payout.id} already ${from}`;
  let changes;
  try {
    changes = { ...stateChange(row, event), ...failure(payout), processed_at: ctx.now };
  } catch {
    return `${row.id}: payout ${payout.id} is ${from}; the gateway's ${payout.status} is not a move from there (ignored)`;
  }
  const saved = await compareAndSetTransaction(trx, row, changes, ctx.actor, `payout ${payout.status} at the gateway`);
  if (!saved) throw new Error(`transaction ${row.id} changed under its row lock`);
  return `${row.id}: payout ${payout.id} ${from} -> ${stateLabel(stateOf(saved))}`;
}
