// Connect (M6): POST /v1/transactions/{id}/reverse, which reverses all or part of a sent transfer
// (app/connect/reversals.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { reverseTransfer } from '../../app/connect/reversals.js';
import type { Deps } from '../../app/deps.js';
import { requestContext, sendOutcome } from '../context.js';
import { runKeyed } from '../keyed-work.js';
import { absentBodyIsEmpty, Amount, errorResponses, IdParams } from '../schemas/common.js';
import { TransactionSchema } from '../schemas/transaction.js';

const ReverseBody = Type.Object(
  {
    amount: Type.Optional(
      Amount('How much to reverse, positive (default: all that is left unreversed, reversals in flight counted).'),
    ),
  },
  { additionalProperties: false },
);

export function reversalRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('preValidation', absentBodyIsEmpty);
    app.post(
      '/v1/transactions/:id/reverse',
      {
        schema: {
          tags: ['connect'],
          summary: 'Reverse a sent transfer',
          description:
            "Creates a reversal transaction (record_type transfer, transaction_type reversal, negative amount, original_transaction_id the transfer) and sends it once (Stripe POST /v1/transfers/{id}/reversals; the idempotency key is fixed for the reversal). 201: completed/reversed, and the transfer becomes partially_reversed or reversed; or failed with the error fields when the gateway refuses it. 202: the gateway's answer is unknown; the reversal stays in process until recovery resolves it. 409 unexpected_state unless the transfer is completed/transferred or partially_reversed; 400 not_a_transfer, transfer_not_at_gateway, amount_exceeds_reversible (reversals in flight count), gateway_not_supported.",
          params: IdParams,
          body: ReverseBody,
          response: { 201: TransactionSchema, 202: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const ctx = requestContext(request);
        return sendOutcome(
          reply,
          await runKeyed(deps, ctx, () => reverseTransfer(deps, ctx, request.params.id, request.body)),
        );
      },
    );
  };
}
