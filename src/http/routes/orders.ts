// /v1/orders (O1, O2, O5): what a storefront sold, each with its totals and its payment summaries (one per payment
// method, kept by the database from the order's transactions), and the gateway log of an order or summary.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../app/deps.js';
import {
  createOrder,
  getOrder,
  getSummary,
  listOrderGatewayLogs,
  listOrders,
  listOrderSummaries,
  listSummaryGatewayLogs,
} from '../../app/orders.js';
import { requestContext, sendOutcome } from '../context.js';
import { errorResponses, IdParams, ListOf } from '../schemas/common.js';
import { GatewayLogSchema, TransactionGatewayLogsQuery } from '../schemas/gateway-log.js';
import { CreateOrderBody, ListOrdersQuery, OrderSchema, PaymentSummarySchema } from '../schemas/order.js';

const TOTALS =
  'totals: one entry per currency of the transactions with this order_id, exact at every commit. payment_summaries: one per payment method, with its authorizations, payments and refunds, moved at the commit of each change to a transaction of the order.';
const LOGS =
  'Newest first, the same entries and filters as GET /v1/gateway-logs: those of the transactions of the payment summaries, each naming its order_payment_summary_id.';

export function orderRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['orders'];
    app.post(
      '/v1/orders',
      {
        schema: {
          tags,
          summary: 'Create an order',
          description:
            "What a storefront sold: set a transaction's order_id to it. external_id is unique (409 order_exists); an unknown account_id is 400 unknown_account. Takes an Idempotency-Key. Orders are not edited.",
          body: CreateOrderBody,
          response: { 201: OrderSchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await createOrder(deps, requestContext(request), request.body)),
    );
    app.get(
      '/v1/orders',
      {
        schema: {
          tags,
          summary: 'List orders',
          description: `Newest first; filter by account_id and external_id. ${TOTALS}`,
          querystring: ListOrdersQuery,
          response: { 200: ListOf(OrderSchema), ...errorResponses },
        },
      },
      async (request) => listOrders(deps, request.query),
    );
    app.get(
      '/v1/orders/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve an order',
          description: TOTALS,
          params: IdParams,
          response: { 200: OrderSchema, ...errorResponses },
        },
      },
      async (request) => getOrder(deps, request.params.id),
    );
    app.get(
      '/v1/orders/:id/payment-summaries',
      {
        schema: {
          tags,
          summary: "List an order's payment summaries",
          description:
            'One per payment method used on the order, oldest first, each with its records (all on one page).',
          params: IdParams,
          response: { 200: ListOf(PaymentSummarySchema), ...errorResponses },
        },
      },
      async (request) => listOrderSummaries(deps, request.params.id),
    );
    app.get(
      '/v1/payment-summaries/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a payment summary',
          description: 'One payment method of an order: its amounts and its authorizations, payments and refunds.',
          params: IdParams,
          response: { 200: PaymentSummarySchema, ...errorResponses },
        },
      },
      async (request) => getSummary(deps, request.params.id),
    );
    app.get(
      '/v1/orders/:id/gateway-logs',
      {
        schema: {
          tags,
          summary: "List an order's gateway log entries",
          description: LOGS,
          params: IdParams,
          querystring: TransactionGatewayLogsQuery,
          response: { 200: ListOf(GatewayLogSchema), ...errorResponses },
        },
      },
      async (request) => listOrderGatewayLogs(deps, request.params.id, request.query),
    );
    app.get(
      '/v1/payment-summaries/:id/gateway-logs',
      {
        schema: {
          tags,
          summary: "List a payment summary's gateway log entries",
          description: LOGS,
          params: IdParams,
          querystring: TransactionGatewayLogsQuery,
          response: { 200: ListOf(GatewayLogSchema), ...errorResponses },
        },
      },
      async (request) => listSummaryGatewayLogs(deps, request.params.id, request.query),
    );
  };
}
