// POST /v1/orders/{id}/payments (issue 20, O3): a PaymentIntent made at checkout attached to an order
// (app/order-payments.ts). It reads the gateway before its database transaction, so the Idempotency-Key is held
// across the read like the invoice payments' (http/keyed-work.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Deps } from '../../app/deps.js';
import { attachCheckoutPayment } from '../../app/order-payments.js';
import { requestContext, sendOutcome } from '../context.js';
import { runKeyed } from '../keyed-work.js';
import { ErrorResponse, errorResponses, Id, IdParams, Nullable } from '../schemas/common.js';
import { OrderSchema } from '../schemas/order.js';
import { TransactionSchema } from '../schemas/transaction.js';

const tags = ['orders'];

const AttachPaymentBody = Type.Object(
  {
    gateway_ref_number: Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        'The PaymentIntent (pi_...) the storefront made and confirmed at checkout, on the same gateway account.',
    }),
    payment_method_id: Type.Optional(Nullable(Id('pmt'))),
    allow_overpayment: Type.Optional(
      Type.Boolean({
        description:
          "Attach it even when the order's payments (authorized or captured) would then exceed its total (default false: 400 order_total_exceeded).",
      }),
    ),
  },
  { additionalProperties: false },
);

const AttachedPaymentSchema = Type.Object({
  order: OrderSchema,
  transaction: TransactionSchema,
});

export function orderPaymentRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/orders/:id/payments',
      {
        schema: {
          tags,
          summary: 'Attach a checkout payment to an order',
          description:
            "Reads the PaymentIntent from the default gateway and records it as an external charge on the order, with a one-time payment method made from the PaymentIntent's (or payment_method_id, which must be that method): authorized (requires_capture), captured (succeeded) or pending (processing). A PaymentIntent Settle already holds (e.g. seen by a webhook) is that transaction, put on the order. 201 { order, transaction }; 200 when it was already attached to this order. 400, with nothing written: payment_intent_not_found, currency_mismatch, payment_intent_unexpected_state, payment_intent_on_another_order, payment_method_not_found, payment_method_mismatch, order_total_exceeded (the order's payments plus this one beyond its total, unless allow_overpayment).",
          params: IdParams,
          body: AttachPaymentBody,
          response: {
            200: AttachedPaymentSchema,
            201: AttachedPaymentSchema,
            ...errorResponses,
            503: ErrorResponse,
          },
        },
      },
      async (request, reply) => {
        const ctx = requestContext(request);
        return sendOutcome(
          reply,
          await runKeyed(deps, ctx, () => attachCheckoutPayment(deps, ctx, request.params.id, request.body)),
        );
      },
    );
  };
}
