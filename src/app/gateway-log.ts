// The gateway log (P13): one row per interaction with a gateway, with the fields of a Salesforce-style Payment
// Gateway Log (interaction type and status, Settle's result code, the gateway's reference, auth code, date,
// message and result code), our idempotency key (the "SfRefNumber"), the HTTP exchange with secrets removed,
// its latency, and the transaction it refers to. Adapters produce entries (gateway-adapters/stripe/exchange-log.ts);
// the writer stores them; the list and get use cases serve /v1/gateway-logs.
//
// A log write never makes a gateway call fail: database errors are reported to the logger and swallowed.
import { AsyncLocalStorage } from 'node:async_hooks';
import { NotFoundError } from '../domain/errors.js';
import type { Db, GatewayLogRow, NewGatewayLogRow } from '../store/schema.js';
import {
  findGatewayLog,
  gatewayLogsAlongside as logsAlongside,
  insertGatewayLogRecords,
  insertGatewayLogRow,
} from '../store/gateway-logs-repo.js';
import type { AlongsideWrite } from '../store/transactions-repo.js';
import { newId } from './ids.js';

// ---- secrets -------------------------------------------------------------------------------------------------
// Removing secrets from what Settle stores about gateway traffic (P13, X3). Applied to keys and values alike:
// - API keys and webhook secrets: sk_test_/sk_live_/rk_test_/rk_live_ keys, whsec_ signing secrets (also the
//   masked forms Stripe echoes in error messages, e.g. "sk_test_****1234");
// - client secrets: a field named client_secret (or ending in _secret, or named password), and any value
//   shaped like one (pi_..._secret_..., seti_..._secret_...);
// - card-like numbers: runs of 12 to 19 digits, optionally separated by single spaces or dashes.
// Numbers (amounts, timestamps) are left alone: card numbers only ever travel as strings.

export const REDACTED = '[redacted]';

const SECRET_PATTERNS: readonly RegExp[] = [
  /\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9_*]*/g,
  /\bwhsec_[A-Za-z0-9_*]*/g,
  /\b[a-z]{2,5}_[A-Za-z0-9]+_secret_[A-Za-z0-9]+/g,
  /(?<![A-Za-z0-9_])\d(?:[ -]?\d){11,18}(?![A-Za-z0-9_])/g,
];

const SECRET_KEY_NAMES = /^(?:client_secret|secret|password|api_key|secret_key|authorization)$|_secret$/i;

/** Whether any pattern matches: one scan, so that the common text (an id, a status, a currency) costs one test. */
const ANY_SECRET = new RegExp(SECRET_PATTERNS.map((pattern) => pattern.source).join('|'));

/** The text with every secret-looking part replaced by [redacted]. */
export function redactText(text: string): string {
  if (!ANY_SECRET.test(text)) return text;
  let out = text;
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, REDACTED);
  return out;
}

/** Object keys repeat (every body has `id`, `amount`, `status`, ...): each distinct key is judged once. */
const safeKeys = new Map<string, string>();
const MAX_SAFE_KEYS = 2_000;

function safeKey(key: string): string {
  const known = safeKeys.get(key);
  if (known !== undefined) return known;
  const safe = redactText(key);
  if (safeKeys.size < MAX_SAFE_KEYS) safeKeys.set(key, safe);
  return safe;
}

/** A deep copy of a JSON-like value with secret keys' values, secret-looking keys and secret-looking text redacted. */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const safe = safeKey(key);
    if (SECRET_KEY_NAMES.test(key)) {
      out[safe] = inner === null || inner === undefined ? inner : REDACTED;
    } else {
      out[safe] = redactValue(inner);
    }
  }
  return out;
}

// ---- entries -------------------------------------------------------------------------------------------------

export const INTERACTION_TYPES = [
  'authorization',
  'authorization_reversal',
  'capture',
  'sale',
  'referenced_refund',
  'void',
  'tokenize',
  'sync',
] as const;
export const INTERACTION_STATUSES = ['initiated', 'success', 'failed', 'timeout', 'noop'] as const;
export const RESULT_CODES = [
  'success',
  'decline',
  'indeterminate',
  'permanent_fail',
  'requires_review',
  'system_error',
  'validation_error',
] as const;
export type InteractionType = (typeof INTERACTION_TYPES)[number];
export type InteractionStatus = (typeof INTERACTION_STATUSES)[number];
export type ResultCode = (typeof RESULT_CODES)[number];

/** What an adapter reports for one interaction (the writer adds id, gateway and time, and scrubs secrets). */
export interface GatewayLogEntry {
  transaction_id: string | null;
  interaction_type: InteractionType;
  interaction_status: InteractionStatus;
  result_code: ResultCode;
  gateway_ref_number: string | null;
  gateway_auth_code: string | null;
  gateway_date: Date | null;
  gateway_message: string | null;
  gateway_result_code: string | null;
  gateway_result_code_description: string | null;
  idempotency_key: string | null;
  is_notification: boolean;
  http_method: string | null;
  http_path: string | null;
  http_status: number | null;
  request_id: string | null;
  request_body: unknown;
  response_body: unknown;
  latency_ms: number;
}

export interface GatewayLogView extends Omit<GatewayLogRow, 'gateway_date' | 'created_at'> {
  object: 'gateway_log';
  gateway_date: string | null;
  created_at: string;
}

export interface LogSink {
  error(message: string, error: unknown): void;
}

const consoleSink: LogSink = { error: (message, error) => console.error(message, error) };

const text = (value: string | null): string | null => (value === null ? null : redactText(value));
const json = (value: unknown): string | null =>
  value === null || value === undefined ? null : JSON.stringify(redactValue(value));

/** A row as stored, bodies still as values: what toLogRow serialises, and what a batch insert sends as JSON. */
export type GatewayLogRecord = Omit<Required<NewGatewayLogRow>, 'request_body' | 'response_body'> & {
  request_body: unknown;
  response_body: unknown;
};

/** The row stored for an entry: secrets removed from the bodies and from every free-text field. */
export function toLogRecord(gatewayId: string, entry: GatewayLogEntry, now: Date): GatewayLogRecord {
  const body = (value: unknown): unknown => (value === null || value === undefined ? null : redactValue(value));
  return {
    ...entry,
    id: newId('gateway_log', now.getTime()),
    gateway_id: gatewayId,
    gateway_message: text(entry.gateway_message),
    gateway_result_code_description: text(entry.gateway_result_code_description),
    http_path: text(entry.http_path),
    gateway_ref_number: text(entry.gateway_ref_number),
    request_body: body(entry.request_body),
    response_body: body(entry.response_body),
    latency_ms: Math.max(0, Math.round(entry.latency_ms)),
    created_at: now,
    // Filled in by the database from the row's transaction (migration 0022), when it is on an order.
    order_payment_summary_id: null,
  };
}

export function toLogRow(gatewayId: string, entry: GatewayLogEntry, now: Date): NewGatewayLogRow {
  const record = toLogRecord(gatewayId, entry, now);
  return { ...record, request_body: json(record.request_body), response_body: json(record.response_body) };
}

/**
 * Inserts log records in one statement (every column from one JSON parameter). As a write alongside a
 * compare-and-set (tx2), the logs of a gateway call commit with its outcome, in the same statement.
 */
export function gatewayLogsAlongside(records: readonly GatewayLogRecord[]): AlongsideWrite {
  return logsAlongside(records);
}

export async function insertGatewayLogs(db: Db, records: readonly GatewayLogRecord[]): Promise<void> {
  await insertGatewayLogRecords(db, records);
}

const collecting = new AsyncLocalStorage<GatewayLogRecord[]>();

/**
 * Runs `call` with the log rows of its gateway exchanges collected instead of written, so that the caller commits
 * them with the call's outcome (tx2 of an action: one statement and one commit fewer per call). A process that dies
 * before that commit loses these rows, not the call: recovery's replay or lookup of the call is logged.
 */
export async function collectGatewayLogs<T>(
  call: () => Promise<T>,
): Promise<{ value: T; records: GatewayLogRecord[] }> {
  const records: GatewayLogRecord[] = [];
  const value = await collecting.run(records, call);
  return { value, records };
}

export class GatewayLogWriter {
  readonly #db: Db;
  readonly #logger: LogSink;
  readonly #now: () => Date;

  constructor(db: Db, options: { logger?: LogSink; now?: () => Date } = {}) {
    this.#db = db;
    this.#logger = options.logger ?? consoleSink;
    this.#now = options.now ?? (() => new Date());
  }

  /** Stores one entry; resolves to its id, or null when it could not be stored (reported, never thrown). */
  async write(gatewayId: string, entry: GatewayLogEntry): Promise<string | null> {
    const collector = collecting.getStore();
    if (collector) {
      const record = toLogRecord(gatewayId, entry, this.#now());
      collector.push(record);
      return record.id;
    }
    try {
      const row = toLogRow(gatewayId, entry, this.#now());
      await insertGatewayLogRow(this.#db, row);
      return row.id;
    } catch (error) {
      this.#logger.error(
        `gateway log: could not store a ${entry.interaction_type} interaction of gateway ${gatewayId}`,
        error,
      );
      return null;
    }
  }
}

export function presentGatewayLog(row: GatewayLogRow): GatewayLogView {
  return {
    ...row,
    object: 'gateway_log',
    gateway_date: row.gateway_date === null ? null : new Date(row.gateway_date).toISOString(),
    created_at: new Date(row.created_at).toISOString(),
  };
}

export async function getGatewayLog(deps: { db: Db }, id: string): Promise<GatewayLogView> {
  const row = await findGatewayLog(deps.db, id);
  if (!row) throw new NotFoundError('gateway log', id, 'id');
  return presentGatewayLog(row);
}
