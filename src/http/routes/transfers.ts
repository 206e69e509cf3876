// Connect (M6): POST /v1/transactions/{id}/process, which sends an open transfer (app/connect/transfers.ts) or an open
// payout on a connected account (app/connect/payouts-send.ts), chosen by record type (app/connect/process-send.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { processSend } from '../../app/connect/process-send.js';
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
          summary: 'Send an open transfer or payout',
          description:
            'An open transfer (record_type transfer) goes to its connected account (Stripe POST /v1/transfers, once: the idempotency key is fixed for the transaction): completed/transferred with gateway_ref, or failed with the error fields when the gateway refuses it. 409 unexpected_state unless open (a concurrent call finds it in process); 400 not_a_transfer, transfer_missing_account, source_not_charged. An open payout (record_type payout) on a connected account is made on that account (Stripe POST /v1/payouts with the Stripe-Account header, once): completed/in_transit with gateway_ref.payout, then paid or failed from its webhook events; failed when the gateway refuses it (e.g. insufficient funds); 400 payout_missing_destination, payout_destination_not_supported (a payment method as destination).',
          params: IdParams,
          body: NoBody,
          response: { 200: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const ctx = requestContext(request);
        return sendOutcome(reply, await runKeyed(deps, ctx, () => processSend(deps, ctx, request.params.id)));
      },
    );
  };
}
