// GET /v1/transactions (filters, views, cursor pagination), GET one, and its history (L12).
// Lists are newest first; `starting_after` takes the previous page's `next_cursor` (the last id shown).
import { type ExpressionBuilder, type Kysely, sql, type Transaction } from 'kysely';
import { NotFoundError } from '../../domain/errors.js';
import { parseDate } from '../../domain/fields.js';
import type { PaymentMethodLike } from '../../domain/to-fix.js';
import type { Database, TransactionRow } from '../../store/schema.js';
import { listHistory } from '../../store/transactions-repo.js';
import { type Deps, today } from '../deps.js';
import { byId, cursorAfter, invalidCursor, type Page, pageOf, parseLimit } from '../pagination.js';
import { presentTransaction, type TransactionView } from './present.js';

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

export interface ListTransactionsQuery {
  record_type?: string;
  status?: string;
  payment_status?: string;
  transaction_type?: string;
  payment_method_id?: string;
  account_id?: string;
  contact_id?: string;
  original_transaction_id?: string;
  due_before?: string;
  due_after?: string;
  view?: TransactionViewName;
  limit?: number;
  starting_after?: string;
}

type Db = Kysely<Database> | Transaction<Database>;
type Eb = ExpressionBuilder<Database & { pm: Database['payment_methods'] }, 'transactions' | 'pm'>;

const due = sql<string>`coalesce(transactions.date_to_process, transactions.due_date)`;

function baseQuery(db: Db) {
  return db
    .selectFrom('transactions')
    .leftJoin('payment_methods as pm', 'pm.id', 'transactions.payment_method_id')
    .selectAll('transactions')
    .select(['pm.type as pm_type', 'pm.status as pm_status', 'pm.exp_month as pm_exp_month', 'pm.exp_year as pm_exp_year']);
}

type JoinedRow = TransactionRow & { pm_type: string | null; pm_status: string | null; pm_exp_month: number | null; pm_exp_year: number | null };

function paymentMethodOf(row: JoinedRow): PaymentMethodLike | null {
  if (row.pm_type === null || row.pm_status === null) return null;
  return { type: row.pm_type as PaymentMethodLike['type'], status: row.pm_status, exp_month: row.pm_exp_month, exp_year: row.pm_exp_year };
}

function toView(row: JoinedRow, day: string): TransactionView {
  const { pm_type: _t, pm_status: _s, pm_exp_month: _m, pm_exp_year: _y, ...transaction } = row;
  return presentTransaction(transaction, paymentMethodOf(row), day);
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
      eb.and([eb('transactions.auto_process', '=', true), eb('transactions.due_date', 'is', null), eb('transactions.date_to_process', 'is', null)]),
      paymentMethodUnusable(eb, day),
      eb.and([eb('transactions.auto_process', '=', true), eb('transactions.record_type', '=', 'charge'), eb('transactions.payment_method_id', 'is', null)]),
      eb.and([eb('transactions.auto_process', '=', true), eb('transactions.record_type', '=', 'transfer')]),
      eb.and([eb('transactions.auto_process', '=', true), eb('transactions.record_type', '=', 'payout'), eb('transactions.payment_method_id', 'is', null)]),
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
      return eb.and([eb('transactions.status', '=', 'completed'), eb('transactions.payment_status', '=', 'authorized')]);
    case 'refunds':
      return eb('transactions.transaction_type', '=', 'refund');
    case 'scheduled_reattempts':
      return eb.and([open, eb('transactions.reattempt_of_id', 'is not', null)]);
  }
}

export async function listTransactions(deps: Deps, query: ListTransactionsQuery): Promise<Page<TransactionView>> {
  const day = await today(deps);
  const limit = parseLimit(query.limit);
  const dueBefore = query.due_before === undefined ? undefined : parseDate(query.due_before, 'due_before');
  const dueAfter = query.due_after === undefined ? undefined : parseDate(query.due_after, 'due_after');
  let q = baseQuery(deps.db);
  const equals = ['record_type', 'status', 'payment_status', 'transaction_type', 'payment_method_id', 'account_id', 'contact_id', 'original_transaction_id'] as const;
  for (const field of equals) {
    const value = query[field];
    if (value !== undefined) q = q.where(`transactions.${field}`, '=', value);
  }
  if (dueBefore !== undefined) q = q.where(due, '<', dueBefore);
  if (dueAfter !== undefined) q = q.where(due, '>', dueAfter);
  if (query.view !== undefined) {
    const view = query.view;
    q = q.where((eb) => viewFilter(eb as unknown as Eb, view, day));
  }
  const after = cursorAfter(query.starting_after, 'transaction');
  if (after !== undefined) q = q.where('transactions.id', '<', after);
  const rows = (await q.orderBy('transactions.id', 'desc').limit(limit + 1).execute()) as JoinedRow[];
  return pageOf(rows, limit, (row) => toView(row, day), byId);
}

export async function getTransaction(deps: Deps, id: string): Promise<TransactionView> {
  const day = await today(deps);
  const row = (await baseQuery(deps.db).where('transactions.id', '=', id).executeTakeFirst()) as JoinedRow | undefined;
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

export async function getTransactionHistory(deps: Deps, id: string, requestedLimit: number | undefined, startingAfter?: string): Promise<Page<HistoryEntry>> {
  const limit = parseLimit(requestedLimit, 100);
  let after: number | undefined;
  if (startingAfter !== undefined) {
    if (!/^\d{1,15}$/.test(startingAfter)) throw invalidCursor();
    after = Number(startingAfter);
  }
  const rows = await listHistory(deps.db, id, limit, after);
  if (rows.length === 0 && after === undefined) {
    const exists = await deps.db.selectFrom('transactions').select('id').where('id', '=', id).executeTakeFirst();
    if (!exists) throw new NotFoundError('transaction', id);
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
