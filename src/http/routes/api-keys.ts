// /v1/api-keys (X3): API keys managed while Settle runs, on PGlite as on PostgreSQL. Every route needs the admin
// scope. A new key's secret is in the fresh answer only (a replay with the same Idempotency-Key answers
// `secret: null`); listing and retrieving never show a secret or a digest. Creating and revoking are audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  type ApiKeyVerifier,
  type BootstrapKeySource,
  createApiKey,
  getApiKey,
  listApiKeysPage,
  revokeApiKeyCommand,
} from '../../app/api-keys.js';
import type { Deps } from '../../app/deps.js';
import { requestContext, sendOutcome } from '../context.js';
import { ApiKeyCreatedSchema, ApiKeySchema, CreateApiKeyBody, ListApiKeysQuery } from '../schemas/api-key.js';
import { absentBodyIsEmpty, errorResponses, IdParams, ListOf, NoBody } from '../schemas/common.js';

const tags = ['api keys'];
const BOOTSTRAP =
  'The bootstrap admin key (SETTLE_API_KEY, or the key generated into data/admin-api-key) is listed as key_bootstrap and cannot be revoked here: rotate it by changing SETTLE_API_KEY, or by deleting data/admin-api-key, and restarting.';

export function apiKeyRoutes(
  deps: Deps,
  verifier: Pick<ApiKeyVerifier, 'forget'>,
  bootstrap: BootstrapKeySource | undefined,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/api-keys',
      {
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: 'Create an API key (admin)',
          description:
            'A new key with a name and scopes. The answer carries the secret once: Settle keeps only its SHA-256 digest. The same request repeated with its Idempotency-Key answers the same key with secret: null.',
          body: CreateApiKeyBody,
          response: { 201: ApiKeyCreatedSchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await createApiKey(deps, requestContext(request), request.body)),
    );

    app.get(
      '/v1/api-keys',
      {
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: 'List API keys (admin)',
          description: `Newest first, never with a secret. ${BOOTSTRAP}`,
          querystring: ListApiKeysQuery,
          response: { 200: ListOf(ApiKeySchema), ...errorResponses },
        },
      },
      async (request) => listApiKeysPage(deps, request.query, bootstrap),
    );

    app.get(
      '/v1/api-keys/:id',
      {
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: 'Retrieve an API key (admin)',
          description: 'Never with its secret.',
          params: IdParams,
          response: { 200: ApiKeySchema, ...errorResponses },
        },
      },
      async (request) => getApiKey(deps, request.params.id, bootstrap),
    );

    app.post(
      '/v1/api-keys/:id/revoke',
      {
        config: { scope: 'admin' },
        preValidation: absentBodyIsEmpty,
        schema: {
          tags,
          summary: 'Revoke an API key (admin)',
          description: `The key stops working at once on this server and within SETTLE_KEY_CACHE_SECONDS (default 5) on every other process. Revoking a revoked key answers it unchanged (200). ${BOOTSTRAP} (409 bootstrap_key_not_revocable)`,
          params: IdParams,
          body: NoBody,
          response: { 200: ApiKeySchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const outcome = await revokeApiKeyCommand(deps, requestContext(request), request.params.id, bootstrap);
        verifier.forget(outcome.body.id);
        return sendOutcome(reply, outcome);
      },
    );
  };
}
