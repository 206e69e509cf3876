// The gateway log (P13): every interaction with a gateway, filterable by each logged field. Read scope.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../app/deps.js';
import { getGatewayLog } from '../../app/gateway-log.js';
import { listGatewayLogs } from '../../app/gateway-log-queries.js';
import { errorResponses, IdParams, ListOf } from '../schemas/common.js';
import { GatewayLogSchema, ListGatewayLogsQuery, TransactionGatewayLogsQuery } from '../schemas/gateway-log.js';

const tags = ['gateway logs'];
const FILTERS =
  'Newest first. Filters: exact match on ids, codes and keys; case-insensitive substring on gateway_message, gateway_result_code_description and the request/response bodies; ranges on gateway_date, created_at and latency_ms.';

export function gatewayLogRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/gateway-logs',
      {
        schema: {
          tags,
          summary: 'List gateway log entries',
          description: `One entry per interaction with a gateway: the request and response (secrets removed), latency, result codes and the transaction it belongs to. ${FILTERS}`,
          querystring: ListGatewayLogsQuery,
          response: { 200: ListOf(GatewayLogSchema), ...errorResponses },
        },
      },
      async (request) => listGatewayLogs(deps, request.query),
    );

    app.get(
      '/v1/gateway-logs/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a gateway log entry',
          params: IdParams,
          response: { 200: GatewayLogSchema, ...errorResponses },
        },
      },
      async (request) => getGatewayLog(deps, request.params.id),
    );

    app.get(
      '/v1/transactions/:id/gateway-logs',
      {
        schema: {
          tags,
          summary: "List a transaction's gateway log entries",
          description: `Every gateway interaction of one transaction (the transaction may since have been deleted). ${FILTERS}`,
          params: IdParams,
          querystring: TransactionGatewayLogsQuery,
          response: { 200: ListOf(GatewayLogSchema), ...errorResponses },
        },
      },
      async (request) => listGatewayLogs(deps, { ...request.query, transaction_id: request.params.id }),
    );
  };
}
