// Invoices (R3, migration 0020): inserts, compare-and-set edits, the void (one conditional statement), the
// past-due marking of the invoices_past_due job, and the reads of app/invoices.ts. The allocated sums, balances and
// payment_status are kept by the allocation triggers and generated columns: nothing here writes them.
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Db, InvoicePaymentStatus, InvoiceRow, InvoicesTable, InvoiceStatus, Tx } from './schema.js';

/** The fields an edit may set (version and updated_at are stamped here; the sums belong to the triggers). */
export type InvoiceChanges = Pick<
  Updateable<InvoicesTable>,
  'total' | 'currency' | 'due_date' | 'issued_on' | 'timezone' | 'status' | 'past_due' | 'description' | 'metadata'
>;

export function insertInvoice(db: Db | Tx, row: Insertable<InvoicesTable>): Promise<InvoiceRow> {
  return db.insertInto('invoices').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findInvoice(db: Db | Tx, id: string): Promise<InvoiceRow | undefined> {
  return db.selectFrom('invoices').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Applies `changes` compare-and-set on the version read (undefined when the row moved on). A change of currency
 * applies only while nothing is allocated, checked by the statement itself so an allocation cannot slip in between.
 */
export function compareAndSetInvoice(
  trx: Db | Tx,
  current: InvoiceRow,
  changes: InvoiceChanges,
  now: Date,
): Promise<InvoiceRow | undefined> {
  let q = trx
    .updateTable('invoices')
    .set({ ...changes, version: current.version + 1, updated_at: now })
    .where('id', '=', current.id)
    .where('version', '=', current.version);
  if (changes.currency !== undefined && changes.currency !== current.currency) q = q.where('allocations_count', '=', 0);
  return q.returningAll().executeTakeFirst();
}

/**
 * Voids an invoice in one conditional statement: only one that is not void and has no allocations. The allocation
 * triggers move allocations_count under the invoice row's lock (at the allocating transaction's commit), so a void
 * and an allocation racing each other serialise on that row: whichever commits second sees the other (no row here,
 * or the trigger's invoice_void there).
 */
export function voidInvoiceRow(db: Db | Tx, id: string, now: Date): Promise<InvoiceRow | undefined> {
  return db
    .updateTable('invoices')
    .set((eb) => ({ status: 'void', past_due: false, version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .where('status', '<>', 'void')
    .where('allocations_count', '=', 0)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Serialises the payments of one invoice (POST /v1/invoices/{id}/pay) until the end of the database transaction: a
 * transaction-scoped advisory lock on the invoice id, taken first, so that each payment sees the ones before it.
 * Nothing else takes it, and it is taken before any row lock, so it never closes a cycle with the row locks the
 * totals take at commit.
 */
export async function lockInvoicePayments(trx: Tx, invoiceId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`settle_invoice_payment:${invoiceId}`}, 0))`.execute(trx);
}

/** What a list of invoices is filtered on (each given filter must match). */
export interface InvoiceFilters {
  account_id?: string | undefined;
  status?: InvoiceStatus | undefined;
  payment_status?: InvoicePaymentStatus | undefined;
}

/** A page of invoices, newest first: ids below `after`, `limit` of them and one more. */
export function listInvoiceRows(
  db: Db,
  filters: InvoiceFilters,
  after: string | undefined,
  limit: number,
): Promise<InvoiceRow[]> {
  let q = db
    .selectFrom('invoices')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (filters.account_id !== undefined) q = q.where('account_id', '=', filters.account_id);
  if (filters.status !== undefined) q = q.where('status', '=', filters.status);
  if (filters.payment_status !== undefined) q = q.where('payment_status', '=', filters.payment_status);
  return (after === undefined ? q : q.where('id', '<', after)).execute();
}

/**
 * The invoice's balance due and what open or in-flight payments allocated to it will still add to its balance_paid
 * when they complete (the unapplied part of the payment allocations of charges not yet finished: open, on hold, in
 * process, pending, waiting for authentication or review, or authorized), read in ONE statement: read apart, a
 * payment completing between the two reads would count in neither (READ COMMITTED gives each statement its own
 * snapshot), and a second payment of the whole balance would be let through.
 */
export async function dueAndPending(db: Db | Tx, invoiceId: string): Promise<{ balanceDue: number; pending: number }> {
  const row = await db
    .selectFrom('invoices as i')
    .select('i.balance_due')
    .select((eb) =>
      eb
        .selectFrom('allocations as a')
        .innerJoin('transactions as t', 't.id', 'a.transaction_id')
        .select(sql<string>`coalesce(sum(a.amount - a.applied_amount), 0)`.as('pending'))
        .whereRef('a.invoice_id', '=', 'i.id')
        .where('a.kind', '=', 'payment')
        .where((w) =>
          w.or([
            w('t.status', 'in', ['open', 'on_hold', 'process', 'pending', 'pending_payment_intent', 'needs_review']),
            w.and([w('t.status', '=', 'completed'), w('t.payment_status', '=', 'authorized')]),
          ]),
        )
        .as('pending'),
    )
    .where('i.id', '=', invoiceId)
    .executeTakeFirstOrThrow();
  return { balanceDue: Number(row.balance_due), pending: Number(row.pending ?? 0) };
}

/**
 * The invoices_past_due job's one statement: past_due becomes true for open invoices whose due date is before
 * today in their time zone, and false for any other that still has it (a due date moved later, an invoice no
 * longer open). `days` gives today for each time zone in use (a null zone is `fallbackZone`). Returns the ids
 * changed; running it again changes nothing.
 */
export async function markPastDue(
  db: Db | Tx,
  days: readonly { zone: string; day: string }[],
  fallbackZone: string,
): Promise<{ id: string; past_due: boolean }[]> {
  if (days.length === 0) return [];
  const values = sql.join(days.map((d) => sql`(${d.zone}::text, ${d.day}::date)`));
  const result = await sql<{ id: string; past_due: boolean }>`
    update invoices i set past_due = (i.status = 'open' and i.due_date is not null and i.due_date < d.day)
    from (values ${values}) as d (zone, day)
    where coalesce(i.timezone, ${fallbackZone}) = d.zone
      and ((i.status = 'open' and not i.past_due and i.due_date < d.day)
        or (i.past_due and not (i.status = 'open' and i.due_date is not null and i.due_date < d.day)))
    returning i.id, i.past_due`.execute(db);
  return result.rows;
}

/** The time zones invoices that may need marking use (null: the default setting's). */
export async function invoiceZones(db: Db | Tx): Promise<(string | null)[]> {
  const rows = await db
    .selectFrom('invoices')
    .select('timezone')
    .distinct()
    .where((eb) =>
      eb.or([eb('past_due', '=', true), eb.and([eb('status', '=', 'open'), eb('due_date', 'is not', null)])]),
    )
    .execute();
  return rows.map((r) => r.timezone);
}
