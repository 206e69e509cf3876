// Listing the gateway log (P13): filters on every logged field, newest first, cursor pagination (README, "API
// overview"). Codes, ids and keys match exactly; gateway_message, gateway_result_code_description and the two bodies
// match a case-insensitive substring; dates and latency take ranges.
import { ValidationError } from '../domain/errors.js';
import { type GatewayLogFilters, listGatewayLogsPage } from '../store/gateway-logs-repo.js';
import type { Db } from '../store/schema.js';
import {
  type GatewayLogView,
  INTERACTION_STATUSES,
  INTERACTION_TYPES,
  presentGatewayLog,
  RESULT_CODES,
} from './gateway-log.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';
import { parseInstant } from '../domain/fields.js';

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
  'order_payment_summary_id',
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
  /** The rows of any payment summary of this order (GET /v1/orders/{id}/gateway-logs). */
  order_id?: string;
  limit?: number;
  starting_after?: string;
};

const CHOICES: Partial<Record<ExactFilter, readonly string[]>> = {
  interaction_type: INTERACTION_TYPES,
  interaction_status: INTERACTION_STATUSES,
  result_code: RESULT_CODES,
};

function parseWhole(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0)
    throw new ValidationError('parameter_invalid_integer', `${field} must be a whole number, 0 or more.`, field);
  return value;
}

/** `%`, `_` and `\` taken literally in an ILIKE pattern. */
const likeLiteral = (value: string): string => `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listGatewayLogs(deps: { db: Db }, query: GatewayLogQuery): Promise<Page<GatewayLogView>> {
  const limit = parseLimit(query.limit);
  const exact: [ExactFilter, string][] = [];
  for (const field of EXACT_FILTERS) {
    const value = query[field];
    if (value === undefined) continue;
    const allowed = CHOICES[field];
    if (allowed && !allowed.includes(value)) {
      throw new ValidationError('parameter_invalid_value', `${field} must be one of: ${allowed.join(', ')}.`, field);
    }
    exact.push([field, field === 'http_method' ? value.toUpperCase() : value]);
  }
  const ilike: [TextFilter, string][] = [];
  for (const field of TEXT_FILTERS) {
    const value = query[field];
    if (value !== undefined) ilike.push([field, likeLiteral(value)]);
  }
  const filters: GatewayLogFilters = { exact, ilike };
  if (query.request_body_contains !== undefined) filters.requestBodyIlike = likeLiteral(query.request_body_contains);
  if (query.response_body_contains !== undefined) filters.responseBodyIlike = likeLiteral(query.response_body_contains);
  if (query.is_notification !== undefined) filters.isNotification = query.is_notification;
  if (query.http_status !== undefined) filters.httpStatus = parseWhole(query.http_status, 'http_status');
  if (query.gateway_date_after !== undefined)
    filters.gatewayDateAfter = parseInstant(query.gateway_date_after, 'gateway_date_after');
  if (query.gateway_date_before !== undefined)
    filters.gatewayDateBefore = parseInstant(query.gateway_date_before, 'gateway_date_before');
  if (query.created_after !== undefined) filters.createdAfter = parseInstant(query.created_after, 'created_after');
  if (query.created_before !== undefined) filters.createdBefore = parseInstant(query.created_before, 'created_before');
  if (query.min_latency_ms !== undefined) filters.minLatencyMs = parseWhole(query.min_latency_ms, 'min_latency_ms');
  if (query.max_latency_ms !== undefined) filters.maxLatencyMs = parseWhole(query.max_latency_ms, 'max_latency_ms');
  if (query.order_id !== undefined) filters.orderId = query.order_id;
  const after = cursorAfter(query.starting_after, 'gateway_log');
  if (after !== undefined) filters.idBefore = after;
  return pageOf(await listGatewayLogsPage(deps.db, filters, limit), limit, presentGatewayLog, byId);
}
