// Deny by default (X3): every route needs an API key unless its options say `config: { public: true }`; missing or
// wrong key 401, key without the scope 403. Decided from the route Fastify matched (request.routeOptions), never
// from the URL: the router decodes what a URL spells, so a check on the raw URL can be walked around
// (request-target.ts refuses such URLs as well). A request that matched no route reaches the not-found handler (404)
// and nothing else. The per-key rate limit (security.ts) is applied here, once the caller is known.
//
// A console session (app/sessions.ts) is the other credential: a request without an Authorization header but with a
// settle_session cookie is its session's user, with the user's role as scope. A write through a session must send
// the session's CSRF token in X-CSRF-Token (403 csrf_token_invalid otherwise): the cookie goes with every request the
// browser makes, the token only with the console's own. While the user must change their password, a session reaches
// only the routes marked `allowBeforePasswordChange` (403 password_change_required elsewhere). An API key needs no
// CSRF token: no cookie is involved, and a request with an Authorization header is judged by it alone.
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { ApiKeyVerifier, Principal, Scope } from '../app/api-keys.js';
import {
  type ActiveSession,
  authenticateSession,
  CSRF_HEADER,
  csrfTokenMatches,
  SESSION_COOKIE,
} from '../app/sessions.js';
import type { Clock } from '../app/clock.js';
import type { Db } from '../store/schema.js';
import { SettleError } from '../domain/errors.js';
import { requireScope } from './context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A console session whose user must change their password may still call this route (the sessions' own). */
    allowBeforePasswordChange?: boolean;
  }
  interface FastifyRequest {
    /** The console session the request came through (undefined for an API key). */
    session: ActiveSession | undefined;
  }
}

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

export type Identity = { principal: Principal; session?: ActiveSession } | { error: SettleError };

/** Where console sessions are looked up (the app's database and clock); without it, cookies are ignored. */
export interface SessionLookup {
  db: Db;
  clock: Clock;
}

/** The value of the named cookie in a Cookie header (the first, if sent twice); undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * Who is calling, from the request's credentials: the one place that looks them up. An Authorization header is an
 * API key; without one, a settle_session cookie is a console session. The error is the 401 to answer when there is
 * no valid credential.
 */
export async function identify(
  request: FastifyRequest,
  verifier: ApiKeyVerifier,
  sessions?: SessionLookup,
): Promise<Identity> {
  const header = request.headers.authorization;
  const cookie = header === undefined && sessions ? cookieValue(request.headers.cookie, SESSION_COOKIE) : undefined;
  if (cookie !== undefined && sessions) {
    const found = await authenticateSession(sessions, cookie);
    if (!found) {
      return {
        error: new SettleError(
          'authentication',
          'session_invalid',
          'The console session has ended (signed out, expired or its user disabled): sign in again.',
        ),
      };
    }
    return found;
  }
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
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A session's checks beyond the scope: the CSRF token on writes, then the password change it may owe. */
function checkSession(request: FastifyRequest, session: ActiveSession): void {
  if (!SAFE_METHODS.has(request.method)) {
    const header = request.headers[CSRF_HEADER];
    if (!csrfTokenMatches(session, Array.isArray(header) ? header[0] : header)) {
      throw new SettleError(
        'permission',
        'csrf_token_invalid',
        "A write through a console session must send the session's CSRF token (from the sign-in) in X-CSRF-Token.",
      );
    }
  }
  if (session.mustChangePassword && request.routeOptions.config.allowBeforePasswordChange !== true) {
    throw new SettleError(
      'permission',
      'password_change_required',
      'Set your own password first: POST /v1/sessions/current/password with current_password and new_password.',
    );
  }
}

export function registerAuth(
  app: FastifyInstance,
  verifier: ApiKeyVerifier,
  options: { limit?: RequestLimiter; sessions?: SessionLookup } = {},
): void {
  app.decorateRequest('principal', undefined);
  app.decorateRequest('session', undefined);

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions;
    // No route matched: the not-found handler answers 404 and no route handler runs.
    if (route.url === undefined) return;
    if (route.config.public === true) return;
    const identity = await identify(request, verifier, options.sessions);
    if ('principal' in identity) {
      request.principal = identity.principal;
      request.session = identity.session;
    }
    // Counted per key (a session: per user) when valid, per client address otherwise (a wrong key is counted too).
    if (options.limit) await options.limit(request, reply);
    if ('error' in identity) throw identity.error;
    if (identity.session) checkSession(request, identity.session);
    requireScope(request, neededScope(request.method, route.config));
  });
}
