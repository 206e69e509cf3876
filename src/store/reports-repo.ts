// The reads behind GET /v1/reports/{name} (app/reports.ts): each report is one or two statements, aggregated by the
// database where it can be. Which transactions a report counts is the list views' definition where one exists
// (transaction-listings.ts: `failed`, `scheduled`, `to_fix`), so a report and the list it summarises agree.
import { sql } from 'kysely';
import type { Db } from './schema.js';
import type { RecordType } from '../domain/transaction-state.js';
import { transactionViewCondition } from './transaction-listings.js';

/** One month and currency of revenue (minor units of `currency`). */
export interface RevenueMonthRow {
  month: string;
  currency: string;
  captured_amount: number;
  refunded_amount: number;
  /** Captured charges processed in the month. */
  count: number;
  /** Completed refunds of charges processed in the month. */
  refund_count: number;
}

/**
 * Captured amounts of charges (record_type charge, transaction_type normal, gateway and non-gateway alike) by the month
 * of their `processed_at`, and refunds of such charges by the month of the refund's own `processed_at`, both in
 * `timeZone`. Only completed rows count: a charge's captured amount is what it kept being captured (a refunded or
 * disputed charge is still `completed`); a refund's `amount` is stored negative (transactions_refund_sign), so its
 * refunded amount is `-amount`. Write-offs are not revenue and their reversals (refunds whose original is a write-off)
 * are not refunds of revenue: neither counts. One statement.
 */
export async function revenueByMonth(db: Db, timeZone: string): Promise<RevenueMonthRow[]> {
  const rows = await sql<Record<string, string | number>>`
    with moves as (
      select to_char(t.processed_at at time zone ${timeZone}, 'YYYY-MM') as month, t.currency,
        t.captured_amount as captured, 0::int8 as refunded, 1 as charges, 0 as refunds
      from transactions t
      where t.record_type = 'charge' and t.transaction_type = 'normal' and t.status = 'completed'
        and t.captured_amount > 0 and t.processed_at is not null
      union all
      select to_char(r.processed_at at time zone ${timeZone}, 'YYYY-MM'), r.currency, 0::int8, -r.amount, 0, 1
      from transactions r join transactions o on o.id = r.original_transaction_id
      where r.record_type = 'charge' and r.transaction_type = 'refund' and r.status = 'completed'
        and r.processed_at is not null and o.transaction_type = 'normal'
    )
    select month, currency, sum(captured)::int8 as captured_amount, sum(refunded)::int8 as refunded_amount,
      sum(charges)::int8 as count, sum(refunds)::int8 as refund_count
    from moves group by month, currency order by month, currency`.execute(db);
  return rows.rows.map((r) => ({
    month: String(r.month),
    currency: String(r.currency),
    captured_amount: Number(r.captured_amount),
    refunded_amount: Number(r.refunded_amount),
    count: Number(r.count),
    refund_count: Number(r.refund_count),
  }));
}

export interface FailedRow {
  id: string;
  record_type: string;
  transaction_type: string;
  amount: number;
  currency: string;
  error_code: string | null;
  decline_code: string | null;
  error_message: string | null;
  account_id: string | null;
  payment_method_id: string | null;
  failed_at: Date;
}

/**
 * The `failed` view's transactions that failed in [from, to): when they failed is `processed_at` (every path that
 * fails a transaction sets it), else `updated_at` (a row failed by hand, for data repair). Oldest first.
 */
export async function failedBetween(db: Db, from: Date, to: Date, day: string): Promise<FailedRow[]> {
  const failedAt = sql<Date>`coalesce(transactions.processed_at, transactions.updated_at)`;
  return await db
    .selectFrom('transactions')
    .leftJoin('payment_methods as pm', 'pm.id', 'transactions.payment_method_id')
    .select([
      'transactions.id',
      'transactions.record_type',
      'transactions.transaction_type',
      'transactions.amount',
      'transactions.currency',
      'transactions.error_code',
      'transactions.decline_code',
      'transactions.error_message',
      'transactions.account_id',
      'transactions.payment_method_id',
      failedAt.as('failed_at'),
    ])
    .where((eb) => transactionViewCondition(eb, 'failed', day))
    .where(failedAt, '>=', from)
    .where(failedAt, '<', to)
    .orderBy(failedAt)
    .orderBy('transactions.id')
    .execute();
}

export interface DueDayRow {
  due_date: string;
  currency: string;
  count: number;
  amount: number;
}

/**
 * The `scheduled` view's charges (open, auto-process, due today or later) due from `first` to `last` (YYYY-MM-DD),
 * per due day (date_to_process, else due_date: the day the daily charges job takes them) and currency. Only charges
 * of type normal: what is due to come in. Days with nothing due have no row. One statement.
 */
export async function dueBetween(db: Db, first: string, last: string): Promise<DueDayRow[]> {
  const due = sql<string>`coalesce(transactions.date_to_process, transactions.due_date)`;
  const rows = await db
    .selectFrom('transactions')
    .leftJoin('payment_methods as pm', 'pm.id', 'transactions.payment_method_id')
    .select([
      sql<string>`${due}::text`.as('due_date'),
      'transactions.currency',
      sql<string>`count(*)`.as('count'),
      sql<string>`sum(transactions.amount)`.as('amount'),
    ])
    .where((eb) => transactionViewCondition(eb, 'scheduled', first))
    .where('transactions.record_type', '=', 'charge')
    .where('transactions.transaction_type', '=', 'normal')
    .where(due, '<=', last)
    .groupBy([due, 'transactions.currency'])
    .orderBy(due)
    .orderBy('transactions.currency')
    .execute();
  return rows.map((r) => ({
    due_date: r.due_date,
    currency: r.currency,
    count: Number(r.count),
    amount: Number(r.amount),
  }));
}

/** What the to-fix rules (domain/to-fix.ts computeToFix) read of a transaction and its payment method. */
export interface ToFixRow {
  record_type: RecordType;
  status: string;
  auto_process: boolean;
  due_date: string | null;
  date_to_process: string | null;
  payment_method_id: string | null;
  connected_account_id: string | null;
  pm_type: string | null;
  pm_status: string | null;
  pm_exp_month: number | null;
  pm_exp_year: number | null;
}

/** The `to_fix` view's transactions, with what the rules read (the messages are the domain's to compute). */
export async function toFixRows(db: Db, day: string): Promise<ToFixRow[]> {
  return await db
    .selectFrom('transactions')
    .leftJoin('payment_methods as pm', 'pm.id', 'transactions.payment_method_id')
    .select([
      'transactions.record_type',
      'transactions.status',
      'transactions.auto_process',
      'transactions.due_date',
      'transactions.date_to_process',
      'transactions.payment_method_id',
      'transactions.connected_account_id',
      'pm.type as pm_type',
      'pm.status as pm_status',
      'pm.exp_month as pm_exp_month',
      'pm.exp_year as pm_exp_year',
    ])
    .where((eb) => transactionViewCondition(eb, 'to_fix', day))
    .execute();
}
