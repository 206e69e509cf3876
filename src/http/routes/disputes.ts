// Disputes (M7): the records the webhook processor keeps for chargebacks on charges. Read scope.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Deps } from '../../app/deps.js';
import { DISPUTE_STATUSES, getDispute, listDisputes } from '../../app/disputes.js';
import { errorResponses, IdParams, ListOf, ListQuery, Nullable } from '../schemas/common.js';

const tags = ['disputes'];

export const DisputeSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('dispute'),
    gateway_id: Type.String(),
    gateway_dispute: Type.String({ description: "The gateway's dispute id (Stripe: dp_...)." }),
    transaction_id: Type.String({ description: 'The disputed charge.' }),
    status: Type.String({ description: `One of ${DISPUTE_STATUSES.join(', ')}.` }),
    reason: Type.String(),
    amount: Type.Integer({ description: 'Disputed, in minor units of `currency`.' }),
    currency: Type.String(),
    amount_withdrawn: Type.Integer(),
    amount_reinstated: Type.Integer(),
    fee: Type.Integer({ description: 'Dispute fee withdrawn (minor units of the balance currency).' }),
    fee_reinstated: Type.Integer(),
    evidence_due_by: Nullable(Type.String()),
    is_charge_refundable: Type.Boolean(),
    gateway_created_at: Type.String(),
    closed_at: Nullable(Type.String()),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'Dispute' },
);

const ListDisputesQuery = Type.Object({
  ...ListQuery,
  transaction_id: Type.Optional(Type.String({ maxLength: 64 })),
  gateway_dispute: Type.Optional(Type.String({ maxLength: 255 })),
  status: Type.Optional(Type.String({ maxLength: 64 })),
});

export function disputeRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/disputes',
      {
        schema: {
          tags,
          summary: 'List disputes',
          description: 'Newest first. Filters: transaction_id (the charge), gateway_dispute, status.',
          querystring: ListDisputesQuery,
          response: { 200: ListOf(DisputeSchema), ...errorResponses },
        },
      },
      async (request) => listDisputes(deps, request.query),
    );
    app.get(
      '/v1/disputes/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a dispute',
          params: IdParams,
          response: { 200: DisputeSchema, ...errorResponses },
        },
      },
      async (request) => getDispute(deps, request.params.id),
    );
  };
}
