// /v1/accounts and /v1/contacts (R6).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  createAccount,
  createContact,
  getAccount,
  getContact,
  listAccounts,
  listContacts,
  updateAccount,
  updateContact,
} from '../../app/customers.js';
import type { Deps } from '../../app/deps.js';
import { requestContext, sendOutcome } from '../context.js';
import { errorResponses, IdParams, ListOf } from '../schemas/common.js';
import {
  AccountSchema,
  ContactSchema,
  CreateAccountBody,
  CreateContactBody,
  ListAccountsQuery,
  ListContactsQuery,
  UpdateAccountBody,
  UpdateContactBody,
} from '../schemas/customers.js';

const ROLLDOWN =
  "Changing default_payment_method_id (one of this customer's payment methods) rolls it down onto every open transaction of the customer, except those with dont_auto_update_payment_method, unless the payment_method_rolldown_enabled setting is off.";

export function customerRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['accounts'];
    app.post(
      '/v1/accounts',
      {
        schema: {
          tags,
          summary: 'Create an account',
          description: 'An organisation that pays.',
          body: CreateAccountBody,
          response: { 201: AccountSchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await createAccount(deps, requestContext(request), request.body)),
    );
    app.get(
      '/v1/accounts',
      {
        schema: {
          tags,
          summary: 'List accounts',
          description: 'Newest first.',
          querystring: ListAccountsQuery,
          response: { 200: ListOf(AccountSchema), ...errorResponses },
        },
      },
      async (request) => listAccounts(deps, request.query),
    );
    app.get(
      '/v1/accounts/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve an account',
          params: IdParams,
          response: { 200: AccountSchema, ...errorResponses },
        },
      },
      async (request) => getAccount(deps, request.params.id),
    );
    app.patch(
      '/v1/accounts/:id',
      {
        schema: {
          tags,
          summary: 'Update an account',
          description: `Metadata merges (an empty string or null removes a key). ${ROLLDOWN}`,
          params: IdParams,
          body: UpdateAccountBody,
          response: { 200: AccountSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await updateAccount(deps, requestContext(request), request.params.id, request.body)),
    );

    const contactTags = ['contacts'];
    app.post(
      '/v1/contacts',
      {
        schema: {
          tags: contactTags,
          summary: 'Create a contact',
          description: 'A person, optionally of an account.',
          body: CreateContactBody,
          response: { 201: ContactSchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await createContact(deps, requestContext(request), request.body)),
    );
    app.get(
      '/v1/contacts',
      {
        schema: {
          tags: contactTags,
          summary: 'List contacts',
          description: 'Newest first; filter by account_id.',
          querystring: ListContactsQuery,
          response: { 200: ListOf(ContactSchema), ...errorResponses },
        },
      },
      async (request) => listContacts(deps, request.query),
    );
    app.get(
      '/v1/contacts/:id',
      {
        schema: {
          tags: contactTags,
          summary: 'Retrieve a contact',
          params: IdParams,
          response: { 200: ContactSchema, ...errorResponses },
        },
      },
      async (request) => getContact(deps, request.params.id),
    );
    app.patch(
      '/v1/contacts/:id',
      {
        schema: {
          tags: contactTags,
          summary: 'Update a contact',
          description: `Metadata merges (an empty string or null removes a key). ${ROLLDOWN}`,
          params: IdParams,
          body: UpdateContactBody,
          response: { 200: ContactSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await updateContact(deps, requestContext(request), request.params.id, request.body)),
    );
  };
}
