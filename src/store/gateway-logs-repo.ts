// The gateway log's writes (P13). A call's log rows are inserted in one statement, every row from one JSON
// parameter: as a write alongside tx2's compare-and-set they commit with the call's outcome; else on their own.
// And its reads: one row, and a filtered page (GET /v1/gateway_logs).
import { type Kysely, sql, type Transaction } from 'kysely';
import { everyColumn, rowsJson, selectFromJson } from './json-rows.js';
import type { Database, GatewayLogRow, NewGatewayLogRow } from './schema.js';
import type { AlongsideWrite } from './transactions-repo.js';

const GATEWAY_LOG_COLUMNS = everyColumn<'gateway_logs'>()([
  'id',
  'gateway_id',
  'transaction_id',
  'interaction_type',
  'interaction_status',
  'result_code',
  'gateway_ref_number',
  'gateway_auth_code',
  'gateway_date',
  'gateway_message',
  'gateway_result_code',
  'gateway_result_code_description',
  'idempotency_key',
  'is_notification',
  'http_method',
  'http_path',
  'http_status',
  'request_id',
  'request_body',
  'response_body',
  'latency_ms',
  'created_at',
  'order_payment_summary_id',
]);

/** A log row with every column given; the bodies as JSON values (not text): they travel inside the JSON parameter. */
export type GatewayLogJsonRow = { readonly [K in (typeof GATEWAY_LOG_COLUMNS)[number]]: unknown };

/** The records' insert as a write alongside a compare-and-set (only when it applies, in the same statement). */
export function gatewayLogsAlongside(records: readonly GatewayLogJsonRow[]): AlongsideWrite {
  const json = rowsJson(GATEWAY_LOG_COLUMNS, records);
  return (q) =>
    q
      .insertInto('gateway_logs')
      .columns(GATEWAY_LOG_COLUMNS)
      .expression(selectFromJson('gateway_logs', GATEWAY_LOG_COLUMNS, json, { gate: 'updated' }));
}

export async function insertGatewayLogRecords(
  db: Kysely<Database> | Transaction<Database>,
  records: readonly GatewayLogJsonRow[],
): Promise<void> {
  if (records.length === 0) return;
  const json = rowsJson(GATEWAY_LOG_COLUMNS, records);
  await db
    .insertInto('gateway_logs')
    .columns(GATEWAY_LOG_COLUMNS)
    .expression(selectFromJson('gateway_logs', GATEWAY_LOG_COLUMNS, json))
    .execute();
}

/** One row, its bodies as JSON text. */
export async function insertGatewayLogRow(db: Kysely<Database>, row: NewGatewayLogRow): Promise<void> {
  await db.insertInto('gateway_logs').values(row).execute();
}

export function findGatewayLog(db: Kysely<Database>, id: string): Promise<GatewayLogRow | undefined> {
  return db.selectFrom('gateway_logs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Columns a page of the gateway log can be filtered on by equality. */
export type GatewayLogExactColumn =
  | 'transaction_id'
  | 'gateway_id'
  | 'interaction_type'
  | 'interaction_status'
  | 'result_code'
  | 'gateway_ref_number'
  | 'gateway_auth_code'
  | 'gateway_result_code'
  | 'idempotency_key'
  | 'http_method'
  | 'request_id'
  | 'order_payment_summary_id';
/** Columns matched as a case-insensitive pattern. */
export type GatewayLogTextColumn = 'gateway_message' | 'gateway_result_code_description';

/** A page's filters, already checked; patterns are ILIKE patterns (the caller escapes what it means literally). */
export interface GatewayLogFilters {
  exact: readonly (readonly [GatewayLogExactColumn, string])[];
  ilike: readonly (readonly [GatewayLogTextColumn, string])[];
  requestBodyIlike?: string;
  responseBodyIlike?: string;
  isNotification?: boolean;
  httpStatus?: number;
  gatewayDateAfter?: Date;
  gatewayDateBefore?: Date;
  createdAfter?: Date;
  createdBefore?: Date;
  minLatencyMs?: number;
  maxLatencyMs?: number;
  /** Ids below this one (the previous page's last). */
  idBefore?: string;
  /** Rows of any payment summary of this order (migration 0022: the log row names its summary). */
  orderId?: string;
}

/** A page of log rows, newest first: `limit` of them and one more, to tell whether more follow. */
export function listGatewayLogsPage(
  db: Kysely<Database>,
  filters: GatewayLogFilters,
  limit: number,
): Promise<GatewayLogRow[]> {
  let q = db.selectFrom('gateway_logs').selectAll();
  for (const [column, value] of filters.exact) q = q.where(column, '=', value);
  for (const [column, pattern] of filters.ilike) q = q.where(column, 'ilike', pattern);
  if (filters.requestBodyIlike !== undefined)
    q = q.where(sql<string>`request_body::text`, 'ilike', filters.requestBodyIlike);
  if (filters.responseBodyIlike !== undefined)
    q = q.where(sql<string>`response_body::text`, 'ilike', filters.responseBodyIlike);
  if (filters.isNotification !== undefined) q = q.where('is_notification', '=', filters.isNotification);
  if (filters.httpStatus !== undefined) q = q.where('http_status', '=', filters.httpStatus);
  if (filters.gatewayDateAfter !== undefined) q = q.where('gateway_date', '>', filters.gatewayDateAfter);
  if (filters.gatewayDateBefore !== undefined) q = q.where('gateway_date', '<', filters.gatewayDateBefore);
  if (filters.createdAfter !== undefined) q = q.where('created_at', '>', filters.createdAfter);
  if (filters.createdBefore !== undefined) q = q.where('created_at', '<', filters.createdBefore);
  if (filters.minLatencyMs !== undefined) q = q.where('latency_ms', '>=', filters.minLatencyMs);
  if (filters.maxLatencyMs !== undefined) q = q.where('latency_ms', '<=', filters.maxLatencyMs);
  if (filters.idBefore !== undefined) q = q.where('id', '<', filters.idBefore);
  if (filters.orderId !== undefined) {
    const orderId = filters.orderId;
    q = q.where('order_payment_summary_id', 'in', (eb) =>
      eb.selectFrom('order_payment_summaries').select('id').where('order_id', '=', orderId),
    );
  }
  return q
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
}
