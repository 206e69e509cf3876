// /v1/invoices (R3): invoices, their actions (pay, write-off, void) and their transactions. The balances are the
// database's (app/invoices.ts, app/invoice-actions.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Deps } from '../../app/deps.js';
import { listInvoiceTransactions, payInvoice, voidInvoice, writeOffInvoice } from '../../app/invoice-actions.js';
import { createInvoice, getInvoice, listInvoices, updateInvoice } from '../../app/invoices.js';
import { requestContext, sendOutcome } from '../context.js';
import { runKeyed } from '../keyed-work.js';
import {
  absentBodyIsEmpty,
  ErrorResponse,
  errorResponses,
  IdParams,
  ListOf,
  ListQuery,
  NoBody,
} from '../schemas/common.js';
import {
  CreateInvoiceBody,
  InvoiceSchema,
  InvoiceTransactionSchema,
  ListInvoicesQuery,
  PayInvoiceBody,
  UpdateInvoiceBody,
  WriteOffBody,
} from '../schemas/invoice.js';
import { TransactionSchema } from '../schemas/transaction.js';

const tags = ['invoices'];

export function invoiceRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/invoices',
      {
        schema: {
          tags,
          summary: 'Create an invoice',
          description:
            'number (unique: 409 invoice_number_taken), currency, total (0 or more), and optionally account_id, contact_id, issued_on, due_date, timezone (default: the timezone setting), status (draft or open, default open), description, metadata.',
          body: CreateInvoiceBody,
          response: { 201: InvoiceSchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await createInvoice(deps, requestContext(request), request.body)),
    );
    app.get(
      '/v1/invoices',
      {
        schema: {
          tags,
          summary: 'List invoices',
          description: 'Newest first; filters: account_id, status, payment_status.',
          querystring: ListInvoicesQuery,
          response: { 200: ListOf(InvoiceSchema), ...errorResponses },
        },
      },
      async (request) => listInvoices(deps, request.query),
    );
    app.get(
      '/v1/invoices/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve an invoice',
          params: IdParams,
          response: { 200: InvoiceSchema, ...errorResponses },
        },
      },
      async (request) => getInvoice(deps, request.params.id),
    );
    app.patch(
      '/v1/invoices/:id',
      {
        schema: {
          tags,
          summary: 'Update an invoice',
          description:
            'total, due_date, issued_on, timezone, status (draft <-> open), description, metadata; currency only while nothing is allocated (409 invoice_has_allocations). A void invoice is final (409 invoice_void).',
          params: IdParams,
          body: UpdateInvoiceBody,
          response: { 200: InvoiceSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await updateInvoice(deps, requestContext(request), request.params.id, request.body)),
    );
    app.post(
      '/v1/invoices/:id/pay',
      {
        schema: {
          tags,
          summary: 'Pay an invoice',
          description:
            "Creates a charge allocated to the invoice and charges it at once through the gateway (201 with the transaction: completed, or failed with the decline; 202 when the gateway's answer is not known yet). The amount defaults to the balance due less open or in-flight payments; more is 400 amount_exceeds_balance_due. A void invoice is 409 invoice_void, a draft 409 invoice_not_open.",
          params: IdParams,
          body: PayInvoiceBody,
          response: { 201: TransactionSchema, 202: TransactionSchema, ...errorResponses, 503: ErrorResponse },
        },
      },
      async (request, reply) => {
        const ctx = requestContext(request);
        return sendOutcome(
          reply,
          await runKeyed(deps, ctx, () => payInvoice(deps, ctx, request.params.id, request.body)),
        );
      },
    );
    app.post(
      '/v1/invoices/:id/write-off',
      {
        schema: {
          tags,
          summary: 'Write off part of an invoice',
          description:
            'A completed non-gateway write_off transaction allocated to the invoice (201). Never beyond the balance due (400 write_off_exceeds_balance_due). Reversed by POST /v1/transactions/{id}/refund on the write-off.',
          params: IdParams,
          body: WriteOffBody,
          response: { 201: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await writeOffInvoice(deps, requestContext(request), request.params.id, request.body)),
    );
    app.post(
      '/v1/invoices/:id/void',
      {
        preValidation: absentBodyIsEmpty,
        schema: {
          tags,
          summary: 'Void an invoice',
          description: 'Only while nothing is allocated to it (409 invoice_has_allocations); a void invoice is final.',
          params: IdParams,
          body: NoBody,
          response: { 200: InvoiceSchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await voidInvoice(deps, requestContext(request), request.params.id)),
    );
    app.get(
      '/v1/invoices/:id/transactions',
      {
        schema: {
          tags,
          summary: "An invoice's transactions",
          description:
            'Every transaction with an allocation to the invoice (payments, write-offs, refunds and reversals), newest first, each with what its allocations to this invoice assign (allocation.amount) and apply (allocation.applied_amount).',
          params: IdParams,
          querystring: Type.Object(ListQuery, { additionalProperties: false }),
          response: { 200: ListOf(InvoiceTransactionSchema), ...errorResponses },
        },
      },
      async (request) => listInvoiceTransactions(deps, request.params.id, request.query),
    );
  };
}
