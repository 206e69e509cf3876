// The gateway log's writes (P13). A call's log rows are inserted in one statement, every row from one JSON
// parameter: as a write alongside tx2's compare-and-set they commit with the call's outcome; else on their own.
import type { Kysely, Transaction } from 'kysely';
import { everyColumn, rowsJson, selectFromJson } from './json-rows.js';
import type { Database, NewGatewayLogRow } from './schema.js';
import type { AlongsideWrite } from './transactions-repo.js';

const GATEWAY_LOG_COLUMNS = everyColumn<'gateway_logs'>()([
  'id', 'gateway_id', 'transaction_id', 'interaction_type', 'interaction_status', 'result_code', 'gateway_ref_number', 'gateway_auth_code',
  'gateway_date', 'gateway_message', 'gateway_result_code', 'gateway_result_code_description', 'idempotency_key', 'is_notification',
  'http_method', 'http_path', 'http_status', 'request_id', 'request_body', 'response_body', 'latency_ms', 'created_at',
]);

/** A log row with every column given; the bodies as JSON values (not text): they travel inside the JSON parameter. */
export type GatewayLogJsonRow = { readonly [K in (typeof GATEWAY_LOG_COLUMNS)[number]]: unknown };

/** The records' insert as a write alongside a compare-and-set (only when it applies, in the same statement). */
export function gatewayLogsAlongside(records: readonly GatewayLogJsonRow[]): AlongsideWrite {
  const json = rowsJson(GATEWAY_LOG_COLUMNS, records);
  return (q) => q.insertInto('gateway_logs').columns(GATEWAY_LOG_COLUMNS).expression(selectFromJson('gateway_logs', GATEWAY_LOG_COLUMNS, json, { gate: 'updated' }));
}

export async function insertGatewayLogRecords(db: Kysely<Database> | Transaction<Database>, records: readonly GatewayLogJsonRow[]): Promise<void> {
  if (records.length === 0) return;
  const json = rowsJson(GATEWAY_LOG_COLUMNS, records);
  await db.insertInto('gateway_logs').columns(GATEWAY_LOG_COLUMNS).expression(selectFromJson('gateway_logs', GATEWAY_LOG_COLUMNS, json)).execute();
}

/** One row, its bodies as JSON text. */
export async function insertGatewayLogRow(db: Kysely<Database>, row: NewGatewayLogRow): Promise<void> {
  await db.insertInto('gateway_logs').values(row).execute();
}
