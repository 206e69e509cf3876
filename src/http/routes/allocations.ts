// /v1/allocations (R4): a transaction's money assigned to invoices (app/allocations.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  createAllocation,
  deleteAllocation,
  getAllocation,
  listAllocations,
  updateAllocation,
} from '../../app/allocations.js';
import type { Deps } from '../../app/deps.js';
import { requestContext, sendOutcome } from '../context.js';
import { Deleted, errorResponses, IdParams, ListOf } from '../schemas/common.js';
import {
  AllocationSchema,
  CreateAllocationBody,
  ListAllocationsQuery,
  UpdateAllocationBody,
} from '../schemas/allocation.js';

const tags = ['invoices'];

export function allocationRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/allocations',
      {
        schema: {
          tags,
          summary: 'Allocate a transaction to an invoice',
          description:
            "A charge (payment), a write-off, or a refund (refund, or write_off_reversal for a write-off's) assigned to an invoice in its currency (400 currency_mismatch). A transaction's allocations add up to at most its amount (400 allocation_exceeds_amount); none to a void invoice (409 invoice_void).",
          body: CreateAllocationBody,
          response: { 201: AllocationSchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await createAllocation(deps, requestContext(request), request.body)),
    );
    app.get(
      '/v1/allocations',
      {
        schema: {
          tags,
          summary: 'List allocations',
          description: 'Newest first; filters: transaction_id, invoice_id.',
          querystring: ListAllocationsQuery,
          response: { 200: ListOf(AllocationSchema), ...errorResponses },
        },
      },
      async (request) => listAllocations(deps, request.query),
    );
    app.get(
      '/v1/allocations/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve an allocation',
          params: IdParams,
          response: { 200: AllocationSchema, ...errorResponses },
        },
      },
      async (request) => getAllocation(deps, request.params.id),
    );
    app.patch(
      '/v1/allocations/:id',
      {
        schema: {
          tags,
          summary: "Change an allocation's amount",
          description:
            "The invoice's balances move by the difference; the transaction's amount is spread again, oldest first.",
          params: IdParams,
          body: UpdateAllocationBody,
          response: { 200: AllocationSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await updateAllocation(deps, requestContext(request), request.params.id, request.body)),
    );
    app.delete(
      '/v1/allocations/:id',
      {
        schema: {
          tags,
          summary: 'Delete an allocation',
          description: "Its invoice's balances move back. To move money to another invoice, delete and create.",
          params: IdParams,
          response: { 200: Deleted, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await deleteAllocation(deps, requestContext(request), request.params.id)),
    );
  };
}
