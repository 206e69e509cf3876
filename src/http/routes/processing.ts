// The gateway actions on transactions (P1-P13): authorize, capture, release, refund, reattempt,
// batch capture. The exactly-once machinery lives in app/processing; this only validates shapes and answers.
// 200/201: the gateway answered (a decline too: the transaction is `failed` with its error fields). 202: the
// gateway's answer is unknown and the transaction stays in `process` until recovery confirms it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Deps } from '../../app/deps.js';
import {
  authorizeTransaction,
  captureTransaction,
  REFUND_REASONS,
  refundTransaction,
  releaseTransaction,
} from '../../app/processing/actions.js';
import { type BatchItemResult, MAX_BATCH_IDS, runBatchCapture } from '../../app/processing/batch-capture.js';
import { reattemptTransaction } from '../../app/processing/reattempt.js';
import { errorBody, errorStatus } from '../errors.js';
import { requestContext, sendOutcome } from '../context.js';
import { absentBodyIsEmpty, Amount, ErrorResponse, errorResponses, IdParams, NoBody } from '../schemas/common.js';
import { TransactionSchema } from '../schemas/transaction.js';

const tags = ['processing'];

const actionResponses = {
  200: TransactionSchema,
  202: TransactionSchema,
  ...errorResponses,
  503: ErrorResponse,
};

const CaptureBody = Type.Object(
  {
    amount: Type.Optional(
      Amount(
        'On an authorized charge: how much to capture (default: all that is authorized); less captures part and releases the rest. On an open charge: omit, or its own amount.',
      ),
    ),
  },
  { additionalProperties: false },
);

const RefundBody = Type.Object(
  {
    amount: Type.Optional(Amount('How much to refund, positive (default: everything still refundable).')),
    refund_application_fee: Type.Optional(
      Type.Boolean({
        description:
          "Connect: a direct charge's application fee is refunded in proportion (Stripe's refund_application_fee).",
      }),
    ),
    reason: Type.Optional(
      Type.Union(
        REFUND_REASONS.map((r) => Type.Literal(r)),
        { description: "Sent to the gateway as the refund's reason." },
      ),
    ),
    invoice_id: Type.Optional(
      Type.String({
        maxLength: 64,
        description:
          "Issue 19: allocate the refund to this invoice (one the charge has an allocation to; 400 invoice_not_allocated otherwise). Without it, the refund takes back from the charge's allocations newest first.",
      }),
    ),
  },
  { additionalProperties: false },
);

const BatchBody = Type.Object(
  { ids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: MAX_BATCH_IDS }) },
  { additionalProperties: false },
);

const BatchItem = Type.Object({
  id: Type.String(),
  status_code: Type.Integer({ description: 'The HTTP status this capture alone would have answered.' }),
  transaction: Type.Union([TransactionSchema, Type.Null()]),
  error: Type.Union([ErrorResponse.properties.error, Type.Null()]),
});

const BatchResponse = Type.Object({ object: Type.Literal('list'), data: Type.Array(BatchItem) });

function presentBatch(items: BatchItemResult[]) {
  return {
    object: 'list' as const,
    data: items.map((item) =>
      'error' in item
        ? { id: item.id, status_code: errorStatus(item.error), transaction: null, error: errorBody(item.error).error }
        : { id: item.id, status_code: item.result.status, transaction: item.result.body, error: null },
    ),
  };
}

export function processingRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    // The actions' bodies are optional.
    app.addHook('preValidation', absentBodyIsEmpty);

    app.post(
      '/v1/transactions/:id/authorize',
      {
        schema: {
          tags,
          summary: 'Authorize an open charge (P1)',
          description:
            'Holds the amount on the payment method (manual capture): completed/authorized, with authorization_expires_at. A decline answers 200 with the transaction failed and its error fields.',
          params: IdParams,
          body: NoBody,
          response: actionResponses,
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await authorizeTransaction(deps, requestContext(request), request.params.id)),
    );

    app.post(
      '/v1/transactions/:id/capture',
      {
        schema: {
          tags,
          summary: 'Capture a charge (P2, P3)',
          description:
            'An open charge is charged at once (completed/captured). An authorized one is captured in full, or in part (completed/partially_captured, the rest released).',
          params: IdParams,
          body: CaptureBody,
          response: actionResponses,
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await captureTransaction(deps, requestContext(request), request.params.id, request.body)),
    );

    app.post(
      '/v1/transactions/:id/release',
      {
        schema: {
          tags,
          summary: 'Release an authorization (P4)',
          description: 'completed/uncaptured with uncaptured_method manual; no refund transaction is made.',
          params: IdParams,
          body: NoBody,
          response: actionResponses,
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await releaseTransaction(deps, requestContext(request), request.params.id)),
    );

    app.post(
      '/v1/transactions/:id/refund',
      {
        schema: {
          tags,
          summary: 'Refund a charge (P5)',
          description:
            'Creates a refund transaction (201; negative amount, original_transaction_id) and moves the charge to partially_refunded or refunded. Refunds in flight count against what is refundable (400 amount_exceeds_refundable). On an authorized charge it releases the authorization instead and returns the charge (200).',
          params: IdParams,
          body: RefundBody,
          response: { ...actionResponses, 201: TransactionSchema },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await refundTransaction(deps, requestContext(request), request.params.id, request.body)),
    );

    app.post(
      '/v1/transactions/:id/reattempt',
      {
        schema: {
          tags,
          summary: 'Reattempt a failed transaction (P8)',
          description:
            'A new open transaction cloned from a failed one, with reattempt_of_id and reattempt_number (201). Once per failed transaction.',
          params: IdParams,
          body: NoBody,
          response: { 201: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await reattemptTransaction(deps, requestContext(request), request.params.id)),
    );

    app.post(
      '/v1/transactions/capture',
      {
        schema: {
          tags,
          summary: 'Capture several transactions (P10)',
          description: `Captures each of 1 to ${MAX_BATCH_IDS} transactions (open: charge now; authorized: in full) and answers 200 with a result per id, in order: its status_code and either the transaction or the error.`,
          body: BatchBody,
          response: { 200: BatchResponse, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await runBatchCapture(deps, requestContext(request), request.body, presentBatch)),
    );
  };
}
