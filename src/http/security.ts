// What every answer of the HTTP app gets before its route decides anything: security headers (helmet),
// the refusal of non-canonical request targets (request-target.ts), CORS for the origins configured
// (@fastify/cors, off unless SETTLE_CORS_ORIGINS lists some) and the per-key request rate limit
// (@fastify/rate-limit, counted in this process's memory). The order of registration is the order of the hooks.
import cors from '@fastify/cors';
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { Clock } from '../app/clock.js';
import { SettleError } from '../domain/errors.js';
import type { RequestLimiter } from './auth.js';
import { refuseNonCanonicalTargets } from './request-target.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Helmet's options for this route, over the API's (securityHeaders; servePublicPages sets them). */
    helmet?: ReturnType<typeof pageHeaders>;
  }
  interface RouteShorthandOptions {
    /** A page route's own headers (pageHeaders); copied to `config.helmet` when the route is added. */
    helmet?: ReturnType<typeof pageHeaders>;
  }
}

/** SETTLE_API_RATE_LIMIT's default (src/config.ts): requests per second per API key in one process. */
export const DEFAULT_API_RATE_LIMIT_PER_SECOND = 100;

export interface SecurityOptions {
  /** Origins allowed to call the API from a browser; empty: CORS is off (no CORS header is ever sent). */
  corsOrigins: readonly string[];
  /** Requests per second per API key (per client address without a valid key); 0: no limit. */
  apiRateLimitPerSecond: number;
  /** The time the rate limit's one-second windows follow (the app's clock: tests freeze it). */
  clock: Clock;
}

export type CspDirectives = Record<string, string[]>;

/**
 * Helmet's options for a route that serves a page with its own Content-Security-Policy (the API's forbids
 * everything). Give them as the route option `helmet: pageHeaders({...})` (a route of a plugin: `config.helmet`
 * from an onRoute hook, as `servePublicPages` does). Only the directives given are sent (no helmet defaults).
 */
export function pageHeaders(directives: CspDirectives): {
  contentSecurityPolicy: { useDefaults: false; directives: CspDirectives };
} {
  return { contentSecurityPolicy: { useDefaults: false, directives } };
}

/** JSON answers load nothing, run nothing and are never framed. */
const API_CSP: CspDirectives = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/**
 * Swagger UI at /docs (@fastify/swagger-ui): its HTML loads its scripts, styles and icons from /docs/static (no
 * inline script), fetches /docs/json and sends "try it out" requests to this origin, and its initializer sets the
 * logo as a data: image. Inline styles are allowed (the UI sets some); no upgrade-insecure-requests, since Settle
 * is often served over plain HTTP on a private address.
 */
export const DOCS_CSP: CspDirectives = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * Marks every route registered in `scope` from now on public (no API key) with the page headers given: for the
 * routes of a plugin that serves a page (Swagger UI), whose route options Settle does not write.
 */
export function servePublicPages(scope: FastifyInstance, headers: ReturnType<typeof pageHeaders>): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: true, helmet: headers };
  });
}

/**
 * Helmet's headers on every answer, errors and 404s included: the API's, or a route's own (`config.helmet`, merged
 * over the API's). Each set of options is turned into helmet's middleware once, the first time a request needs it.
 * (@fastify/helmet, used before, built the middleware again on every request: 4.6% of the webhook intake's CPU in
 * the scheduled-charges-webhooks benchmark's profile, docs/PERFORMANCE.md.)
 */
function securityHeaders(app: FastifyInstance, apiOptions: HelmetOptions): void {
  const apiHeaders = helmet(apiOptions);
  const routeHeaders = new WeakMap<object, ReturnType<typeof helmet>>();
  app.addHook('onRoute', (route) => {
    if (route.helmet !== undefined) route.config = { ...route.config, helmet: route.helmet };
  });
  app.addHook('onRequest', (request, reply, done) => {
    const own = request.routeOptions.config.helmet;
    let headers = apiHeaders;
    if (own !== undefined) {
      headers = routeHeaders.get(own) ?? helmet({ ...apiOptions, ...own });
      routeHeaders.set(own, headers);
    }
    headers(request.raw, reply.raw, (error?: unknown) => {
      done(error === undefined || error instanceof Error ? error : new Error(String(error)));
    });
  });
}

/** The rate limit's counts: one window per `timeWindow` ms of the clock, every key's count reset when it ends. */
function windowStore(clock: Clock): new () => FastifyRateLimitStore {
  return class WindowStore implements FastifyRateLimitStore {
    #window = Number.NaN;
    #counts = new Map<string, number>();
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      const now = clock.now().getTime();
      const window = Math.floor(now / timeWindow);
      if (window !== this.#window) {
        this.#window = window;
        this.#counts.clear();
      }
      const current = (this.#counts.get(key) ?? 0) + 1;
      this.#counts.set(key, current);
      callback(null, { current, ttl: (window + 1) * timeWindow - now });
    }
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

/** Counted per API key once authenticated, per client address otherwise (auth.ts sets the principal first). */
function rateLimitKey(request: FastifyRequest): string {
  return request.principal ? `key:${request.principal.keyId}` : `address:${request.ip}`;
}

/** The CORS preflight route (@fastify/cors's OPTIONS *) needs no key: browsers never send credentials on it. */
function isCorsPreflightRoute(route: RouteOptions): boolean {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return route.url === '*' && methods.length === 1 && methods[0] === 'OPTIONS';
}

/**
 * Registers helmet, the request-target check, CORS (when origins are configured) and the rate limit's store, in
 * that order, before any route. Returns the rate limit for auth.ts to apply once it knows who is calling
 * (undefined when it is off).
 */
export async function registerSecurity(
  app: FastifyInstance,
  options: SecurityOptions,
): Promise<RequestLimiter | undefined> {
  // Every answer, errors and 404s included; routes serving pages set their own CSP (pageHeaders).
  securityHeaders(app, { contentSecurityPolicy: { useDefaults: false, directives: API_CSP } });
  refuseNonCanonicalTargets(app);

  if (options.corsOrigins.length > 0) {
    app.addHook('onRoute', (route) => {
      if (isCorsPreflightRoute(route)) route.config = { ...route.config, public: true };
    });
    await app.register(cors, {
      origin: [...options.corsOrigins],
      credentials: false,
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      // X-CSRF-Token: what a write through a console session sends (http/auth.ts).
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-CSRF-Token'],
      exposedHeaders: ['Idempotency-Replayed', 'Retry-After'],
      maxAge: 600,
    });
  }

  if (options.apiRateLimitPerSecond <= 0) return undefined;
  const perSecond = options.apiRateLimitPerSecond;
  await app.register(rateLimit, {
    // Applied by auth.ts (after the key is known), not by a hook on every route.
    global: false,
    max: perSecond,
    timeWindow: 1000,
    store: windowStore(options.clock),
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, context) =>
      new SettleError(
        'rate_limit',
        'rate_limited',
        `Too many requests: at most ${context.max} per second for one API key; retry after ${Math.max(1, Math.ceil(context.ttl / 1000))} second(s) (Retry-After).`,
      ),
  });
  const limiter = app.rateLimit();
  return async (request, reply) => {
    await limiter.call(app, request, reply);
  };
}
