// /v1/parents (R1): the records transactions belong to (parent_id), each with its totals (R2).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../app/deps.js';
import { createParent, getParent, listParents, updateParent } from '../../app/parents.js';
import { requestContext, sendOutcome } from '../context.js';
import { errorResponses, IdParams, ListOf } from '../schemas/common.js';
import { CreateParentBody, ListParentsQuery, ParentSchema, UpdateParentBody } from '../schemas/parent.js';

const TOTALS =
  'totals: one entry per currency, exact at every commit (each change to a transaction with this parent_id moves them in the same database transaction).';

export function parentRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['parents'];
    app.post(
      '/v1/parents',
      {
        schema: {
          tags,
          summary: 'Create a parent',
          description:
            "A record transactions belong to (an opportunity, a subscription, ...): set a transaction's parent_id to it. external_id is unique per type (409 parent_exists). Takes an Idempotency-Key.",
          body: CreateParentBody,
          response: { 201: ParentSchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await createParent(deps, requestContext(request), request.body)),
    );
    app.get(
      '/v1/parents',
      {
        schema: {
          tags,
          summary: 'List parents',
          description: `Newest first; filter by type, external_id and account_id. ${TOTALS}`,
          querystring: ListParentsQuery,
          response: { 200: ListOf(ParentSchema), ...errorResponses },
        },
      },
      async (request) => listParents(deps, request.query),
    );
    app.get(
      '/v1/parents/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a parent',
          description: TOTALS,
          params: IdParams,
          response: { 200: ParentSchema, ...errorResponses },
        },
      },
      async (request) => getParent(deps, request.params.id),
    );
    app.patch(
      '/v1/parents/:id',
      {
        schema: {
          tags,
          summary: 'Update a parent',
          description:
            'name, external_id, account_id and contact_id (null clears one); metadata merges (an empty string or null removes a key). The type does not change.',
          params: IdParams,
          body: UpdateParentBody,
          response: { 200: ParentSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await updateParent(deps, requestContext(request), request.params.id, request.body)),
    );
  };
}
