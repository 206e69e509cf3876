// Orders (O1, O2, O5; migration 0022): what a storefront sold, with its currency and total; the transactions that pay
// it carry order_id. Creates take an Idempotency-Key like parents and invoices; there is no edit. An order is a totals
// owner (app/totals.ts), and shows its payment summaries (one per payment method) with their records. Summaries and
// records are made by the database at commit (settle_orders_commit), so this module only reads them: a read inside
// the writing database transaction sees them as they were before it, like totals.
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { parseText } from '../domain/fields.js';
import { parseAmount, parseCurrency } from '../domain/money.js';
import { findAccountId } from '../store/references-repo.js';
import {
  findOrderRow,
  findSummaryRow,
  insertOrder,
  listOrderRows,
  recordRowsOfSummaries,
  summaryRowsOfOrders,
} from '../store/orders-repo.js';
import type {
  Db,
  OrderPaymentRecordRow,
  OrderPaymentSummaryRow,
  OrderRecordKind,
  OrderRecordStatus,
  OrderRow,
  ProcessingMode,
  Tx,
} from '../store/schema.js';
import { createMetadata, iso, optional } from './customers.js';
import type { Deps, RequestContext } from './deps.js';
import { type GatewayLogQuery, listGatewayLogs } from './gateway-log-queries.js';
import type { GatewayLogView } from './gateway-log.js';
import { newId } from './ids.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';
import { type TotalsEntryView, totalsByOwner } from './totals.js';

const EXTERNAL_ID_MAX = 200;
const DESCRIPTION_MAX = 1000;

/** A payment authorization, payment or refund of an order (opr_), as the API shows it. */
export interface PaymentRecordView {
  id: string;
  object: 'order_payment_record';
  kind: OrderRecordKind;
  transaction_id: string;
  amount: number;
  status: OrderRecordStatus;
  result_code: string | null;
  gateway_ref_number: string | null;
  processing_mode: ProcessingMode;
  payment_intent: string | null;
  gateway_date: string | null;
  gateway_log_id: string | null;
  created_at: string;
}

/** One payment method's part of an order (ops_), its records split by kind, oldest first. */
export interface PaymentSummaryView {
  id: string;
  object: 'order_payment_summary';
  order_id: string;
  payment_method_id: string;
  currency: string;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  pending_amount: number;
  available_to_capture: number;
  available_to_refund: number;
  balance: number;
  authorizations: PaymentRecordView[];
  payments: PaymentRecordView[];
  refunds: PaymentRecordView[];
  created_at: string;
  updated_at: string;
}

export interface OrderView {
  id: string;
  object: 'order';
  external_id: string | null;
  account_id: string | null;
  currency: string;
  total: number;
  description: string | null;
  metadata: Record<string, string>;
  totals: TotalsEntryView[];
  payment_summaries: PaymentSummaryView[];
  created_at: string;
  updated_at: string;
}

function presentRecord(row: OrderPaymentRecordRow): PaymentRecordView {
  return {
    id: row.id,
    object: 'order_payment_record',
    kind: row.kind,
    transaction_id: row.transaction_id,
    // int8 columns arrive as numbers (store/database.ts); Number() keeps them so whatever the driver gives.
    amount: Number(row.amount),
    status: row.status,
    result_code: row.result_code,
    gateway_ref_number: row.gateway_ref_number,
    processing_mode: row.processing_mode,
    payment_intent: row.payment_intent,
    gateway_date: row.gateway_date === null ? null : iso(row.gateway_date),
    gateway_log_id: row.gateway_log_id,
    created_at: iso(row.created_at),
  };
}

function presentSummary(row: OrderPaymentSummaryRow, records: readonly OrderPaymentRecordRow[]): PaymentSummaryView {
  const ofKind = (kind: OrderRecordKind) => records.filter((r) => r.kind === kind).map(presentRecord);
  return {
    id: row.id,
    object: 'order_payment_summary',
    order_id: row.order_id,
    payment_method_id: row.payment_method_id,
    currency: row.currency,
    authorized_amount: Number(row.authorized_amount),
    captured_amount: Number(row.captured_amount),
    refunded_amount: Number(row.refunded_amount),
    pending_amount: Number(row.pending_amount),
    available_to_capture: Number(row.available_to_capture),
    available_to_refund: Number(row.available_to_refund),
    balance: Number(row.balance),
    authorizations: ofKind('authorization'),
    payments: ofKind('payment'),
    refunds: ofKind('refund'),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** The summaries given, each with its records: the records of all of them in one query. */
async function presentSummaries(
  db: Db | Tx,
  summaries: readonly OrderPaymentSummaryRow[],
): Promise<PaymentSummaryView[]> {
  const records = await recordRowsOfSummaries(
    db,
    summaries.map((s) => s.id),
  );
  const bySummary = new Map<string, OrderPaymentRecordRow[]>();
  for (const record of records) {
    const list = bySummary.get(record.summary_id);
    if (list) list.push(record);
    else bySummary.set(record.summary_id, [record]);
  }
  return summaries.map((s) => presentSummary(s, bySummary.get(s.id) ?? []));
}

/** The summaries of several orders with their records, in two queries whatever the number of orders. */
async function summariesByOrder(db: Db | Tx, orderIds: readonly string[]): Promise<Map<string, PaymentSummaryView[]>> {
  const views = await presentSummaries(db, await summaryRowsOfOrders(db, orderIds));
  const byOrder = new Map<string, PaymentSummaryView[]>(orderIds.map((id) => [id, []]));
  for (const view of views) byOrder.get(view.order_id)?.push(view);
  return byOrder;
}

function presentOrder(row: OrderRow, totals: TotalsEntryView[], paymentSummaries: PaymentSummaryView[]): OrderView {
  return {
    id: row.id,
    object: 'order',
    external_id: row.external_id,
    account_id: row.account_id,
    currency: row.currency,
    total: Number(row.total),
    description: row.description,
    metadata: row.metadata,
    totals,
    payment_summaries: paymentSummaries,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** The orders as the API shows them: their totals in one query, their summaries and records in two. */
async function presentOrders(db: Db | Tx, rows: readonly OrderRow[]): Promise<OrderView[]> {
  const ids = rows.map((r) => r.id);
  // One after the other: inside a database transaction the queries share its one connection anyway.
  const totals = await totalsByOwner(db, ids);
  const summaries = await summariesByOrder(db, ids);
  return rows.map((row) => presentOrder(row, totals.get(row.id) ?? [], summaries.get(row.id) ?? []));
}

/** The order, or 404 (on `param` when given: the request field that named it). */
export async function requireOrder(db: Db | Tx, id: string, param?: string): Promise<OrderRow> {
  const row = await findOrderRow(db, id);
  if (!row) throw new NotFoundError('order', id, param);
  return row;
}

/** The GET /v1/orders/{id} body (404 unknown). */
export async function orderView(db: Db | Tx, id: string): Promise<OrderView> {
  const [view] = await presentOrders(db, [await requireOrder(db, id)]);
  return view!;
}

/** The payment summaries of an order, each with its records, oldest first (two queries). */
export async function summaryViews(db: Db | Tx, orderId: string): Promise<PaymentSummaryView[]> {
  return (await summariesByOrder(db, [orderId])).get(orderId) ?? [];
}

export interface CreateOrderInput {
  external_id?: string | null;
  account_id?: string | null;
  currency?: unknown;
  total?: unknown;
  description?: string | null;
  metadata?: Record<string, unknown>;
}

/**
 * POST /v1/orders. An unknown account is a 400 unknown_account (checked in the database transaction); a second order
 * with the same external_id, however close together the two requests, is the unique constraint's 409 order_exists
 * (store/constraint-errors.ts).
 */
export async function createOrder(deps: Deps, ctx: RequestContext, input: CreateOrderInput) {
  const values = {
    external_id: optional(input.external_id, (v) => parseText(v, 'external_id', EXTERNAL_ID_MAX)) ?? null,
    account_id: input.account_id ?? null,
    currency: parseCurrency(input.currency, 'currency'),
    total: parseAmount(input.total, 'total', 'non_negative'),
    description: optional(input.description, (v) => parseText(v, 'description', DESCRIPTION_MAX)) ?? null,
    metadata: createMetadata(input.metadata),
  };
  return deps.commands.run<OrderView>(ctx.idempotency, async (trx) => {
    if (values.account_id !== null && !(await findAccountId(trx, values.account_id))) {
      throw new ValidationError('unknown_account', `No account with id '${values.account_id}'.`, 'account_id');
    }
    const now = deps.clock.now();
    const row = await insertOrder(trx, {
      id: newId('order', now.getTime()),
      ...values,
      created_at: now,
      updated_at: now,
    });
    // A new order has no transactions: no totals and no payment summaries yet.
    return { status: 201, body: presentOrder(row, [], []) };
  });
}

export async function getOrder(deps: Deps, id: string): Promise<OrderView> {
  return orderView(deps.db, id);
}

export interface ListOrdersQuery {
  account_id?: string;
  external_id?: string;
  limit?: number;
  starting_after?: string;
}

/** Newest first, filtered by account_id and external_id; the page's totals, summaries and records in three queries. */
export async function listOrders(deps: Deps, query: ListOrdersQuery): Promise<Page<OrderView>> {
  const limit = parseLimit(query.limit);
  const after = cursorAfter(query.starting_after, 'order');
  const rows = await listOrderRows(deps.db, {
    account_id: query.account_id,
    external_id: query.external_id,
    after,
    limit,
  });
  const page = pageOf(rows, limit, (row) => row, byId);
  return { ...page, data: await presentOrders(deps.db, page.data) };
}

/** GET /v1/orders/{id}/payment-summaries: the order's summaries with their records (404 unknown order). */
export async function listOrderSummaries(deps: Deps, orderId: string): Promise<Page<PaymentSummaryView>> {
  await requireOrder(deps.db, orderId);
  return { object: 'list', data: await summaryViews(deps.db, orderId), has_more: false, next_cursor: null };
}

/** The summary, or 404. */
export async function requireSummary(db: Db | Tx, id: string): Promise<OrderPaymentSummaryRow> {
  const row = await findSummaryRow(db, id);
  if (!row) throw new NotFoundError('payment summary', id);
  return row;
}

/** GET /v1/payment-summaries/{id}: one summary with its records (404 unknown). */
export async function getSummary(deps: Deps, id: string): Promise<PaymentSummaryView> {
  const [view] = await presentSummaries(deps.db, [await requireSummary(deps.db, id)]);
  return view!;
}

type LogQuery = Omit<GatewayLogQuery, 'transaction_id' | 'order_payment_summary_id' | 'order_id'>;

/** The gateway log rows of an order's summaries, newest first, with the filters of GET /v1/gateway-logs. */
export async function listOrderGatewayLogs(
  deps: Deps,
  orderId: string,
  query: LogQuery,
): Promise<Page<GatewayLogView>> {
  await requireOrder(deps.db, orderId);
  return listGatewayLogs(deps, { ...query, order_id: orderId });
}

/** The gateway log rows of one summary, newest first, with the filters of GET /v1/gateway-logs. */
export async function listSummaryGatewayLogs(
  deps: Deps,
  summaryId: string,
  query: LogQuery,
): Promise<Page<GatewayLogView>> {
  await requireSummary(deps.db, summaryId);
  return listGatewayLogs(deps, { ...query, order_payment_summary_id: summaryId });
}
