// Connect (M6): POST /v1/transactions/{id}/process, which sends an open transfer (app/connect/transfers.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { processTransfer } from '../../app/connect/transfers.js';
import type { Deps } from '../../app/deps.js';
import { requestContext, sendOutcome } from '../context.js';
import { runKeyed } from '../keyed-work.js';
import { absentBodyIsEmpty, errorResponses, IdParams, NoBody } from '../schemas/common.js';
import { TransactionSchema } from '../schemas/transaction.js';

export function transferRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('preValidation', absentBodyIsEmpty);
    app.post(
      '/v1/transactions/:id/process',
      {
        schema: {
          tags: ['connect'],
          summary: 'Send an open transfer',
          description:
            'An open transfer (record_type transfer) goes to its connected account (Stripe POST /v1/transfers, once: the idempotency key is fixed for the transaction): completed/transferred with gateway_ref, or failed with the error fields when the gateway refuses it. 409 unexpected_state unless open (a concurrent call finds it in process); 400 not_a_transfer, transfer_missing_account, source_not_charged.',
          params: IdParams,
          body: NoBody,
          response: { 200: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const ctx = requestContext(request);
        return sendOutcome(reply, await runKeyed(deps, ctx, () => processTransfer(deps, ctx, request.params.id)));
      },
    );
  };
}
