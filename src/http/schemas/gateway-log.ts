// The gateway log (P13): the object returned and the list filters (one per logged field).
import { Type } from 'typebox';
import { INTERACTION_STATUSES, INTERACTION_TYPES, RESULT_CODES } from '../../app/gateway-log.js';
import { INT4_MAX, ListQuery, Nullable } from './common.js';

const Enum = (values: readonly string[], description: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );
const Text = (description: string) => Type.String({ minLength: 1, maxLength: 500, description });
const Instant = (description: string) =>
  Type.String({ format: 'date-time', description: `${description} ISO 8601 date-time, e.g. 2026-11-24T12:00:00Z.` });
const Whole = (description: string) => Type.Integer({ minimum: 0, maximum: INT4_MAX, description });

export const GatewayLogSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('gateway_log'),
    gateway_id: Type.String(),
    transaction_id: Nullable(
      Type.String({ description: 'The Settle transaction the interaction belongs to (the entity it refers to).' }),
    ),
    interaction_type: Type.String({ description: INTERACTION_TYPES.join(', ') }),
    interaction_status: Type.String({ description: INTERACTION_STATUSES.join(', ') }),
    result_code: Type.String({ description: `Settle's result code: ${RESULT_CODES.join(', ')}.` }),
    gateway_ref_number: Nullable(
      Type.String({ description: "The gateway's id of the object (PaymentIntent, refund, ...)." }),
    ),
    gateway_auth_code: Nullable(Type.String({ description: "The issuer's authorization code." })),
    gateway_date: Nullable(Type.String({ description: "When the gateway created the object (Stripe's created)." })),
    gateway_message: Nullable(Type.String()),
    gateway_result_code: Nullable(
      Type.String({ description: "The gateway's decline code, error code or object status." }),
    ),
    gateway_result_code_description: Nullable(Type.String()),
    idempotency_key: Nullable(Type.String({ description: "Settle's idempotency key sent with the request." })),
    is_notification: Type.Boolean({
      description: 'false: a call Settle made; true: a notification (webhook) received.',
    }),
    http_method: Nullable(Type.String()),
    http_path: Nullable(Type.String()),
    http_status: Nullable(Type.Integer({ description: 'null: no answer arrived (timeout, dropped connection).' })),
    request_id: Nullable(Type.String({ description: "The gateway's request id (Stripe's Request-Id header)." })),
    request_body: Type.Unknown({ description: 'The request parameters, with secrets removed.' }),
    response_body: Type.Unknown({ description: 'The answer, with secrets removed; null when none arrived.' }),
    latency_ms: Type.Integer(),
    order_payment_summary_id: Nullable(
      Type.String({ description: "The order payment summary of the interaction's transaction (ops_...), if any." }),
    ),
    created_at: Type.String(),
  },
  { $id: 'GatewayLog' },
);

export const GatewayLogFilters = {
  gateway_id: Type.Optional(Type.String({ maxLength: 64 })),
  interaction_type: Type.Optional(Enum(INTERACTION_TYPES, 'One interaction type.')),
  interaction_status: Type.Optional(Enum(INTERACTION_STATUSES, 'One interaction status.')),
  result_code: Type.Optional(Enum(RESULT_CODES, 'One result code.')),
  gateway_ref_number: Type.Optional(Text('Exact match.')),
  gateway_auth_code: Type.Optional(Text('Exact match.')),
  gateway_result_code: Type.Optional(Text('Exact match.')),
  gateway_message: Type.Optional(Text('Case-insensitive substring.')),
  gateway_result_code_description: Type.Optional(Text('Case-insensitive substring.')),
  idempotency_key: Type.Optional(Text('Exact match.')),
  is_notification: Type.Optional(Type.Boolean()),
  http_method: Type.Optional(Type.String({ minLength: 1, maxLength: 10 })),
  http_status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  request_id: Type.Optional(Text('Exact match.')),
  request_body_contains: Type.Optional(Text('Case-insensitive substring of the request body (as JSON text).')),
  response_body_contains: Type.Optional(Text('Case-insensitive substring of the response body (as JSON text).')),
  gateway_date_after: Type.Optional(Instant('gateway_date strictly after.')),
  gateway_date_before: Type.Optional(Instant('gateway_date strictly before.')),
  created_after: Type.Optional(Instant('Logged strictly after.')),
  created_before: Type.Optional(Instant('Logged strictly before.')),
  min_latency_ms: Type.Optional(Whole('latency_ms at least.')),
  max_latency_ms: Type.Optional(Whole('latency_ms at most.')),
  ...ListQuery,
};

export const ListGatewayLogsQuery = Type.Object(
  {
    transaction_id: Type.Optional(Type.String({ maxLength: 64 })),
    order_payment_summary_id: Type.Optional(Type.String({ maxLength: 64 })),
    ...GatewayLogFilters,
  },
  { additionalProperties: false },
);

export const TransactionGatewayLogsQuery = Type.Object(GatewayLogFilters, { additionalProperties: false });
