// Recovery of Connect sends left in `process` (M6): a transfer (transfers.ts) or a transfer reversal (reversals.ts)
// whose tx2 never ran (the process died during the call) or whose answer was lost (timeout, dropped connection, server
// error). Unlike the payment actions these sends record no gateway_attempts row: the row itself is the record, and its
// fields do not change while it is in `process`, so the request can be built again exactly as it was sent, and its
// idempotency key is fixed for the row (settle-transfer-<id>, settle-reversal-<id>). So:
//   - a send whose `sent_at` is older than the grace period (CONNECT_SEND_GRACE_MS: its own request has had time to
//     finish) and younger than the gateway's key window (REPLAY_WINDOW_MS, as for payments: Stripe keeps keys 24 hours)
//     is sent again with the same key: the gateway answers with what it did the first time, or does it now, once; the
//     answer is applied by the send's own tx2 (compare-and-set on the row's version, so a late second resolution is a
//     no-op). No answer again: it stays in `process` for the next run.
//   - beyond the window (or a send from before migration 0016, whose start is unknown) a resend could act twice, so the
//     row goes to `needs_review` with the reason.
// Each kind of send is one entry of `connectResends()`: what it matches and how it resends and applies (payouts'
// entry lives with their send, payouts-send.ts). Runs in the `recover` job (jobs/definitions.ts) and `settle recover`.
import { transition, stateOf } from '../../domain/transaction-state.js';
import { findConnectedAccount } from '../../store/connected-accounts-repo.js';
import { listConnectSendsInProcess } from '../../store/connect-sends-repo.js';
import { findGateway } from '../../store/gateway-records-repo.js';
import type { TransactionRow } from '../../store/schema.js';
import { compareAndSetTransaction, findTransaction } from '../../store/transactions-repo.js';
import type { Deps } from '../deps.js';
import { REPLAY_WINDOW_MS } from '../processing/recover.js';
import { payoutResend } from './payouts-send.js';
import { finishReversal, sendReversal } from './reversals.js';
import { finishTransfer, transferIdempotencyKey } from './transfers.js';

/** How long a send's own request has to finish before recovery resends it (its answer may still be on the way). */
export const CONNECT_SEND_GRACE_MS = 60 * 1000;

/** One kind of Connect send: which rows in `process` it owns, and how to send one again and apply the answer. */
export interface ConnectResend {
  kind: string;
  matches(row: TransactionRow): boolean;
  /** Sends the row's request again with its fixed key and applies the answer with the send's tx2; the row after. */
  resend(deps: Deps, row: TransactionRow, actor: string): Promise<TransactionRow>;
}

/** Why a row cannot be resent (a reference gone); it goes to needs_review with this reason. */
class CannotResend extends Error {}

async function gatewayOf(deps: Deps, row: TransactionRow) {
  if (row.gateway_id === null) throw new CannotResend('it names no gateway');
  const record = await findGateway(deps.db, row.gateway_id);
  if (!record) throw new CannotResend(`its gateway ${row.gateway_id} is gone`);
  return { record, gateway: deps.gateways.forRecord(record) };
}

const transferResend: ConnectResend = {
  kind: 'transfer',
  matches: (row) => row.record_type === 'transfer' && row.transaction_type === 'normal',
  async resend(deps, row, actor) {
    const { record, gateway } = await gatewayOf(deps, row);
    if (!gateway.createTransfer) throw new CannotResend(`gateway ${record.id} cannot send transfers`);
    const account =
      row.connected_account_id === null ? undefined : await findConnectedAccount(deps.db, row.connected_account_id);
    if (!account) throw new CannotResend('its connected account is gone');
    // The same request as processTransfer's (transfers.ts): the source charge's ch_... was checked before the first send.
    const source =
      row.source_transaction_id === null ? undefined : await findTransaction(deps.db, row.source_transaction_id);
    const outcome = await gateway.createTransfer({
      idempotencyKey: transferIdempotencyKey(row.id),
      transactionId: row.id,
      amount: row.amount,
      currency: row.currency,
      destination: account.gateway_account,
      sourceCharge: source?.gateway_charge ?? null,
      transferGroup: row.transfer_group,
    });
    return finishTransfer(deps, { actor }, row, outcome);
  },
};

const reversalResend: ConnectResend = {
  kind: 'transfer_reversal',
  matches: (row) => row.record_type === 'transfer' && row.transaction_type === 'reversal',
  async resend(deps, row, actor) {
    const { gateway } = await gatewayOf(deps, row);
    const transfer =
      row.original_transaction_id === null ? undefined : await findTransaction(deps.db, row.original_transaction_id);
    if (!transfer?.gateway_transfer) throw new CannotResend('its transfer has no gateway transfer');
    const outcome = await sendReversal(gateway, row, transfer.gateway_transfer);
    return finishReversal(deps, actor, row, outcome);
  },
};

/** The kinds of Connect send, in the order rows are offered to them: transfers, reversals, payouts. */
export function connectResends(): readonly ConnectResend[] {
  return [transferResend, reversalResend, payoutResend];
}

export interface ConnectRecoveryReport {
  examined: number;
  /** Resolved from the gateway's answer (completed, or failed when it refused). */
  applied: number;
  needs_review: number;
  /** No answer again: still in `process`. */
  still_unknown: number;
  /** No kind of send matches the row: left as it is. */
  unhandled: number;
  errors: { transaction_id: string; message: string }[];
}

/** needs_review with the reason, by compare-and-set on the row as read (a row that moved on is left alone). */
async function toReview(deps: Deps, row: TransactionRow, actor: string, reason: string): Promise<boolean> {
  const moved = await deps.db
    .transaction()
    .execute((trx) =>
      compareAndSetTransaction(
        trx,
        row,
        { ...transition(stateOf(row), 'review_required'), error_code: 'recovery_needs_review', error_message: reason },
        actor,
        'recover',
      ),
    );
  return moved !== undefined;
}

/**
 * Resolves the Connect sends in `process` whose send began at least `graceMs` ago (default CONNECT_SEND_GRACE_MS),
 * oldest first, `limit` at most. Safe to run alongside itself or a live request: every resend carries the row's fixed
 * key, and every tx2 applies once.
 */
export async function recoverConnectSends(
  deps: Deps,
  options: { actor?: string; graceMs?: number; limit?: number } = {},
): Promise<ConnectRecoveryReport> {
  const actor = options.actor ?? 'recovery';
  const now = deps.clock.now();
  const rows = await listConnectSendsInProcess(
    deps.db,
    new Date(now.getTime() - (options.graceMs ?? CONNECT_SEND_GRACE_MS)),
    options.limit ?? 1000,
  );
  const kinds = connectResends();
  const report: ConnectRecoveryReport = {
    examined: rows.length,
    applied: 0,
    needs_review: 0,
    still_unknown: 0,
    unhandled: 0,
    errors: [],
  };
  for (const row of rows) {
    const kind = kinds.find((r) => r.matches(row));
    if (!kind) {
      report.unhandled += 1;
      continue;
    }
    try {
      const sentAt = row.sent_at === null ? null : new Date(row.sent_at);
      if (sentAt === null || now.getTime() - sentAt.getTime() >= REPLAY_WINDOW_MS) {
        const when = sentAt === null ? 'at an unrecorded time' : `at ${sentAt.toISOString()}`;
        const reason = `The ${kind.kind} was sent ${when} and its answer never arrived; the gateway no longer holds its idempotency key, so it is not sent again. Look it up at the gateway (metadata settle_transaction_id = ${row.id}) and resolve it by hand.`;
        if (await toReview(deps, row, actor, reason)) report.needs_review += 1;
        continue;
      }
      let after: TransactionRow;
      try {
        after = await kind.resend(deps, row, actor);
      } catch (error) {
        if (!(error instanceof CannotResend)) throw error;
        if (await toReview(deps, row, actor, `The ${kind.kind} cannot be sent again: ${error.message}.`))
          report.needs_review += 1;
        continue;
      }
      if (after.status === 'process') report.still_unknown += 1;
      else report.applied += 1;
    } catch (error) {
      report.errors.push({ transaction_id: row.id, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}
