// Sending a payout (Connect, M6): `POST /v1/transactions/{id}/process` on an open `payout` transaction made on a
// connected account (app/connect/process-send.ts dispatches here), and the `payouts` job.
//
// The payout is the connected account's: Stripe's POST /v1/payouts with the `Stripe-Account` header of the account
// (docs.stripe.com/connect/authentication), paid from that account's balance to its default external account.
// Exactly once, as transfers are sent (transfers.ts), without holding a database transaction across the call:
//   tx1  lock the row; check it is an open payout on a connected account; move it to `process` (begin_processing)
//        with a history row; commit. A second process call, concurrent or later, finds it in `process`: 409.
//   call POST /v1/payouts with the idempotency key `settle-payout-<transaction id>`, fixed for the transaction, and
//        our id in metadata (settle_transaction_id), so that a resend gets the payout made the first time
//        (docs.stripe.com/api/idempotent_requests) and its webhook events find the row (webhooks/sync-payout.ts).
//   tx2  apply the answer: created -> completed/in_transit (payout_sent) with `gateway_payout` (po_...) and its
//        arrival date in `available_on`; refused (invalid request, e.g. the account's balance does not cover it:
//        "Your Stripe balance must cover the payout amount", docs.stripe.com/api/payouts/create) -> failed with the
//        error fields; no answer -> stays in `process` with the error recorded, and the recovery of Connect sends
//        (recover-sends.ts; `payoutResend` below) sends it again with the same key, or sends it to needs_review once
//        Stripe no longer keeps the key (24 hours after `sent_at`).
// Later its payout.paid / payout.failed events move it on (webhooks/sync-payout.ts). Such a payout is
// reconciliation_status `not_applicable`: Stripe cannot list a manual payout's contents (Payouts.d.ts,
// `reconciliation_status`). Its balance transaction is on the connected account's balance, not the platform's, so it
// is not stored in `gateway_balance_transaction` (the balances job compares the platform's balance with the rows that
// carry one; app/balances.ts).
// A payout whose destination is a payment method is refused (payout_destination_not_supported): Stripe pays a
// payout to one of the paying account's own external accounts, which Settle does not record.
import { ValidationError } from '../../domain/errors.js';
import { stateOf, transition } from '../../domain/transaction-state.js';
import { findConnectedAccount } from '../../store/connected-accounts-repo.js';
import { findGateway } from '../../store/gateway-records-repo.js';
import type { GatewayRow, TransactionRow } from '../../store/schema.js';
import { compareAndSetTransaction, lockTransaction } from '../../store/transactions-repo.js';
import { type Deps, type RequestContext, today } from '../deps.js';
import type { Gateway, GatewayOutcome, GatewayPayout } from '../gateway-port.js';
import { recordPayoutReconciliation } from '../payouts/record-reconciliation.js';
import type { DueRule } from '../processing/auto-process.js';
import { presentTransaction, type TransactionView } from '../transactions/present.js';
import type { ConnectResend } from './recover-sends.js';
import { lockForSend, moveToProcess, sendTarget } from './send-steps.js';

export const payoutIdempotencyKey = (transactionId: string): string => `settle-payout-${transactionId}`;

const refuse = (code: string, message: string, param?: string) => new ValidationError(code, message, param);

/** tx1: checks and moves the payout to `process`; returns what the call needs. */
async function begin(deps: Deps, ctx: RequestContext, id: string, rule: DueRule | undefined) {
  return deps.db.transaction().execute(async (trx) => {
    const { row, next } = await lockForSend(trx, id, 'payout', rule, (r) =>
      refuse('not_a_payout', `Transaction ${id} is a ${r.record_type}; this sends payouts.`, 'id'),
    );
    if (row.connected_account_id === null) {
      if (row.payment_method_id !== null)
        throw refuse(
          'payout_destination_not_supported',
          'A payout is sent from a connected account to its own bank account; set connected_account_id (a payout to a payment method cannot be sent).',
          'payment_method_id',
        );
      throw refuse(
        'payout_missing_destination',
        'Set connected_account_id: the payout is made on a connected account, from its balance.',
      );
    }
    const { account, gateway } = await sendTarget(deps, trx, row.connected_account_id, 'createPayout', 'payouts');
    const moved = await moveToProcess(deps, ctx, trx, row, next, gateway.id);
    return { row: moved, gateway, account: account.gateway_account };
  });
}

/** tx2: the gateway's answer onto the row (compare-and-set on the row tx1 left); recovery applies its resend with it. */
export async function finishPayout(
  deps: Deps,
  ctx: RequestContext,
  started: TransactionRow,
  gatewayRow: GatewayRow,
  outcome: GatewayOutcome<GatewayPayout>,
): Promise<TransactionRow> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const row = await lockTransaction(trx, started.id);
    if (!row || row.version !== started.version) return row ?? started; // someone else resolved it
    if (outcome.kind === 'succeeded' || outcome.kind === 'pending') {
      const payout = outcome.result;
      const saved = await compareAndSetTransaction(
        trx,
        row,
        {
          ...transition(stateOf(row), 'payout_sent'),
          gateway_payout: payout.id,
          available_on: payout.arrival_date.toISOString().slice(0, 10),
          processed_at: now,
          error_code: null,
          error_message: null,
          error_type: null,
        },
        ctx.actor,
        'process',
      );
      if (!saved) return row;
      // A manual payout: not_applicable (record-reconciliation.ts), as GET /v1/payouts shows it.
      await recordPayoutReconciliation(trx, { gatewayRow, now }, saved.id, payout);
      return saved;
    }
    const error = 'error' in outcome ? outcome.error : null;
    const changes =
      outcome.kind === 'invalid_request' || outcome.kind === 'declined' || outcome.kind === 'configuration'
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

/** The request, built from the row alone (its fields do not change in `process`), so recovery sends the very same. */
function sendPayout(gateway: Gateway, row: TransactionRow, account: string): Promise<GatewayOutcome<GatewayPayout>> {
  if (!gateway.createPayout) throw new ValidationError('gateway_not_supported', 'The gateway cannot send payouts.');
  return gateway.createPayout({
    idempotencyKey: payoutIdempotencyKey(row.id),
    transactionId: row.id,
    amount: row.amount,
    currency: row.currency,
    account,
    description: row.description,
  });
}

/**
 * POST /v1/transactions/{id}/process for a payout: 200 with the transaction as the gateway left it. With `rule`, the
 * `payouts` job's item (jobs/definitions.ts): a row that is no longer due is NotEligible (skipped).
 */
export async function processPayout(
  deps: Deps,
  ctx: RequestContext,
  id: string,
  rule?: DueRule,
): Promise<{ status: number; body: TransactionView }> {
  const started = await begin(deps, ctx, id, rule);
  const gateway = deps.gateways.forRecord(started.gateway);
  if (!gateway.createPayout) {
    throw new ValidationError('gateway_not_supported', `Gateway ${started.gateway.id} cannot send payouts.`);
  }
  const outcome = await sendPayout(gateway, started.row, started.account);
  const row = await finishPayout(deps, ctx, started.row, started.gateway, outcome);
  return { status: 200, body: presentTransaction(row, null, await today(deps)) };
}

/**
 * Recovery of a payout left in `process` (no answer, or the process died during the call): the recovery of Connect
 * sends (recover-sends.ts, the `recover` job and `settle recover`) resends it with its fixed key while Stripe keeps
 * keys, and applies the answer with finishPayout; the gateway answers with the payout it made the first time, or
 * makes it now, once.
 */
export const payoutResend: ConnectResend = {
  kind: 'payout',
  matches: (row) => row.record_type === 'payout' && row.transaction_type === 'normal',
  async resend(deps, row, actor) {
    const gatewayRow = row.gateway_id === null ? undefined : await findGateway(deps.db, row.gateway_id);
    if (!gatewayRow) throw new Error(`Payout ${row.id} names no gateway (${row.gateway_id ?? 'none'}).`);
    const account =
      row.connected_account_id === null ? undefined : await findConnectedAccount(deps.db, row.connected_account_id);
    if (!account) throw new Error(`Payout ${row.id} has no connected account to send from.`);
    const outcome = await sendPayout(deps.gateways.forRecord(gatewayRow), row, account.gateway_account);
    return finishPayout(deps, { actor }, row, gatewayRow, outcome);
  },
};
