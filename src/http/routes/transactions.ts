// /v1/transactions: the ledger's own operations (L2, L9, L10, L12). The gateway actions are in processing.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Deps } from '../../app/deps.js';
import { cloneTransaction, createTransaction } from '../../app/transactions/create-transaction.js';
import { deleteTransaction } from '../../app/transactions/delete-transaction.js';
import { getTransaction, getTransactionHistory, listTransactions } from '../../app/transactions/list-transactions.js';
import { updateTransaction } from '../../app/transactions/update-transaction.js';
import { requestContext, sendOutcome } from '../context.js';
import { absentBodyIsEmpty, Deleted, errorResponses, IdParams, ListOf, ListQuery, NoBody } from '../schemas/common.js';
import {
  CreateTransactionBody,
  HistoryEntrySchema,
  ListTransactionsQuery,
  TransactionSchema,
  UpdateTransactionBody,
} from '../schemas/transaction.js';

const tags = ['transactions'];

export function transactionRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/transactions',
      {
        schema: {
          tags,
          summary: 'Create a transaction',
          description:
            'Creates a charge (default record_type charge, status open). non_gateway true with status completed records a payment made outside the gateway at once; a write-off is non_gateway and completed; an open refund (negative amount, original_transaction_id) is a scheduled refund.',
          body: CreateTransactionBody,
          response: { 201: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(
          reply,
          await createTransaction(
            deps,
            requestContext(request),
            request.body,
            // Made through a console session: source console.
            request.principal?.via === 'session' ? 'console' : 'api',
          ),
        ),
    );

    app.get(
      '/v1/transactions',
      {
        schema: {
          tags,
          summary: 'List transactions',
          description:
            "Newest first unless `sort` says otherwise. Filters combine with AND; `view` selects a predefined list view. `sort` orders the list by `created` (by id), `amount` or `due_date`, ascending, or descending with a leading '-' (default `-created`); ties are broken by id in the same direction, and transactions without a due date come last in both directions of `due_date`. `sort` combines with every filter and view. `next_cursor` is opaque: pass it back as `starting_after` with the same `sort` and filters. For `-created` and `created` it is the last id shown; for the other sorts it also carries the sort and the last row's key, and a cursor made for another sort (or a malformed one) is 400 invalid_cursor.",
          querystring: ListTransactionsQuery,
          response: { 200: ListOf(TransactionSchema), ...errorResponses },
        },
      },
      async (request) => listTransactions(deps, request.query),
    );

    app.get(
      '/v1/transactions/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a transaction',
          params: IdParams,
          response: { 200: TransactionSchema, ...errorResponses },
        },
      },
      async (request) => getTransaction(deps, request.params.id),
    );

    app.patch(
      '/v1/transactions/:id',
      {
        schema: {
          tags,
          summary: 'Update a transaction',
          description:
            'Edits business fields of an open or on-hold transaction. status may go open <-> on_hold and open -> canceled.',
          params: IdParams,
          body: UpdateTransactionBody,
          response: { 200: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await updateTransaction(deps, requestContext(request), request.params.id, request.body)),
    );

    app.delete(
      '/v1/transactions/:id',
      {
        schema: {
          tags,
          summary: 'Delete a transaction',
          description:
            'Only a transaction that never touched a gateway (L9), unless validations_enabled is off; otherwise 409.',
          params: IdParams,
          response: { 200: Deleted, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await deleteTransaction(deps, requestContext(request), request.params.id)),
    );

    app.post(
      '/v1/transactions/:id/clone',
      {
        preValidation: absentBodyIsEmpty,
        schema: {
          tags,
          summary: 'Clone a transaction',
          description:
            'A new open transaction with the same business fields; gateway, status and error fields cleared (L10).',
          params: IdParams,
          body: NoBody,
          response: { 201: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await cloneTransaction(deps, requestContext(request), request.params.id)),
    );

    app.post(
      '/v1/transactions/:id/cancel',
      {
        preValidation: absentBodyIsEmpty,
        schema: {
          tags,
          summary: 'Cancel an open transaction',
          params: IdParams,
          body: NoBody,
          response: { 200: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(
          reply,
          await updateTransaction(deps, requestContext(request), request.params.id, { status: 'canceled' }),
        ),
    );

    app.get(
      '/v1/transactions/:id/history',
      {
        schema: {
          tags,
          summary: 'The history of a transaction',
          description: 'Every change, oldest first: who, when, what (old -> new) (L12).',
          params: IdParams,
          querystring: Type.Object(ListQuery, { additionalProperties: false }),
          response: { 200: ListOf(HistoryEntrySchema), ...errorResponses },
        },
      },
      async (request) =>
        getTransactionHistory(deps, request.params.id, request.query.limit, request.query.starting_after),
    );
  };
}
