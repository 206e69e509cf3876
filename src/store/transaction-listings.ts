// The reads behind GET /v1/transactions (L12): a transaction with what its payment method says (for `to_fix`), and a
// filtered page, newest first, with the views written as SQL. The views' rules are the domain's (domain/to-fix.ts);
// paymentMethodUnusable and needsFix are their SQL twins, tested against them.
import { type ExpressionBuilder, type Kysely, sql, type Transaction } from 'kysely';
import type { Database, TransactionRow } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;
type Eb = ExpressionBuilder<Database & { pm: Database['payment_methods'] }, 'transactions' | 'pm'>;

export const TRANSACTION_VIEWS = [
  'open',
  'due_today',
  'overdue',
  'scheduled',
  'to_fix',
  'failed',
  'authorized_uncaptured',
  'refunds',
  'scheduled_reattempts',
] as const;
export type TransactionViewName = (typeof TRANSACTION_VIEWS)[number];

/** A transaction with its payment method's fields (null without one). */
export type TransactionWithPaymentMethod = TransactionRow & {
  pm_type: string | null;
  pm_status: string | null;
  pm_exp_month: number | null;
  pm_exp_year: number | null;
};

/** Columns a page can be filtered on by equality. */
export type TransactionEqualsColumn =
  | 'record_type'
  | 'status'
  | 'payment_status'
  | 'transaction_type'
  | 'payment_method_id'
  | 'account_id'
  | 'contact_id'
  | 'parent_id'
  | 'invoice_id'
  | 'schedule_id'
  | 'order_id'
  | 'original_transaction_id';

export interface TransactionFilters {
  equals: readonly (readonly [TransactionEqualsColumn, string])[];
  /** Due (date_to_process, else due_date) before / after this day (YYYY-MM-DD). */
  dueBefore?: string;
  dueAfter?: string;
  view?: TransactionViewName;
  /** Ids below this one (the previous page's last). */
  idBefore?: string;
}

const due = sql<string>`coalesce(transactions.date_to_process, transactions.due_date)`;

function baseQuery(db: Db) {
  return db
    .selectFrom('transactions')
    .leftJoin('payment_methods as pm', 'pm.id', 'transactions.payment_method_id')
    .selectAll('transactions')
    .select([
      'pm.type as pm_type',
      'pm.status as pm_status',
      'pm.exp_month as pm_exp_month',
      'pm.exp_year as pm_exp_year',
    ]);
}

/** SQL twin of domain/to-fix.ts isPaymentMethodUsable (tested against it). */
function paymentMethodUnusable(eb: Eb, day: string) {
  const [year, month] = day.split('-').map(Number) as [number, number];
  const monthIndex = year * 12 + (month - 1);
  return eb.and([
    eb('pm.id', 'is not', null),
    eb.not(
      eb.or([
        eb.and([
          eb('pm.type', '=', 'card'),
          eb('pm.status', 'in', ['valid', 'one_time']),
          eb.or([
            eb('pm.exp_month', 'is', null),
            eb('pm.exp_year', 'is', null),
            eb(sql<number>`pm.exp_year * 12 + pm.exp_month - 1`, '>=', monthIndex),
          ]),
        ]),
        eb.and([eb('pm.type', '=', 'us_bank_account'), eb('pm.status', '=', 'verified')]),
      ]),
    ),
  ]);
}

/** SQL twin of domain/to-fix.ts computeToFix (non-null). */
function needsFix(eb: Eb, day: string) {
  return eb.and([
    eb('transactions.status', '=', 'open'),
    eb.or([
      eb.and([
        eb('transactions.auto_process', '=', true),
        eb('transactions.due_date', 'is', null),
        eb('transactions.date_to_process', 'is', null),
      ]),
      paymentMethodUnusable(eb, day),
      eb.and([
        eb('transactions.auto_process', '=', true),
        eb('transactions.record_type', '=', 'charge'),
        eb('transactions.payment_method_id', 'is', null),
      ]),
      eb.and([
        eb('transactions.auto_process', '=', true),
        eb('transactions.record_type', '=', 'transfer'),
        // The domain rule (domain/to-fix.ts): a transfer needs its connected account to be sent automatically.
        eb('transactions.connected_account_id', 'is', null),
      ]),
      eb.and([
        eb('transactions.auto_process', '=', true),
        eb('transactions.record_type', '=', 'payout'),
        eb('transactions.payment_method_id', 'is', null),
        // Connect (M6): a payout made on a connected account has its destination (domain/to-fix.ts).
        eb('transactions.connected_account_id', 'is', null),
      ]),
    ]),
  ]);
}

function viewFilter(eb: Eb, view: TransactionViewName, day: string) {
  const open = eb('transactions.status', '=', 'open');
  switch (view) {
    case 'open':
      return open;
    case 'due_today':
      return eb.and([open, eb(due, '=', day)]);
    case 'overdue':
      return eb.and([open, eb(due, '<', day)]);
    case 'scheduled':
      return eb.and([open, eb('transactions.auto_process', '=', true), eb(due, '>=', day)]);
    case 'to_fix':
      return needsFix(eb, day);
    case 'failed':
      return eb('transactions.status', '=', 'failed');
    case 'authorized_uncaptured':
      return eb.and([
        eb('transactions.status', '=', 'completed'),
        eb('transactions.payment_status', '=', 'authorized'),
      ]);
    case 'refunds':
      return eb('transactions.transaction_type', '=', 'refund');
    case 'scheduled_reattempts':
      return eb.and([open, eb('transactions.reattempt_of_id', 'is not', null)]);
  }
}

/**
 * One view's condition, for another query over `transactions` left-joined to `payment_methods as pm` (the reports,
 * store/reports-repo.ts, count and sum what the list views show, by the same definition).
 */
export function transactionViewCondition(eb: unknown, view: TransactionViewName, day: string) {
  // Cast: the caller's expression builder names at least the two tables viewFilter reads.
  return viewFilter(eb as Eb, view, day);
}

/**
 * A page of transactions, newest first: `limit` of them and one more, to tell whether more follow. `day` (today,
 * YYYY-MM-DD) is what the views compare due dates and card expiry with.
 */
export async function listTransactionsPage(
  db: Db,
  filters: TransactionFilters,
  day: string,
  limit: number,
): Promise<TransactionWithPaymentMethod[]> {
  let q = baseQuery(db);
  // Cast: each filter's value has its column's type (TransactionFilters), which Kysely cannot relate to a column named at run time.
  for (const [column, value] of filters.equals) q = q.where(`transactions.${column}`, '=', value as never);
  if (filters.dueBefore !== undefined) q = q.where(due, '<', filters.dueBefore);
  if (filters.dueAfter !== undefined) q = q.where(due, '>', filters.dueAfter);
  if (filters.view !== undefined) {
    const view = filters.view;
    // Cast: the joined query's expression builder is wider than viewFilter's, which only names transactions' columns.
    q = q.where((eb) => viewFilter(eb as unknown as Eb, view, day));
  }
  if (filters.idBefore !== undefined) q = q.where('transactions.id', '<', filters.idBefore);
  return await q
    .orderBy('transactions.id', 'desc')
    .limit(limit + 1)
    .execute();
}

/** One transaction with its payment method's fields. */
export async function findTransactionWithPaymentMethod(
  db: Db,
  id: string,
): Promise<TransactionWithPaymentMethod | undefined> {
  return await baseQuery(db).where('transactions.id', '=', id).executeTakeFirst();
}

export async function transactionExists(db: Db, id: string): Promise<boolean> {
  return (await db.selectFrom('transactions').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}
