// GET /v1/transactions (filters, views, cursor pagination), GET one, and its history (L12).
// Lists are newest first; `starting_after` takes the previous page's `next_cursor` (the last id shown).
import { NotFoundError } from '../../domain/errors.js';
import { parseDate } from '../../domain/fields.js';
import type { PaymentMethodLike } from '../../domain/to-fix.js';
import {
  findTransactionWithPaymentMethod,
  listTransactionsPage,
  type TransactionEqualsColumn,
  type TransactionFilters,
  type TransactionViewName,
  type TransactionWithPaymentMethod,
  transactionExists,
} from '../../store/transaction-listings.js';
import { listHistory } from '../../store/transactions-repo.js';
import { type Deps, today } from '../deps.js';
import { byId, cursorAfter, invalidCursor, type Page, pageOf, parseLimit } from '../pagination.js';
import { presentTransaction, type TransactionView } from './present.js';

// The views are SQL (store/transaction-listings.ts); their names are part of the API.
export { TRANSACTION_VIEWS, type TransactionViewName } from '../../store/transaction-listings.js';

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
  due_before?: string;
  due_after?: string;
  view?: TransactionViewName;
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
  ] as const;
  for (const field of columns) {
    const value = query[field];
    if (value !== undefined) equals.push([field, value]);
  }
  const filters: TransactionFilters = { equals };
  if (dueBefore !== undefined) filters.dueBefore = dueBefore;
  if (dueAfter !== undefined) filters.dueAfter = dueAfter;
  if (query.view !== undefined) filters.view = query.view;
  const after = cursorAfter(query.starting_after, 'transaction');
  if (after !== undefined) filters.idBefore = after;
  const rows = await listTransactionsPage(deps.db, filters, day, limit);
  return pageOf(rows, limit, (row) => toView(row, day), byId);
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
