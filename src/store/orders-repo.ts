// Orders (O1-O5, migration 0022; the use cases are app/orders.ts): the insert, the reads, the list, and the lock that
// serialises the money actions of one order. Payment summaries and records are made by the database at commit
// (settle_orders_commit): nothing here writes them, this module only reads them.
import { type Insertable, sql } from 'kysely';
import type { Db, OrderPaymentRecordRow, OrderPaymentSummaryRow, OrderRow, OrdersTable, Tx } from './schema.js';

export function insertOrder(db: Db | Tx, row: Insertable<OrdersTable>): Promise<OrderRow> {
  return db.insertInto('orders').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findOrderRow(db: Db | Tx, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Serialises the money actions of one order (checkout attaches, captures, refunds) until the end of the database
 * transaction: a transaction-scoped advisory lock on the order id, taken first, so each action sees the ones before
 * it (their summaries are moved at their commit). It is taken before any row lock, and the summaries and totals are
 * locked only at commit, so it never closes a cycle with them (as lockInvoicePayments in invoices-repo.ts).
 */
export async function lockOrder(trx: Tx, orderId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`settle_order:${orderId}`}, 0))`.execute(trx);
}

export interface OrderListQuery {
  account_id?: string | undefined;
  external_id?: string | undefined;
  after?: string | undefined;
  limit: number;
}

/**
 * A page of orders, newest first (one more than `limit`, to tell whether more follow). external_id is unique
 * (orders_external_id_key); account_id has its own index (orders_account).
 */
export function listOrderRows(db: Db | Tx, query: OrderListQuery): Promise<OrderRow[]> {
  let q = db.selectFrom('orders').selectAll();
  if (query.account_id !== undefined) q = q.where('account_id', '=', query.account_id);
  if (query.external_id !== undefined) q = q.where('external_id', '=', query.external_id);
  if (query.after !== undefined) q = q.where('id', '<', query.after);
  return q
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
}

export function findSummaryRow(db: Db | Tx, id: string): Promise<OrderPaymentSummaryRow | undefined> {
  return db.selectFrom('order_payment_summaries').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The summaries of the orders asked for, oldest first (a summary's id follows its first transaction's). */
export function summaryRowsOfOrders(db: Db | Tx, orderIds: readonly string[]): Promise<OrderPaymentSummaryRow[]> {
  if (orderIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('order_payment_summaries')
    .selectAll()
    .where('order_id', 'in', orderIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** The records of the summaries asked for, in one query, oldest first (the index order_payment_records_summary). */
export function recordRowsOfSummaries(db: Db | Tx, summaryIds: readonly string[]): Promise<OrderPaymentRecordRow[]> {
  if (summaryIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('order_payment_records')
    .selectAll()
    .where('summary_id', 'in', summaryIds)
    .orderBy('summary_id')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/**
 * Issue 20 (checkout payments, app/order-payments.ts): what the order's charges already hold, to refuse a payment
 * that would take it past its total. Each normal charge on the order that did not fail, was not canceled and was not
 * released uncaptured counts what it holds: captured when captured, else authorized, else its amount (open or
 * pending). Read under lockOrder, so the other attaches of the order are committed or not started.
 */
export async function orderChargesAmount(trx: Tx, orderId: string): Promise<number> {
  const row = await trx
    .selectFrom('transactions')
    .select(
      sql<string>`coalesce(sum(case when captured_amount > 0 then captured_amount
        when authorized_amount > 0 then authorized_amount else amount end), 0)`.as('held'),
    )
    .where('order_id', '=', orderId)
    .where('record_type', '=', 'charge')
    .where('transaction_type', '=', 'normal')
    .where('status', 'not in', ['failed', 'canceled'])
    .where((eb) => eb.or([eb('payment_status', 'is', null), eb('payment_status', '!=', 'uncaptured')]))
    .executeTakeFirstOrThrow();
  return Number(row.held);
}
