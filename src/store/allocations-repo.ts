// Allocations (R4, migration 0020): a transaction's money assigned to an invoice. The triggers keep the invoices'
// sums and the rules that span rows (within the transaction's amount, same currency, no void invoice, no write-off
// beyond the balance due); this module writes the rows and reads them for app/allocations.ts and app/invoices.ts.
// Callers lock the transaction first (lockTransaction), then write here: the triggers then lock the invoice.
import { sql, type Insertable } from 'kysely';
import type { AllocationRow, AllocationsTable, Db, TransactionRow, Tx } from './schema.js';

export function insertAllocation(trx: Db | Tx, row: Insertable<AllocationsTable>): Promise<AllocationRow> {
  return trx.insertInto('allocations').values(row).returningAll().executeTakeFirstOrThrow();
}

/**
 * Spreads the transaction's allocatable amount over its allocations again, oldest first (the migration's
 * settle_refresh_allocations). The triggers do it when a transaction's amounts change and when allocations are
 * added, changed or deleted; calling it after an insert makes sure of it (a no-op when nothing differs).
 */
export async function refreshAllocations(trx: Db | Tx, transactionId: string): Promise<void> {
  await sql`select settle_refresh_allocations(${transactionId})`.execute(trx);
}

export function findAllocation(db: Db | Tx, id: string): Promise<AllocationRow | undefined> {
  return db.selectFrom('allocations').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Sets an allocation's amount (the trigger spreads the transaction's amount again); undefined when it is gone. The
 * applied amount is capped at the new amount in the same statement: the row's check (applied_amount between 0 and
 * amount) is evaluated before the trigger re-spreads, so a lowered amount must not leave a larger applied one.
 */
export function setAllocationAmount(
  trx: Db | Tx,
  id: string,
  amount: number,
  now: Date,
): Promise<AllocationRow | undefined> {
  return trx
    .updateTable('allocations')
    .set((eb) => ({
      amount,
      applied_amount: sql<number>`least(applied_amount, ${amount}::int8)`,
      version: eb('version', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteAllocationRow(trx: Db | Tx, id: string): Promise<boolean> {
  const result = await trx.deleteFrom('allocations').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** Deletes every allocation of a transaction (a payment that was abandoned before it reached the gateway). */
export async function deleteAllocationsOf(trx: Db | Tx, transactionId: string): Promise<void> {
  await trx.deleteFrom('allocations').where('transaction_id', '=', transactionId).execute();
}

/** What a transaction's allocations add up to (their amounts), leaving out `exceptId`. */
export async function allocatedAmount(db: Db | Tx, transactionId: string, exceptId?: string): Promise<number> {
  let q = db
    .selectFrom('allocations')
    .select(sql<string>`coalesce(sum(amount), 0)`.as('total'))
    .where('transaction_id', '=', transactionId);
  if (exceptId !== undefined) q = q.where('id', '<>', exceptId);
  return Number((await q.executeTakeFirstOrThrow()).total);
}

/** What a list of allocations is filtered on (each given filter must match). */
export interface AllocationFilters {
  transaction_id?: string | undefined;
  invoice_id?: string | undefined;
}

/** A page of allocations, newest first: ids below `after`, `limit` of them and one more. */
export function listAllocationRows(
  db: Db,
  filters: AllocationFilters,
  after: string | undefined,
  limit: number,
): Promise<AllocationRow[]> {
  let q = db
    .selectFrom('allocations')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  for (const column of ['transaction_id', 'invoice_id'] as const) {
    const value = filters[column];
    if (value !== undefined) q = q.where(column, '=', value);
  }
  return (after === undefined ? q : q.where('id', '<', after)).execute();
}

/**
 * What a charge's allocations to one invoice still hold for a refund: their applied amounts less what the charge's
 * refunds (not failed or canceled) have already been allocated to that invoice. `allocated` is false when the charge
 * has no allocation to the invoice at all.
 */
export async function heldForInvoice(
  db: Db | Tx,
  chargeId: string,
  invoiceId: string,
): Promise<{ allocated: boolean; held: number }> {
  const result = await sql<{ allocations: string; applied: string; refunded: string }>`
    select (select count(*) from allocations a where a.transaction_id = ${chargeId} and a.invoice_id = ${invoiceId})
        as allocations,
      (select coalesce(sum(a.applied_amount), 0) from allocations a
        where a.transaction_id = ${chargeId} and a.invoice_id = ${invoiceId}) as applied,
      (select coalesce(sum(ra.amount), 0) from allocations ra join transactions r on r.id = ra.transaction_id
        where r.original_transaction_id = ${chargeId} and r.transaction_type = 'refund'
          and r.status not in ('failed', 'canceled') and ra.invoice_id = ${invoiceId}) as refunded`.execute(db);
  const row = result.rows[0];
  return {
    allocated: Number(row?.allocations ?? 0) > 0,
    held: Number(row?.applied ?? 0) - Number(row?.refunded ?? 0),
  };
}

/** A transaction with its payment method's fields and what its allocations to one invoice add up to. */
export type InvoiceTransactionRow = TransactionRow & {
  pm_type: string | null;
  pm_status: string | null;
  pm_exp_month: number | null;
  pm_exp_year: number | null;
  allocation_kind: string;
  allocation_amount: number;
  allocation_applied_amount: number;
};

/** A page of the transactions with an allocation to the invoice (refunds included), newest first (limit + 1 rows). */
export function listInvoiceTransactionRows(
  db: Db,
  invoiceId: string,
  query: { after?: string | undefined; limit: number },
): Promise<InvoiceTransactionRow[]> {
  let sums = db
    .selectFrom('allocations')
    .select([
      'transaction_id',
      sql<string>`min(kind)`.as('allocation_kind'),
      sql<number>`sum(amount)::int8`.as('allocation_amount'),
      sql<number>`sum(applied_amount)::int8`.as('allocation_applied_amount'),
    ])
    .where('invoice_id', '=', invoiceId)
    .groupBy('transaction_id');
  if (query.after !== undefined) sums = sums.where('transaction_id', '<', query.after);
  return db
    .selectFrom(sums.as('s'))
    .innerJoin('transactions', 'transactions.id', 's.transaction_id')
    .leftJoin('payment_methods as pm', 'pm.id', 'transactions.payment_method_id')
    .selectAll('transactions')
    .select([
      'pm.type as pm_type',
      'pm.status as pm_status',
      'pm.exp_month as pm_exp_month',
      'pm.exp_year as pm_exp_year',
      's.allocation_kind',
      's.allocation_amount',
      's.allocation_applied_amount',
    ])
    .orderBy('transactions.id', 'desc')
    .limit(query.limit + 1)
    .execute();
}
