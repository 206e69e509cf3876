// /v1/gateways (G1): gateway records. Reading needs the read scope; creating and
// changing a gateway needs admin. Secrets by reference only (X3): responses name the variables, never values.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../app/deps.js';
import { createGateway, getGateway, listGateways, updateGateway } from '../../app/gateway-records.js';
import { requestContext, sendOutcome } from '../context.js';
import { errorResponses, IdParams, ListOf } from '../schemas/common.js';
import { CreateGatewayBody, GatewaySchema, ListGatewaysQuery, UpdateGatewayBody } from '../schemas/gateway.js';

const tags = ['gateways'];
const SECRETS =
  'Credentials are given by reference: secret_key_env and webhook_secret_env name environment variables of the Settle server. A gateway whose variable is not set is stored anyway and shows credentials_configured: false; secret values are never accepted or returned.';

export function gatewayRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/gateways',
      {
        schema: {
          tags,
          summary: 'List gateways',
          description: 'Newest first; filter by provider, mode, is_default.',
          querystring: ListGatewaysQuery,
          response: { 200: ListOf(GatewaySchema), ...errorResponses },
        },
      },
      async (request) => listGateways(deps, request.query),
    );

    app.get(
      '/v1/gateways/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a gateway',
          params: IdParams,
          response: { 200: GatewaySchema, ...errorResponses },
        },
      },
      async (request) => getGateway(deps, request.params.id),
    );

    app.post(
      '/v1/gateways',
      {
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: 'Create a gateway (admin)',
          description: `A payment gateway account: provider (stripe, spreedly), mode (test, live), settlement currency, request-rate limit (default 25/s in test mode, 100/s in live mode). is_default true makes it the default gateway, clearing the flag on the others. ${SECRETS}`,
          body: CreateGatewayBody,
          response: { 201: GatewaySchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await createGateway(deps, requestContext(request), request.body)),
    );

    app.patch(
      '/v1/gateways/:id',
      {
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: 'Update a gateway (admin)',
          description: `name, is_default, settlement_currency, rate_limit_per_second, endpoint_rate_limit_per_second, secret_key_env, webhook_secret_env, api_base and metadata (merged; an empty string or null removes a key). provider and mode cannot change. ${SECRETS}`,
          params: IdParams,
          body: UpdateGatewayBody,
          response: { 200: GatewaySchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await updateGateway(deps, requestContext(request), request.params.id, request.body)),
    );
  };
}
