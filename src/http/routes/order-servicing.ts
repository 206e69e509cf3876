// Ensure funds and ensure refunds of an order (issue 20, O4): POST /v1/orders/{id}/capture and /v1/orders/{id}/refund.
// The plan, the exactly-once actions and the order's lock are app/order-servicing.ts; this validates shapes and
// presents the result per capture or refund, each with its own outcome.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Deps } from '../../app/deps.js';
import {
  type CaptureItem,
  type EnsureFundsResult,
  type EnsureRefundsResult,
  ensureFunds,
  ensureRefunds,
  type RefundItem,
} from '../../app/order-servicing.js';
import { errorBody, errorStatus } from '../errors.js';
import { requestContext, sendOutcome } from '../context.js';
import { Amount, ErrorResponse, errorResponses, IdParams, Nullable } from '../schemas/common.js';
import { PaymentSummarySchema } from '../schemas/order.js';

const tags = ['orders'];

const ItemStatus = Type.Union([Type.Literal('succeeded'), Type.Literal('pending'), Type.Literal('failed')], {
  description:
    'succeeded: the gateway did it. pending: its outcome is not known yet (the answer was lost: recovery confirms it) or the gateway is still processing it. failed: the gateway refused or declined it (see error); nothing was moved by it.',
});
const StatusCode = Nullable(
  Type.Integer({
    description: 'The HTTP status this action alone would have answered (202 while its outcome is unknown).',
  }),
);
const ItemError = Nullable(ErrorResponse.properties.error);
const Summaries = Type.Array(PaymentSummarySchema, {
  description: "The order's payment summaries once every outcome above is applied.",
});

const CaptureBody = Type.Object(
  {
    amount: Amount('How much to capture, positive minor units, at most what the authorizations can still capture.'),
    payment_summary_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "Capture only from this payment summary's authorizations (ops_...; one of the order's).",
      }),
    ),
  },
  { additionalProperties: false },
);

const RefundBody = Type.Object(
  { amount: Amount('How much to refund, positive minor units, at most what the payments can still refund.') },
  { additionalProperties: false },
);

const CaptureItemSchema = Type.Object({
  transaction_id: Type.String({ description: 'The authorized charge captured.' }),
  payment_method_id: Type.String(),
  payment_summary_id: Nullable(Type.String()),
  amount: Type.Integer({ description: 'What was asked of this authorization, minor units.' }),
  released_amount: Nullable(
    Type.Integer({
      description:
        'What the gateway released of the authorization: the rest of a partial capture, 0 when captured in full or refused; null while pending.',
    }),
  ),
  status: ItemStatus,
  status_code: StatusCode,
  error: ItemError,
});

const RefundItemSchema = Type.Object({
  transaction_id: Type.String({ description: 'The new refund transaction (kept, failed, when the gateway refused).' }),
  charge_transaction_id: Type.String({ description: 'The charge it refunds.' }),
  payment_method_id: Type.String(),
  payment_summary_id: Nullable(Type.String()),
  amount: Type.Integer({ description: 'Minor units, positive.' }),
  status: ItemStatus,
  status_code: StatusCode,
  error: ItemError,
});

const CaptureResponse = Type.Object({
  object: Type.Literal('order_capture'),
  order_id: Type.String(),
  amount: Type.Integer({ description: 'What was asked.' }),
  captured_amount: Type.Integer({ description: 'What the succeeded captures took.' }),
  pending_amount: Type.Integer({ description: 'What the pending captures ask.' }),
  captures: Type.Array(CaptureItemSchema, { description: 'In the order they were chosen.' }),
  payment_summaries: Summaries,
});

const RefundResponse = Type.Object({
  object: Type.Literal('order_refund'),
  order_id: Type.String(),
  amount: Type.Integer({ description: 'What was asked.' }),
  refunded_amount: Type.Integer({ description: 'What the succeeded refunds gave back.' }),
  pending_amount: Type.Integer({ description: 'What the pending refunds give back.' }),
  refunds: Type.Array(RefundItemSchema, { description: 'Newest charge first, as they were chosen.' }),
  payment_summaries: Summaries,
});

function presentItem<I extends CaptureItem | RefundItem>(item: I) {
  return {
    ...item,
    status_code: item.error === null ? item.status_code : (item.status_code ?? errorStatus(item.error)),
    error: item.error === null ? null : errorBody(item.error).error,
  };
}

function presentCapture(result: EnsureFundsResult) {
  return { object: 'order_capture' as const, ...result, captures: result.captures.map(presentItem) };
}

function presentRefund(result: EnsureRefundsResult) {
  return { object: 'order_refund' as const, ...result, refunds: result.refunds.map(presentItem) };
}

export function orderServicingRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/orders/:id/capture',
      {
        schema: {
          tags,
          summary: "Capture an amount across an order's authorizations (ensure funds)",
          description:
            "Every authorization whose whole remaining amount fits in what is still asked, oldest first, then at most one partial capture for the rest (the gateway releases what that authorization does not capture). With payment_summary_id, only that summary's authorizations (404 unknown, 400 payment_summary_not_of_order). More than they can capture is 400 amount_exceeds_available, with nothing written or sent. Requests on one order are serialised: each plans from what the ones before it left. 200 with each capture's outcome (a refused one does not stop the others) and the summaries after. Takes an Idempotency-Key: a retry of it after the first request died answers from the captures that request started (recovering those still unresolved), never planning again.",
          params: IdParams,
          body: CaptureBody,
          response: { 200: CaptureResponse, ...errorResponses, 503: ErrorResponse },
        },
      },
      async (request, reply) =>
        sendOutcome(
          reply,
          await ensureFunds(deps, requestContext(request), request.params.id, request.body, presentCapture),
        ),
    );

    app.post(
      '/v1/orders/:id/refund',
      {
        schema: {
          tags,
          summary: "Refund an amount across an order's payments (ensure refunds)",
          description:
            "The captured charges of the order, newest first, each for what it can still refund net of refunds in flight, until the amount is covered; each refund is a new refund transaction. More than they can refund is 400 amount_exceeds_refundable, with nothing written or sent. Requests on one order are serialised. 200 with each refund's outcome and the summaries after. Takes an Idempotency-Key: a retry of it after the first request died answers from the refunds that request started (recovering those still unresolved), never planning again.",
          params: IdParams,
          body: RefundBody,
          response: { 200: RefundResponse, ...errorResponses, 503: ErrorResponse },
        },
      },
      async (request, reply) =>
        sendOutcome(
          reply,
          await ensureRefunds(deps, requestContext(request), request.params.id, request.body, presentRefund),
        ),
    );
  };
}
