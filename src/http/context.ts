// Per-request helpers shared by route modules: the acting principal, scope checks, idempotency input.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Principal, hasScope, type Scope } from '../app/api-keys.js';
import type { RunOutcome } from '../app/command-runner.js';
import type { RequestContext } from '../app/deps.js';
import { SettleError } from '../domain/errors.js';
import type { RouteAccess } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; GET and HEAD default to read, other methods to write. */
    scope?: Scope;
    /** The route needs no API key (health, docs, the webhook intake, which checks a signature). Every other route needs one. */
    public?: boolean;
  }
  interface FastifyInstance {
    /** Every route's access rule, as registered (auth.ts). */
    routeAccess(): RouteAccess[];
  }
}

export function requireScope(request: FastifyRequest, needed: Scope): Principal {
  const principal = request.principal;
  if (!principal)
    throw new SettleError('authentication', 'api_key_missing', 'Send an API key: Authorization: Bearer <key>.');
  if (!hasScope(principal.scopes, needed)) {
    throw new SettleError('permission', 'insufficient_scope', `This API key lacks the '${needed}' scope needed here.`);
  }
  return principal;
}

/** The acting principal and, for a write with an Idempotency-Key header, its idempotency input. */
export function requestContext(request: FastifyRequest): RequestContext {
  const principal = request.principal;
  const actor = principal ? `api_key:${principal.keyId}` : 'anonymous';
  const header = request.headers['idempotency-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || request.method === 'GET') return { actor };
  return {
    actor,
    idempotency: {
      apiKeyId: principal?.keyId ?? 'anonymous',
      key,
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      body: request.body ?? null,
    },
  };
}

/** Sends a command's stored or fresh response, marking replays (`Idempotency-Replayed: true`). */
export function sendOutcome<T>(reply: FastifyReply, outcome: RunOutcome<T>): FastifyReply {
  if (outcome.replayed) reply.header('Idempotency-Replayed', 'true');
  return reply.code(outcome.status).send(outcome.body);
}
