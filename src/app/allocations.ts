// Allocations (R4): assigning a transaction's money to invoices by hand. Each write locks the transaction row first
// (lockTransaction), then writes the allocation; the triggers then lock the invoice, move its sums and enforce the
// rules that span rows: a transaction's allocations within its amount (400 allocation_exceeds_amount), in the
// invoice's currency (400 currency_mismatch), none added to a void invoice (409 invoice_void), no write-off beyond
// the balance due (400 write_off_exceeds_balance_due). `applied_amount` is the part that counts now: the transaction's
// allocatable amount (captured, or a completed write-off or refund) fills its allocations oldest first.
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { formatAmount, parseAmount } from '../domain/money.js';
import {
  allocatedAmount,
  deleteAllocationRow,
  findAllocation,
  heldForInvoice,
  insertAllocation,
  listAllocationRows,
  refreshAllocations,
  setAllocationAmount,
} from '../store/allocations-repo.js';
import type { AllocationKind, AllocationRow, Db, TransactionRow, Tx } from '../store/schema.js';
import { findTransaction, lockTransaction } from '../store/transactions-repo.js';
import { iso } from './customers.js';
import type { Deps, RequestContext } from './deps.js';
import { newId } from './ids.js';
import { requireInvoice } from './invoices.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';

export interface AllocationView {
  id: string;
  object: 'allocation';
  transaction_id: string;
  invoice_id: string;
  kind: AllocationKind;
  amount: number;
  applied_amount: number;
  created_at: string;
  updated_at: string;
}

export function presentAllocation(row: AllocationRow): AllocationView {
  return {
    id: row.id,
    object: 'allocation',
    transaction_id: row.transaction_id,
    invoice_id: row.invoice_id,
    kind: row.kind,
    amount: row.amount,
    applied_amount: row.applied_amount,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** The kind an allocation of `row` has: by its type, and for a refund by its original's. */
async function kindOf(trx: Tx, row: TransactionRow): Promise<AllocationKind> {
  const notAllocatable = () =>
    new ValidationError(
      'transaction_not_allocatable',
      `Transaction ${row.id} is a ${row.record_type} of type ${row.transaction_type}; only charges, write-offs and their refunds are allocated to invoices.`,
      'transaction_id',
    );
  if (row.record_type !== 'charge') throw notAllocatable();
  if (row.transaction_type === 'normal') return 'payment';
  if (row.transaction_type === 'write_off') return 'write_off';
  if (row.transaction_type !== 'refund' || row.original_transaction_id === null) throw notAllocatable();
  const original = await findTransaction(trx, row.original_transaction_id);
  return original?.transaction_type === 'write_off' ? 'write_off_reversal' : 'refund';
}

/** Refuses allocations of the transaction beyond its amount, saying how much is left (the trigger's rule, explained). */
async function checkWithinAmount(trx: Tx, row: TransactionRow, amount: number, exceptId?: string): Promise<void> {
  const others = await allocatedAmount(trx, row.id, exceptId);
  const limit = Math.abs(row.amount);
  if (others + amount > limit) {
    throw new ValidationError(
      'allocation_exceeds_amount',
      `Transaction ${row.id} has ${formatAmount(limit, row.currency)}, of which ${formatAmount(others, row.currency)} is allocated elsewhere; at most ${formatAmount(Math.max(0, limit - others), row.currency)} can be allocated here.`,
      'amount',
    );
  }
}

async function lockAllocatedTransaction(trx: Tx, id: string, param?: string): Promise<TransactionRow> {
  const row = await lockTransaction(trx, id);
  if (!row) throw new NotFoundError('transaction', id, param);
  return row;
}

async function requireAllocation(trx: Tx | Deps['db'], id: string): Promise<AllocationRow> {
  const row = await findAllocation(trx, id);
  if (!row) throw new NotFoundError('allocation', id);
  return row;
}

export interface CreateAllocationInput {
  transaction_id?: string;
  invoice_id?: string;
  amount?: unknown;
}

/** POST /v1/allocations (201). */
export async function createAllocation(deps: Deps, ctx: RequestContext, input: CreateAllocationInput) {
  for (const field of ['transaction_id', 'invoice_id'] as const) {
    if (typeof input[field] !== 'string')
      throw new ValidationError('parameter_missing', `${field} is required.`, field);
  }
  const transactionId = input.transaction_id as string;
  const invoiceId = input.invoice_id as string;
  const amount = parseAmount(input.amount, 'amount', 'positive');
  return deps.commands.run<AllocationView>(ctx.idempotency, async (trx) => {
    const transaction = await lockAllocatedTransaction(trx, transactionId, 'transaction_id');
    const kind = await kindOf(trx, transaction);
    await requireInvoice(trx, invoiceId, 'invoice_id');
    await checkWithinAmount(trx, transaction, amount);
    const now = deps.clock.now();
    const inserted = await insertAllocation(trx, {
      id: newId('allocation', now.getTime()),
      transaction_id: transaction.id,
      invoice_id: invoiceId,
      kind,
      amount,
      created_at: now,
      updated_at: now,
    });
    await refreshAllocations(trx, transaction.id);
    return { status: 201, body: presentAllocation(await requireAllocation(trx, inserted.id)) };
  });
}

export async function getAllocation(deps: Deps, id: string): Promise<AllocationView> {
  return presentAllocation(await requireAllocation(deps.db, id));
}

export interface ListAllocationsQuery {
  transaction_id?: string;
  invoice_id?: string;
  limit?: number;
  starting_after?: string;
}

export async function listAllocations(deps: Deps, query: ListAllocationsQuery): Promise<Page<AllocationView>> {
  const limit = parseLimit(query.limit);
  const after = cursorAfter(query.starting_after, 'allocation');
  const filters = { transaction_id: query.transaction_id, invoice_id: query.invoice_id };
  const rows = await listAllocationRows(deps.db, filters, after, limit);
  return pageOf(rows, limit, presentAllocation, byId);
}

/**
 * Locks the allocation's transaction, then reads the allocation again under that lock (another writer of the same
 * transaction's allocations holds the same lock, so what is read stays true until commit).
 */
async function lockedAllocation(
  trx: Tx,
  id: string,
): Promise<{ allocation: AllocationRow; transaction: TransactionRow }> {
  const seen = await requireAllocation(trx, id);
  const transaction = await lockAllocatedTransaction(trx, seen.transaction_id);
  return { allocation: await requireAllocation(trx, id), transaction };
}

/** PATCH /v1/allocations/{id} `{ amount }`: the invoice's balances move by the difference. */
export async function updateAllocation(deps: Deps, ctx: RequestContext, id: string, input: { amount?: unknown }) {
  const amount = parseAmount(input.amount, 'amount', 'positive');
  return deps.commands.run<AllocationView>(ctx.idempotency, async (trx) => {
    const { allocation, transaction } = await lockedAllocation(trx, id);
    await checkWithinAmount(trx, transaction, amount, allocation.id);
    if (!(await setAllocationAmount(trx, id, amount, deps.clock.now()))) throw new NotFoundError('allocation', id);
    return { status: 200, body: presentAllocation(await requireAllocation(trx, id)) };
  });
}

/** DELETE /v1/allocations/{id}: its invoice's balances move back; the transaction's other allocations are re-spread. */
export async function deleteAllocation(deps: Deps, ctx: RequestContext, id: string) {
  return deps.commands.run(ctx.idempotency, async (trx) => {
    await lockedAllocation(trx, id);
    if (!(await deleteAllocationRow(trx, id))) throw new NotFoundError('allocation', id);
    return { status: 200, body: { id, object: 'allocation', deleted: true } };
  });
}

/**
 * A refund with `invoice_id` (POST /v1/transactions/{id}/refund): the charge must have an allocation to that invoice,
 * and the refund cannot take back more than it holds there (applied, less the charge's other refunds allocated to it).
 */
export async function checkRefundInvoice(db: Db, charge: TransactionRow, invoiceId: string, amount: number) {
  const { allocated, held } = await heldForInvoice(db, charge.id, invoiceId);
  if (!allocated) {
    throw new ValidationError(
      'invoice_not_allocated',
      `Transaction ${charge.id} has no allocation to invoice ${invoiceId}; a refund is allocated to an invoice its charge paid.`,
      'invoice_id',
    );
  }
  if (amount > held) {
    throw new ValidationError(
      'amount_exceeds_invoice_allocation',
      `The refund of ${formatAmount(amount, charge.currency)} exceeds what ${charge.id} holds for invoice ${invoiceId}: ${formatAmount(Math.max(0, held), charge.currency)}.`,
      'amount',
    );
  }
}
