// /v1/connected-accounts (Connect, M6): the gateway's connected accounts Settle knows (app/connect/).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  createConnectedAccount,
  getConnectedAccount,
  listConnectedAccounts,
} from '../../app/connect/connected-accounts.js';
import type { Deps } from '../../app/deps.js';
import { requestContext, sendOutcome } from '../context.js';
import { runKeyed } from '../keyed-work.js';
import { errorResponses, IdParams, ListOf } from '../schemas/common.js';
import {
  ConnectedAccountSchema,
  CreateConnectedAccountBody,
  ListConnectedAccountsQuery,
} from '../schemas/connected-account.js';

const tags = ['connect'];

export function connectedAccountRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/connected-accounts',
      {
        schema: {
          tags,
          summary: 'Create or record a connected account',
          description:
            'With `account` (acct_...): records an account that exists at the gateway, after reading it there (400 account_not_found when the platform cannot reach it). Without: creates an account at the gateway (POST /v1/accounts; type, country, email) and records it. One record per gateway account (409 connected_account_exists).',
          body: CreateConnectedAccountBody,
          response: { 201: ConnectedAccountSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const ctx = requestContext(request);
        return sendOutcome(reply, await runKeyed(deps, ctx, () => createConnectedAccount(deps, ctx, request.body)));
      },
    );
    app.get(
      '/v1/connected-accounts',
      {
        schema: {
          tags,
          summary: 'List connected accounts',
          description: 'Newest first; filter: gateway_id.',
          querystring: ListConnectedAccountsQuery,
          response: { 200: ListOf(ConnectedAccountSchema), ...errorResponses },
        },
      },
      async (request) => listConnectedAccounts(deps, request.query),
    );
    app.get(
      '/v1/connected-accounts/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a connected account',
          params: IdParams,
          response: { 200: ConnectedAccountSchema, ...errorResponses },
        },
      },
      async (request) => getConnectedAccount(deps, request.params.id),
    );
  };
}
