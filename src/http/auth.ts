// Deny by default (X3): every route needs an API key unless its options say `config: { public: true }`; missing or
// wrong key 401, key without the scope 403. Decided from the route Fastify matched (request.routeOptions), never
// from the URL: the router decodes what a URL spells, so a check on the raw URL can be walked around
// (request-target.ts refuses such URLs as well). A request that matched no route reaches the not-found handler (404)
// and nothing else. The per-key rate limit (security.ts) is applied here, once the caller is known.
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { ApiKeyVerifier, Principal, Scope } from '../app/api-keys.js';
import { SettleError } from '../domain/errors.js';
import { requireScope } from './context.js';

/** Counts a request against the caller's rate limit; throws the 429 (with Retry-After set) when over it. */
export type RequestLimiter = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** Who may call one route: public (no key), or the scope a key needs. */
export interface RouteAccess {
  method: string;
  url: string;
  public: boolean;
  /** The scope needed (undefined for a public route). */
  scope: Scope | undefined;
}

/** The scope a route needs: its config.scope, else read for GET and HEAD and write for every other method. */
export function neededScope(method: string, config: FastifyContextConfig | undefined): Scope {
  return config?.scope ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'write');
}

export type Identity = { principal: Principal } | { error: SettleError };

/**
 * Who is calling, from the request's credentials: the one place that looks them up (a console session joins
 * here). The error is the 401 to answer when there is no valid credential.
 */
export async function identify(request: FastifyRequest, verifier: ApiKeyVerifier): Promise<Identity> {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) {
    return {
      error: new SettleError('authentication', 'api_key_missing', 'Send an API key: Authorization: Bearer <key>.'),
    };
  }
  const principal = await verifier.verify(match[1]);
  if (!principal) return { error: new SettleError('authentication', 'api_key_invalid', 'The API key is not valid.') };
  return { principal };
}

/**
 * Records every route registered from now on, for `app.routeAccess()` (what tests and tools read): call it before any
 * plugin that adds routes. A route's config is read when asked, after every onRoute hook (a plugin's scope may mark
 * its routes public after this hook saw them).
 */
export function trackRouteAccess(app: FastifyInstance): void {
  const routes: { method: string; url: string; options: RouteOptions }[] = [];
  app.decorate('routeAccess', () =>
    routes.map(({ method, url, options: { config } }) => {
      const isPublic = config?.public === true;
      return { method, url, public: isPublic, scope: isPublic ? undefined : neededScope(method, config) };
    }),
  );
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url, options: route });
  });
}

/** The deny-by-default hook. Register it after the hooks that must run first (headers, target check, CORS). */
export function registerAuth(
  app: FastifyInstance,
  verifier: ApiKeyVerifier,
  options: { limit?: RequestLimiter } = {},
): void {
  app.decorateRequest('principal', undefined);

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions;
    // No route matched: the not-found handler answers 404 and no route handler runs.
    if (route.url === undefined) return;
    if (route.config.public === true) return;
    const identity = await identify(request, verifier);
    if ('principal' in identity) request.principal = identity.principal;
    // Counted per key when the key is valid, per client address otherwise (a wrong key is counted too).
    if (options.limit) await options.limit(request, reply);
    if ('error' in identity) throw identity.error;
    requireScope(request, neededScope(request.method, route.config));
  });
}
