// The invoice actions (R3, P7): pay, write off, void, and an invoice's transactions. None of them computes a balance:
// each writes a transaction or an allocation (or the invoice's status), and the database's triggers move the sums.
//
// - pay: a gateway charge created with invoice_id (the trigger allocates it in full), then charged at once through
//   the capture action every open charge goes through (processing/actions.ts captureTransaction: the same
//   exactly-once attempt, recovery and 202 when the answer is lost). The amount must fit what is still payable: the
//   balance due less what open or in-flight payments allocated to the invoice will add when they complete. Payments
//   of one invoice are decided one at a time (a transaction-scoped advisory lock on the invoice, taken before
//   anything else and never while holding another lock, so it cannot join a deadlock with the commit-time locks of
//   the totals), so two payments racing for the same balance cannot both be created. A payment that fails before
//   any gateway call leaves nothing; one the gateway refused without charging is canceled and its allocation
//   removed.
// - write-off: a completed non-gateway write_off transaction with invoice_id; the trigger refuses one beyond the
//   balance due (400 write_off_exceeds_balance_due), also when two race.
// - void: one conditional UPDATE (store/invoices-repo.ts voidInvoiceRow), only while nothing is allocated.
import { ConflictError, SettleError, ValidationError } from '../domain/errors.js';
import { parseText } from '../domain/fields.js';
import { formatAmount, parseAmount } from '../domain/money.js';
import { isPaymentMethodUsable, type PaymentMethodLike } from '../domain/to-fix.js';
import { stateOf, transition } from '../domain/transaction-state.js';
import { deleteAllocationsOf, listInvoiceTransactionRows } from '../store/allocations-repo.js';
import { dueAndPending, lockInvoicePayments, voidInvoiceRow } from '../store/invoices-repo.js';
import type { InvoiceRow, TransactionRow, Tx } from '../store/schema.js';
import {
  compareAndSetTransaction,
  deleteTransactionRow,
  insertTransaction,
  lockTransaction,
} from '../store/transactions-repo.js';
import type { CommandResult } from './command-runner.js';
import { type Deps, type RequestContext, today } from './deps.js';
import { type InvoiceView, presentInvoice, requireInvoice } from './invoices.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';
import { captureTransaction } from './processing/actions.js';
import { buildNewTransaction } from './transactions/create-transaction.js';
import { touchedGateway } from './transactions/delete-transaction.js';
import { presentTransaction, type TransactionView } from './transactions/present.js';

/** Money can be added to an open invoice only: a void one is final, a draft one is not issued yet. */
export function requireOpenInvoice(invoice: InvoiceRow, action: string): void {
  if (invoice.status === 'void') {
    throw new ConflictError('invoice_void', `Invoice ${invoice.id} is void; nothing can be ${action} against it.`);
  }
  if (invoice.status === 'draft') {
    throw new ConflictError(
      'invoice_not_open',
      `Invoice ${invoice.id} is a draft; set its status to open before anything is ${action} against it.`,
    );
  }
}

/** What can still be paid: the balance due less what open or in-flight payments will add. */
async function payable(trx: Tx, invoice: InvoiceRow): Promise<{ payable: number; pending: number; due: number }> {
  const { balanceDue, pending } = await dueAndPending(trx, invoice.id);
  return { payable: balanceDue - pending, pending, due: balanceDue };
}

function exceedsPayable(invoice: InvoiceRow, amount: number, due: { payable: number; pending: number; due: number }) {
  const money = (n: number) => formatAmount(n, invoice.currency);
  const inFlight =
    due.pending > 0
      ? ` (balance due ${money(due.due)}, of which ${money(due.pending)} is being paid by open or in-flight payments)`
      : '';
  if (due.payable <= 0) {
    return new ValidationError(
      'invoice_nothing_due',
      `Invoice ${invoice.id} has nothing left to pay: ${money(due.payable)} due${inFlight}.`,
      'amount',
    );
  }
  return new ValidationError(
    'amount_exceeds_balance_due',
    `The payment of ${money(amount)} exceeds what invoice ${invoice.id} still has due: ${money(due.payable)}${inFlight}.`,
    'amount',
  );
}

export interface PayInvoiceInput {
  payment_method_id?: string;
  amount?: unknown;
}

/**
 * POST /v1/invoices/{id}/pay. The route runs it under the request's Idempotency-Key (http/keyed-work.ts), so it
 * uses none itself. 201 with the charge (completed, or failed with the decline), 202 when the gateway's answer was
 * lost (recovery finishes it).
 */
export async function payInvoice(
  deps: Deps,
  ctx: RequestContext,
  id: string,
  input: PayInvoiceInput,
): Promise<CommandResult<TransactionView>> {
  if (typeof input.payment_method_id !== 'string') {
    throw new ValidationError(
      'parameter_missing',
      'payment_method_id is required: the method to charge.',
      'payment_method_id',
    );
  }
  const wanted = input.amount === undefined ? undefined : parseAmount(input.amount, 'amount', 'positive');
  const day = await today(deps);
  const actor = { actor: ctx.actor };
  const created = await deps.commands.run<TransactionRow>(undefined, async (trx) => {
    // Payments of one invoice are decided one at a time: each sees the others' charges (open, in flight or done).
    await lockInvoicePayments(trx, id);
    const invoice = await requireInvoice(trx, id);
    requireOpenInvoice(invoice, 'paid');
    const before = await payable(trx, invoice);
    const amount = wanted ?? before.payable;
    if (amount <= 0 || amount > before.payable) throw exceedsPayable(invoice, amount, before);
    const { row, paymentMethod } = await buildNewTransaction(deps, trx, {
      amount,
      currency: invoice.currency,
      payment_method_id: input.payment_method_id,
      account_id: invoice.account_id,
      contact_id: invoice.contact_id,
      invoice_id: invoice.id,
      description: `Payment of invoice ${invoice.number}`,
    });
    if (paymentMethod !== null && !isPaymentMethodUsable(paymentMethod, day)) {
      throw new ValidationError(
        'invalid_payment_method',
        `Payment method ${paymentMethod.id} cannot be charged (status ${paymentMethod.status}).`,
        'payment_method_id',
      );
    }
    const inserted = await insertTransaction(trx, row, ctx.actor, `payment of invoice ${invoice.id}`);
    return { status: 201, body: inserted };
  });
  try {
    const outcome = await captureTransaction(deps, actor, created.body.id, {});
    return { status: outcome.status === 200 ? 201 : outcome.status, body: outcome.body };
  } catch (error) {
    await abandonPayment(deps, ctx, created.body.id, error);
    throw error;
  }
}

/**
 * A payment whose charge failed with an error (nothing charged): removed when it never reached the gateway, else
 * canceled with its allocation removed, so the invoice is left as it was. A row that moved on (in process, 202) is
 * left to recovery.
 */
async function abandonPayment(deps: Deps, ctx: RequestContext, id: string, cause: unknown): Promise<void> {
  const why = cause instanceof SettleError ? cause.code : 'error';
  await deps.commands.run(undefined, async (trx) => {
    const row = await lockTransaction(trx, id);
    if (!row || row.status !== 'open') return { status: 200, body: null };
    if (!touchedGateway(row)) {
      await deleteTransactionRow(trx, row, ctx.actor);
      return { status: 200, body: null };
    }
    const next = transition(stateOf(row), 'cancel');
    await compareAndSetTransaction(
      trx,
      row,
      { status: next.status, payment_status: next.payment_status },
      ctx.actor,
      `invoice payment abandoned (${why})`,
    );
    await deleteAllocationsOf(trx, id);
    return { status: 200, body: null };
  });
}

export interface WriteOffInput {
  amount?: unknown;
  reason?: unknown;
}

/** POST /v1/invoices/{id}/write-off: a completed non-gateway write_off transaction allocated to the invoice (201). */
export async function writeOffInvoice(deps: Deps, ctx: RequestContext, id: string, input: WriteOffInput) {
  const amount = parseAmount(input.amount, 'amount', 'positive');
  const reason = input.reason === undefined || input.reason === null ? null : parseText(input.reason, 'reason', 1000);
  const day = await today(deps);
  return deps.commands.run<TransactionView>(ctx.idempotency, async (trx) => {
    const invoice = await requireInvoice(trx, id);
    requireOpenInvoice(invoice, 'written off');
    if (amount > invoice.balance_due) {
      // The trigger refuses it too, under the invoice's lock (a concurrent write-off); this says how much is due.
      throw new ValidationError(
        'write_off_exceeds_balance_due',
        `The write-off of ${formatAmount(amount, invoice.currency)} exceeds the balance due of invoice ${id}: ${formatAmount(invoice.balance_due, invoice.currency)}.`,
        'amount',
      );
    }
    const { row } = await buildNewTransaction(deps, trx, {
      transaction_type: 'write_off',
      status: 'completed',
      non_gateway: true,
      amount,
      currency: invoice.currency,
      account_id: invoice.account_id,
      contact_id: invoice.contact_id,
      invoice_id: invoice.id,
      description: reason ?? `Write-off of invoice ${invoice.number}`,
    });
    const inserted = await insertTransaction(trx, row, ctx.actor, `write-off of invoice ${invoice.id}`);
    return { status: 201, body: presentTransaction(inserted, null, day) };
  });
}

/** POST /v1/invoices/{id}/void: only while nothing is allocated (409 invoice_has_allocations), atomically. */
export async function voidInvoice(deps: Deps, ctx: RequestContext, id: string) {
  return deps.commands.run<InvoiceView>(ctx.idempotency, async (trx) => {
    const voided = await voidInvoiceRow(trx, id, deps.clock.now());
    if (voided) return { status: 200, body: await presentInvoice(trx, voided) };
    const current = await requireInvoice(trx, id);
    if (current.status === 'void') throw new ConflictError('invoice_void', `Invoice ${id} is already void.`);
    throw new ConflictError(
      'invoice_has_allocations',
      `Invoice ${id} has ${current.allocations_count} allocation(s); delete them (DELETE /v1/allocations/{id}) before voiding it.`,
    );
  });
}

export interface InvoiceTransactionView extends TransactionView {
  allocation: { kind: string; amount: number; applied_amount: number };
}

/** GET /v1/invoices/{id}/transactions: every transaction with an allocation to it (refunds too), newest first. */
export async function listInvoiceTransactions(
  deps: Deps,
  id: string,
  query: { limit?: number; starting_after?: string },
): Promise<Page<InvoiceTransactionView>> {
  const limit = parseLimit(query.limit);
  const after = cursorAfter(query.starting_after, 'transaction');
  const day = await today(deps);
  await requireInvoice(deps.db, id);
  const rows = await listInvoiceTransactionRows(deps.db, id, { after, limit });
  return pageOf(
    rows,
    limit,
    (r) => {
      const { pm_type, pm_status, pm_exp_month, pm_exp_year, allocation_kind, allocation_amount, ...row } = r;
      const { allocation_applied_amount: applied, ...transaction } = row;
      const pm: PaymentMethodLike | null =
        pm_type === null || pm_status === null
          ? null
          : {
              type: pm_type as PaymentMethodLike['type'],
              status: pm_status,
              exp_month: pm_exp_month,
              exp_year: pm_exp_year,
            };
      return {
        ...presentTransaction(transaction, pm, day),
        allocation: { kind: allocation_kind, amount: Number(allocation_amount), applied_amount: Number(applied) },
      };
    },
    byId,
  );
}
