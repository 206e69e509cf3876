// Listing the gateway log (P13): filters on every logged field, newest first, cursor pagination (README, "API
// overview"). Codes, ids and keys match exactly; gateway_message, gateway_result_code_description and the two bodies
// match a case-insensitive substring; dates and latency take ranges.
import { type Kysely, sql } from 'kysely';
import { ValidationError } from '../domain/errors.js';
import type { Database } from '../store/schema.js';
import { type GatewayLogView, INTERACTION_STATUSES, INTERACTION_TYPES, presentGatewayLog, RESULT_CODES } from './gateway-log.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';

/** Filters matched exactly against the column of the same name. */
export const EXACT_FILTERS = [
  'transaction_id',
  'gateway_id',
  'interaction_type',
  'interaction_status',
  'result_code',
  'gateway_ref_number',
  'gateway_auth_code',
  'gateway_result_code',
  'idempotency_key',
  'http_method',
  'request_id',
] as const;
/** Filters matched as a case-insensitive substring of the column. */
export const TEXT_FILTERS = ['gateway_message', 'gateway_result_code_description'] as const;

type ExactFilter = (typeof EXACT_FILTERS)[number];
type TextFilter = (typeof TEXT_FILTERS)[number];

export type GatewayLogQuery = { [K in ExactFilter | TextFilter]?: string } & {
  is_notification?: boolean;
  http_status?: number;
  request_body_contains?: string;
  response_body_contains?: string;
  gateway_date_after?: string;
  gateway_date_before?: string;
  created_after?: string;
  created_before?: string;
  min_latency_ms?: number;
  max_latency_ms?: number;
  limit?: number;
  starting_after?: string;
};

const CHOICES: Partial<Record<ExactFilter, readonly string[]>> = {
  interaction_type: INTERACTION_TYPES,
  interaction_status: INTERACTION_STATUSES,
  result_code: RESULT_CODES,
};

function parseInstant(value: string, field: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new ValidationError('invalid_timestamp', `${field} must be an ISO 8601 date-time such as 2026-11-24T12:00:00Z.`, field);
  }
  return date;
}

function parseWhole(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0) throw new ValidationError('parameter_invalid_integer', `${field} must be a whole number, 0 or more.`, field);
  return value;
}

/** `%`, `_` and `\` taken literally in an ILIKE pattern. */
const likeLiteral = (value: string): string => `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listGatewayLogs(deps: { db: Kysely<Database> }, query: GatewayLogQuery): Promise<Page<GatewayLogView>> {
  const limit = parseLimit(query.limit);
  let q = deps.db.selectFrom('gateway_logs').selectAll();
  for (const field of EXACT_FILTERS) {
    const value = query[field];
    if (value === undefined) continue;
    const allowed = CHOICES[field];
    if (allowed && !allowed.includes(value)) {
      throw new ValidationError('parameter_invalid_value', `${field} must be one of: ${allowed.join(', ')}.`, field);
    }
    q = q.where(field, '=', field === 'http_method' ? value.toUpperCase() : value);
  }
  for (const field of TEXT_FILTERS) {
    const value = query[field];
    if (value !== undefined) q = q.where(field, 'ilike', likeLiteral(value));
  }
  if (query.request_body_contains !== undefined) q = q.where(sql<string>`request_body::text`, 'ilike', likeLiteral(query.request_body_contains));
  if (query.response_body_contains !== undefined) q = q.where(sql<string>`response_body::text`, 'ilike', likeLiteral(query.response_body_contains));
  if (query.is_notification !== undefined) q = q.where('is_notification', '=', query.is_notification);
  if (query.http_status !== undefined) q = q.where('http_status', '=', parseWhole(query.http_status, 'http_status'));
  if (query.gateway_date_after !== undefined) q = q.where('gateway_date', '>', parseInstant(query.gateway_date_after, 'gateway_date_after'));
  if (query.gateway_date_before !== undefined) q = q.where('gateway_date', '<', parseInstant(query.gateway_date_before, 'gateway_date_before'));
  if (query.created_after !== undefined) q = q.where('created_at', '>', parseInstant(query.created_after, 'created_after'));
  if (query.created_before !== undefined) q = q.where('created_at', '<', parseInstant(query.created_before, 'created_before'));
  if (query.min_latency_ms !== undefined) q = q.where('latency_ms', '>=', parseWhole(query.min_latency_ms, 'min_latency_ms'));
  if (query.max_latency_ms !== undefined) q = q.where('latency_ms', '<=', parseWhole(query.max_latency_ms, 'max_latency_ms'));
  const after = cursorAfter(query.starting_after, 'gateway_log');
  if (after !== undefined) q = q.where('id', '<', after);
  return pageOf(await q.orderBy('id', 'desc').limit(limit + 1).execute(), limit, presentGatewayLog, byId);
}
