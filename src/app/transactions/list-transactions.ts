// GET /v1/transactions (filters, views, cursor pagination), GET one, and its history (L12).
// Lists are newest first unless `sort` says otherwise; `starting_after` takes the previous page's `next_cursor`: the
// last id shown for the orders by id (-created, created), the sort, the last row's key and id for the others.
import { NotFoundError } from '../../domain/errors.js';
import { parseDate } from '../../domain/fields.js';
import type { PaymentMethodLike } from '../../domain/to-fix.js';
import {
  findTransactionWithPaymentMethod,
  listTransactionsPage,
  type SortPosition,
  type TransactionEqualsColumn,
  type TransactionFilters,
  type TransactionSort,
  type TransactionViewName,
  type TransactionWithPaymentMethod,
  transactionExists,
} from '../../store/transaction-listings.js';
import { listHistory } from '../../store/transactions-repo.js';
import { type Deps, today } from '../deps.js';
import { cursorAfter, invalidCursor, type Page, pageOf, parseLimit } from '../pagination.js';
import { presentTransaction, type TransactionView } from './present.js';

// The views are SQL (store/transaction-listings.ts); their names are part of the API.
export {
  TRANSACTION_SORTS,
  TRANSACTION_VIEWS,
  type TransactionSort,
  type TransactionViewName,
} from '../../store/transaction-listings.js';

export interface ListTransactionsQuery {
  record_type?: string;
  status?: string;
  payment_status?: string;
  transaction_type?: string;
  payment_method_id?: string;
  account_id?: string;
  contact_id?: string;
  parent_id?: string;
  invoice_id?: string;
  schedule_id?: string;
  order_id?: string;
  original_transaction_id?: string;
  reattempt_of_id?: string;
  due_before?: string;
  due_after?: string;
  view?: TransactionViewName;
  sort?: TransactionSort;
  limit?: number;
  starting_after?: string;
}

type JoinedRow = TransactionWithPaymentMethod;

/** The joined payment method columns of a listed row, as the to-fix rule reads them (also the to_fix report). */
export function paymentMethodOf(
  row: Pick<JoinedRow, 'pm_type' | 'pm_status' | 'pm_exp_month' | 'pm_exp_year'>,
): PaymentMethodLike | null {
  if (row.pm_type === null || row.pm_status === null) return null;
  return {
    type: row.pm_type as PaymentMethodLike['type'],
    status: row.pm_status,
    exp_month: row.pm_exp_month,
    exp_year: row.pm_exp_year,
  };
}

// ---- the cursors of the sorted orders -------------------------------------------------------------------------------
//
// By id (-created, created) a cursor is the last id shown, as in every list. By amount or due date it is
// `v1.<sort>.<value>.<id>`: the sort it was made for, the last row's amount (an integer) or due date (YYYY-MM-DD, or
// `null` when it had none) and its id. A cursor is checked strictly before it is used: one of another sort, an id
// given to a sort by key, a key given to a sort by id or anything malformed is 400 invalid_cursor, never a page.

const TRANSACTION_ID = '(trx_[0-9a-z]{26})';
const AMOUNT_CURSOR = new RegExp(`^v1\\.(-?amount)\\.(-?[0-9]{1,16})\\.${TRANSACTION_ID}$`);
const DUE_DATE_CURSOR = new RegExp(`^v1\\.(-?due_date)\\.([0-9]{4}-[0-9]{2}-[0-9]{2}|null)\\.${TRANSACTION_ID}$`);

/** Whether `text` (YYYY-MM-DD) is a day of the calendar. */
function isCalendarDay(text: string): boolean {
  const [year, month, day] = text.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Where the page of `sort` after the cursor `startingAfter` starts (undefined: the first page). */
export function sortPositionAfter(startingAfter: string | undefined, sort: TransactionSort): SortPosition | undefined {
  if (startingAfter === undefined) return undefined;
  if (sort === '-created' || sort === 'created') return { id: cursorAfter(startingAfter, 'transaction')! };
  if (sort === 'amount' || sort === '-amount') {
    const match = AMOUNT_CURSOR.exec(startingAfter);
    const value = match ? Number(match[2]) : Number.NaN;
    if (!match || match[1] !== sort || !Number.isSafeInteger(value)) throw invalidCursor();
    return { id: match[3]!, value };
  }
  const match = DUE_DATE_CURSOR.exec(startingAfter);
  if (!match || match[1] !== sort) throw invalidCursor();
  const value = match[2]!;
  if (value !== 'null' && !isCalendarDay(value)) throw invalidCursor();
  return { id: match[3]!, value: value === 'null' ? null : value };
}

/** The next_cursor after `row` in `sort`. */
export function sortCursorOf(row: Pick<JoinedRow, 'id' | 'amount' | 'due_date'>, sort: TransactionSort): string {
  switch (sort) {
    case '-created':
    case 'created':
      return row.id;
    case 'amount':
    case '-amount':
      return `v1.${sort}.${row.amount}.${row.id}`;
    case 'due_date':
    case '-due_date':
      return `v1.${sort}.${row.due_date ?? 'null'}.${row.id}`;
  }
}

function toView(row: JoinedRow, day: string): TransactionView {
  const { pm_type: _t, pm_status: _s, pm_exp_month: _m, pm_exp_year: _y, ...transaction } = row;
  return presentTransaction(transaction, paymentMethodOf(row), day);
}

export async function listTransactions(deps: Deps, query: ListTransactionsQuery): Promise<Page<TransactionView>> {
  const day = await today(deps);
  const limit = parseLimit(query.limit);
  const dueBefore = query.due_before === undefined ? undefined : parseDate(query.due_before, 'due_before');
  const dueAfter = query.due_after === undefined ? undefined : parseDate(query.due_after, 'due_after');
  const equals: [TransactionEqualsColumn, string][] = [];
  const columns = [
    'record_type',
    'status',
    'payment_status',
    'transaction_type',
    'payment_method_id',
    'account_id',
    'contact_id',
    'parent_id',
    'invoice_id',
    'schedule_id',
    'order_id',
    'original_transaction_id',
    'reattempt_of_id',
  ] as const;
  for (const field of columns) {
    const value = query[field];
    if (value !== undefined) equals.push([field, value]);
  }
  const filters: TransactionFilters = { equals };
  if (dueBefore !== undefined) filters.dueBefore = dueBefore;
  if (dueAfter !== undefined) filters.dueAfter = dueAfter;
  if (query.view !== undefined) filters.view = query.view;
  const sort = query.sort ?? '-created';
  filters.sort = sort;
  const after = sortPositionAfter(query.starting_after, sort);
  if (after !== undefined) filters.after = after;
  const rows = await listTransactionsPage(deps.db, filters, day, limit);
  return pageOf(
    rows,
    limit,
    (row) => toView(row, day),
    (row) => sortCursorOf(row, sort),
  );
}

export async function getTransaction(deps: Deps, id: string): Promise<TransactionView> {
  const day = await today(deps);
  const row = await findTransactionWithPaymentMethod(deps.db, id);
  if (!row) throw new NotFoundError('transaction', id);
  return toView(row, day);
}

export interface HistoryEntry {
  id: number;
  object: 'transaction_history';
  transaction_id: string;
  at: string;
  actor: string;
  action: string;
  changes: Record<string, [unknown, unknown]>;
}

export async function getTransactionHistory(
  deps: Deps,
  id: string,
  requestedLimit: number | undefined,
  startingAfter?: string,
): Promise<Page<HistoryEntry>> {
  const limit = parseLimit(requestedLimit, 100);
  let after: number | undefined;
  if (startingAfter !== undefined) {
    if (!/^\d{1,15}$/.test(startingAfter)) throw invalidCursor();
    after = Number(startingAfter);
  }
  const rows = await listHistory(deps.db, id, limit, after);
  if (rows.length === 0 && after === undefined) {
    if (!(await transactionExists(deps.db, id))) throw new NotFoundError('transaction', id);
  }
  return pageOf(
    rows,
    limit,
    (r): HistoryEntry => ({
      id: r.id,
      object: 'transaction_history',
      transaction_id: r.transaction_id,
      at: r.at.toISOString(),
      actor: r.actor,
      action: r.action,
      changes: r.changes,
    }),
    (r) => String(r.id),
  );
}
