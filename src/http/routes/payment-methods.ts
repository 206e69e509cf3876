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
            "Records a gateway token (never a card number). A contact given alone brings its account; a contact given with an account must belong to it. is_default true makes it the default of its account and/or contact and rolls it down onto their open transactions. A card with an owner is saved at the default gateway for off-session charges: Settle ensures the owner's gateway Customer (its contact's, else its account's), creates and confirms a SetupIntent (usage off_session) and keeps the PaymentMethod the gateway saved (gateway_token becomes its pm_... id) with its card details. A declined or refused save is a 400 and stores nothing. A card whose holder must authenticate (3-D Secure) is stored `pending` (setup_status requires_action) and becomes valid once the holder has (webhook setup_intent.succeeded, or a later read). 202: the gateway's answer was lost; the method is stored `pending` (setup_status unknown) and the next read completes the save with the same request. A method without an account or contact is one-time: it is not saved at the gateway.",
          body: CreatePaymentMethodBody,
          response: { 201: PaymentMethodSchema, 202: PaymentMethodSchema, ...errorResponses },
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
