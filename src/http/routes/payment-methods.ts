// /v1/payment-methods (R5): gateway tokens only, never card numbers (X3).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../app/deps.js';
import {
  createPaymentMethod,
  getPaymentMethod,
  listPaymentMethods,
  updatePaymentMethod,
} from '../../app/payment-methods.js';
import { requestContext, sendOutcome } from '../context.js';
import { errorResponses, IdParams, ListOf } from '../schemas/common.js';
import {
  CreatePaymentMethodBody,
  ListPaymentMethodsQuery,
  PaymentMethodSchema,
  UpdatePaymentMethodBody,
} from '../schemas/payment-method.js';

const tags = ['payment methods'];

export function paymentMethodRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/payment-methods',
      {
        schema: {
          tags,
          summary: 'Create a payment method',
          description:
            'Records a gateway token (never a card number). A contact given alone brings its account; a contact given with an account must belong to it. is_default true makes it the default of its account and/or contact and rolls it down onto their open transactions.',
          body: CreatePaymentMethodBody,
          response: { 201: PaymentMethodSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await createPaymentMethod(deps, requestContext(request), request.body)),
    );

    app.get(
      '/v1/payment-methods',
      {
        schema: {
          tags,
          summary: 'List payment methods',
          description: 'Newest first; filter by account_id, contact_id, type, status.',
          querystring: ListPaymentMethodsQuery,
          response: { 200: ListOf(PaymentMethodSchema), ...errorResponses },
        },
      },
      async (request) => listPaymentMethods(deps, request.query),
    );

    app.get(
      '/v1/payment-methods/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a payment method',
          params: IdParams,
          response: { 200: PaymentMethodSchema, ...errorResponses },
        },
      },
      async (request) => getPaymentMethod(deps, request.params.id),
    );

    app.patch(
      '/v1/payment-methods/:id',
      {
        schema: {
          tags,
          summary: 'Update a payment method',
          description:
            'status, expiry (cards), billing_email, brand, last4, funding, metadata (merged; empty string or null removes a key) and is_default. gateway_token and type cannot change.',
          params: IdParams,
          body: UpdatePaymentMethodBody,
          response: { 200: PaymentMethodSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await updatePaymentMethod(deps, requestContext(request), request.params.id, request.body)),
    );
  };
}
