// Payment schedules (X6) and the transactions they generate. A schedule's row is locked (FOR UPDATE) by every write
// on it, so top-ups, pauses, resumes, cancels and edits of one schedule run one at a time; a change of status is
// also compare-and-set on `version`. Its generated transactions are written through the transactions repository's
// compare-and-set (with history); a new occurrence is inserted once: a second insert of the same occurrence meets the
// unique index transactions_one_per_schedule_occurrence and inserts nothing.
import type { Insertable, Updateable } from 'kysely';
import type { TransactionStatus } from '../domain/transaction-state.js';
import { creationChanges, historyFrom } from './history.js';
import type {
  Db,
  NewTransactionRow,
  PaymentScheduleRow,
  PaymentSchedulesTable,
  ScheduleStatus,
  TransactionRow,
} from './schema.js';

export type NewPaymentSchedule = Insertable<PaymentSchedulesTable>;
export type PaymentScheduleChanges = Omit<
  Updateable<PaymentSchedulesTable>,
  'id' | 'created_at' | 'version' | 'updated_at'
>;

export function insertSchedule(db: Db, row: NewPaymentSchedule): Promise<PaymentScheduleRow> {
  return db.insertInto('payment_schedules').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findSchedule(db: Db, id: string): Promise<PaymentScheduleRow | undefined> {
  return db.selectFrom('payment_schedules').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Reads and locks a schedule for the rest of the database transaction. */
export function lockSchedule(db: Db, id: string): Promise<PaymentScheduleRow | undefined> {
  return db.selectFrom('payment_schedules').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Applies `changes` compare-and-set on the version read in `current`; undefined when the row moved on. */
export function compareAndSetSchedule(
  db: Db,
  current: PaymentScheduleRow,
  changes: PaymentScheduleChanges,
  now: Date,
): Promise<PaymentScheduleRow | undefined> {
  return db
    .updateTable('payment_schedules')
    .set({ ...changes, version: current.version + 1, updated_at: now })
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirst();
}

/** A page of schedules, newest first (one more than `limit`), filtered by status, parent and invoice. */
export function listScheduleRows(
  db: Db,
  query: {
    status?: ScheduleStatus | undefined;
    parent_id?: string | undefined;
    invoice_id?: string | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<PaymentScheduleRow[]> {
  const { status, parent_id, invoice_id, after } = query;
  return db
    .selectFrom('payment_schedules')
    .selectAll()
    .$if(status !== undefined, (w) => w.where('status', '=', status!))
    .$if(parent_id !== undefined, (w) => w.where('parent_id', '=', parent_id!))
    .$if(invoice_id !== undefined, (w) => w.where('invoice_id', '=', invoice_id!))
    .$if(after !== undefined, (w) => w.where('id', '<', after!))
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
}

/** The ids of active schedules after `after` (ascending), for the daily top-up (index payment_schedules_active). */
export async function activeScheduleIds(db: Db, after: string | undefined, limit: number): Promise<string[]> {
  let q = db.selectFrom('payment_schedules').select('id').where('status', '=', 'active');
  if (after !== undefined) q = q.where('id', '>', after);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map((r) => r.id);
}

/**
 * Inserts one generated occurrence and its 'created' history row in one statement; false (nothing written) when the
 * occurrence already exists (the partial unique index on schedule_id, schedule_occurrence).
 */
export async function insertOccurrence(
  db: Db,
  row: NewTransactionRow,
  actor: string,
  action: string,
): Promise<boolean> {
  const inserted = await db
    .with('inserted', (q) =>
      q
        .insertInto('transactions')
        .values(row)
        .onConflict((oc) =>
          oc
            .columns(['schedule_id', 'schedule_occurrence'])
            .where('schedule_id', 'is not', null)
            .where('reattempt_of_id', 'is', null)
            .doNothing(),
        )
        .returningAll(),
    )
    .with('history', (q) => historyFrom(q, 'inserted', actor, action, creationChanges(row)))
    .selectFrom('inserted')
    .select('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * The schedule's transactions in `statuses`, in id order, locked (FOR UPDATE, in id order: a write that changes
 * several transactions locks them all before the totals trigger locks their owners' totals): its generated occurrences
 * and the reattempts of failed ones (which keep schedule_id). `unclaimedAt`: leaves out those a running job run has
 * claimed and still holds at that instant (job_claims), which that run may be about to process.
 */
export function lockScheduleTransactions(
  db: Db,
  scheduleId: string,
  statuses: readonly TransactionStatus[],
  unclaimedAt?: Date,
): Promise<TransactionRow[]> {
  let q = db
    .selectFrom('transactions as t')
    .selectAll('t')
    .where('t.schedule_id', '=', scheduleId)
    .where('t.status', 'in', [...statuses]);
  if (unclaimedAt !== undefined) {
    q = q.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('job_claims as c')
            .innerJoin('job_runs as r', 'r.id', 'c.run_id')
            .select('c.transaction_id')
            .whereRef('c.transaction_id', '=', 't.id')
            .where('r.status', '=', 'running')
            .where('c.state', '=', 'claimed')
            .where('c.expires_at', '>', unclaimedAt),
        ),
      ),
    );
  }
  return q.orderBy('t.id').forUpdate('t').execute();
}

/**
 * The payment allocation of a generated occurrence to its invoice follows the occurrence's new amount (it was
 * allocated in full when generated); the allocation triggers move the invoice's balances.
 */
export async function updateOccurrenceAllocations(
  db: Db,
  transactionId: string,
  invoiceId: string,
  amount: number,
  now: Date,
): Promise<void> {
  await db
    .updateTable('allocations')
    .set((eb) => ({ amount, version: eb('version', '+', 1), updated_at: now }))
    .where('transaction_id', '=', transactionId)
    .where('invoice_id', '=', invoiceId)
    .where('kind', '=', 'payment')
    .where('amount', '<>', amount)
    .execute();
}
