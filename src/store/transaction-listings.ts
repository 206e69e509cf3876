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

/**
 * The orders a page can be sorted in (GET /v1/transactions `sort`): a leading '-' is descending. Ties are broken by
 * id in the same direction; rows without a due date come last in both directions of due_date.
 */
export const TRANSACTION_SORTS = ['-created', 'created', 'amount', '-amount', 'due_date', '-due_date'] as const;
export type TransactionSort = (typeof TRANSACTION_SORTS)[number];

/** Where a page starts: after the row with this id (and, sorted by amount or due date, this value of the key). */
export interface SortPosition {
  id: string;
  /** The previous page's last amount (amount sorts) or due date (due_date sorts; null: it had none). */
  value?: number | string | null;
}

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
  | 'original_transaction_id'
  | 'reattempt_of_id';

export interface TransactionFilters {
  equals: readonly (readonly [TransactionEqualsColumn, string])[];
  /** Due (date_to_process, else due_date) before / after this day (YYYY-MM-DD). */
  dueBefore?: string;
  dueAfter?: string;
  view?: TransactionViewName;
  /** Newest first (by id) unless given. */
  sort?: TransactionSort;
  /** After this row in the sort's order (the previous page's last). */
  after?: SortPosition;
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

/** The filters' query, not yet ordered nor limited. */
function filteredQuery(db: Db, filters: TransactionFilters, day: string) {
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
  return q;
}

/** `(column, id) > (value, id)` (or `<`): a row comparison, which a btree index on (column, id) serves as a range. */
function rowAfter(column: 'amount' | 'due_date', cast: 'int8' | 'date', descending: boolean, after: SortPosition) {
  const op = sql.raw(descending ? '<' : '>');
  return sql<boolean>`(${sql.ref(`transactions.${column}`)}, transactions.id) ${op} (${after.value}::${sql.raw(cast)}, ${after.id}::text)`;
}

/**
 * A page of transactions in the filters' sort (newest first by default): `limit` of them and one more, to tell
 * whether more follow. `day` (today, YYYY-MM-DD) is what the views compare due dates and card expiry with.
 *
 * Each order is one an index can give, so that an unfiltered page stops after `limit + 1` rows of the index rather
 * than sorting the ledger: the primary key (id), transactions_amount_id (amount, id) and transactions_due_date_id
 * (due_date, id), migration 0024. A due-date page that reaches the rows without a due date (last in both
 * directions) reads them by a second query, `due_date IS NULL` in id order, since "nulls last" descending is not
 * the order a backward scan of that index gives.
 */
export async function listTransactionsPage(
  db: Db,
  filters: TransactionFilters,
  day: string,
  limit: number,
): Promise<TransactionWithPaymentMethod[]> {
  const sort = filters.sort ?? '-created';
  const descending = sort.startsWith('-');
  const direction = descending ? 'desc' : 'asc';
  const beyond = descending ? '<' : '>';
  const after = filters.after;
  const q = filteredQuery(db, filters, day);
  switch (sort) {
    case '-created':
    case 'created': {
      const page = after === undefined ? q : q.where('transactions.id', beyond, after.id);
      return await page
        .orderBy('transactions.id', direction)
        .limit(limit + 1)
        .execute();
    }
    case 'amount':
    case '-amount': {
      const page = after === undefined ? q : q.where(rowAfter('amount', 'int8', descending, after));
      return await page
        .orderBy('transactions.amount', direction)
        .orderBy('transactions.id', direction)
        .limit(limit + 1)
        .execute();
    }
    case 'due_date':
    case '-due_date': {
      let rows: TransactionWithPaymentMethod[] = [];
      if (after === undefined || after.value !== null) {
        let dated = q.where('transactions.due_date', 'is not', null);
        if (after !== undefined) dated = dated.where(rowAfter('due_date', 'date', descending, after));
        rows = await dated
          .orderBy('transactions.due_date', direction)
          .orderBy('transactions.id', direction)
          .limit(limit + 1)
          .execute();
        if (rows.length > limit) return rows;
      }
      let undated = q.where('transactions.due_date', 'is', null);
      if (after !== undefined && after.value === null) undated = undated.where('transactions.id', beyond, after.id);
      const rest = await undated
        .orderBy('transactions.id', direction)
        .limit(limit + 1 - rows.length)
        .execute();
      return [...rows, ...rest];
    }
  }
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
