// /v1/users (X3): console users, on PGlite as on PostgreSQL. Every route needs the admin scope. A generated password
// is in the fresh answer only (a replay with the same Idempotency-Key answers `password: null`); no answer ever
// holds a password hash. Creating, updating and resetting are audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../app/deps.js';
import { createUser, getUser, listUsers, resetUserPassword, updateUserCommand } from '../../app/users.js';
import { requestContext, sendOutcome } from '../context.js';
import { absentBodyIsEmpty, errorResponses, IdParams, ListOf, NoBody } from '../schemas/common.js';
import { CreateUserBody, ListUsersQuery, UpdateUserBody, UserSchema, UserWithPasswordSchema } from '../schemas/user.js';

const tags = ['users'];

export function userRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/users',
      {
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: 'Create a console user (admin)',
          description:
            'email (stored lower-case, unique: 409 user_exists), role (admin, operator, viewer) and optionally a password of 12 to 256 characters. Without a password Settle generates one, returns it once in `password` and the user must change it at first sign-in; a replay with the same Idempotency-Key answers password: null.',
          body: CreateUserBody,
          response: { 201: UserWithPasswordSchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await createUser(deps, requestContext(request), request.body)),
    );

    app.get(
      '/v1/users',
      {
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: 'List console users (admin)',
          description: 'Newest first.',
          querystring: ListUsersQuery,
          response: { 200: ListOf(UserSchema), ...errorResponses },
        },
      },
      async (request) => listUsers(deps, request.query),
    );

    app.get(
      '/v1/users/:id',
      {
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: 'Retrieve a console user (admin)',
          params: IdParams,
          response: { 200: UserSchema, ...errorResponses },
        },
      },
      async (request) => getUser(deps, request.params.id),
    );

    app.patch(
      '/v1/users/:id',
      {
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: 'Update a console user (admin)',
          description:
            'role and/or disabled. Disabling a user ends their sessions at once. A patch that changes nothing answers the user unchanged.',
          params: IdParams,
          body: UpdateUserBody,
          response: { 200: UserSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await updateUserCommand(deps, requestContext(request), request.params.id, request.body)),
    );

    app.post(
      '/v1/users/:id/reset-password',
      {
        config: { scope: 'admin' },
        preValidation: absentBodyIsEmpty,
        schema: {
          tags,
          summary: "Reset a console user's password (admin)",
          description:
            'A generated password, returned once in `password` (null in a replay with the same Idempotency-Key). The user must change it at their next sign-in; their sessions end now.',
          params: IdParams,
          body: NoBody,
          response: { 200: UserWithPasswordSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await resetUserPassword(deps, requestContext(request), request.params.id)),
    );
  };
}
