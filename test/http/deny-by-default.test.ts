// Deny by default: every route of the app needs a key unless it is in PUBLIC below. The routes come from the app
// itself (app.routeAccess(), recorded as they are registered), so a route added later is covered without editing
// this test: without a key it must answer 401; a route that needs `write` answers 403 to a `read` key, one that needs
// `admin` answers 403 to a `write` key. Nothing here may reach a handler.
import { beforeAll, expect, it } from 'vitest';
import type { RouteAccess } from '../../src/http/auth.js';
import { buildApp } from '../../src/http/app.js';
import { ADMIN_KEY, describeEachDatabase } from '../support/harness.js';

/**
 * The routes that need no key, each for a reason: health checks, the API description, the docs page, the webhook
 * intake (its signature), the console's sign-in (its email and password) and the console's files.
 */
const PUBLIC = [
  'GET /healthz',
  'HEAD /healthz',
  'GET /readyz',
  'HEAD /readyz',
  'GET /openapi.json',
  'HEAD /openapi.json',
  'GET /docs',
  'HEAD /docs',
  'HEAD /docs/',
  'GET /docs/json',
  'HEAD /docs/json',
  'GET /docs/yaml',
  'HEAD /docs/yaml',
  'GET /docs/static/index.html',
  'HEAD /docs/static/index.html',
  'GET /docs/static/swagger-initializer.js',
  'HEAD /docs/static/swagger-initializer.js',
  'GET /docs/static/*',
  'HEAD /docs/static/*',
  'POST /v1/webhooks/:gateway_id',
  'POST /v1/sessions',
  // The web console's files (its sign-in page and static assets); every call it makes needs the session.
  'GET /',
  'HEAD /',
  'GET /console',
  'HEAD /console',
  'GET /console/',
  'HEAD /console/',
  'GET /console/*',
  'HEAD /console/*',
].sort();

const label = (route: Pick<RouteAccess, 'method' | 'url'>): string => `${route.method} ${route.url}`;

/** The route's URL with every parameter (and a wildcard) filled with a dummy value. */
function concrete(url: string): string {
  return url.replace(/:[A-Za-z_]+/g, 'x_0000000000').replace(/\*$/, 'file.js');
}

describeEachDatabase("deny by default, from the app's own route list", (get) => {
  let routes: RouteAccess[] = [];
  let readKey = '';
  let writeKey = '';

  beforeAll(async () => {
    const h = get();
    routes = h.app.routeAccess();
    readKey = await h.keyWith(['read']);
    writeKey = await h.keyWith(['write']);
  });

  const inject = (method: string, url: string, key?: string) =>
    get().app.inject({
      method: method as 'GET',
      url,
      headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
      payload: method === 'GET' || method === 'HEAD' ? undefined : {},
    });

  it('lists every route, and only PUBLIC ones are public', () => {
    expect(routes.length).toBeGreaterThan(60);
    expect(routes.map(label)).toEqual(
      expect.arrayContaining([
        'GET /v1/transactions',
        'PATCH /v1/settings',
        'GET /metrics',
        'POST /v1/webhooks/:gateway_id',
      ]),
    );
    expect(
      routes
        .filter((route) => route.public)
        .map(label)
        .sort(),
    ).toEqual(PUBLIC);
  });

  it('every other route answers 401 without a key, and 401 to a key that is not one', async () => {
    const protectedRoutes = routes.filter((route) => !route.public);
    for (const route of protectedRoutes) {
      const url = concrete(route.url);
      const none = await inject(route.method, url);
      expect({ route: label(route), status: none.statusCode }).toEqual({ route: label(route), status: 401 });
      if (route.method !== 'HEAD')
        expect(JSON.parse(none.body).error).toMatchObject({ type: 'authentication_error', code: 'api_key_missing' });
      const wrong = await inject(route.method, url, 'settle_not_a_key_000000000000000000000000');
      expect({ route: label(route), status: wrong.statusCode }).toEqual({ route: label(route), status: 401 });
    }
  });

  it('a route that needs write refuses a read key; one that needs admin refuses a write key (403 insufficient_scope)', async () => {
    let checked = 0;
    for (const route of routes.filter((r) => r.scope === 'write' || r.scope === 'admin')) {
      const url = concrete(route.url);
      const lower = route.scope === 'admin' ? [readKey, writeKey] : [readKey];
      for (const key of lower) {
        const answer = await inject(route.method, url, key);
        expect({ route: label(route), status: answer.statusCode }).toEqual({ route: label(route), status: 403 });
        if (route.method !== 'HEAD')
          expect(JSON.parse(answer.body).error).toMatchObject({ type: 'permission_error', code: 'insufficient_scope' });
      }
      checked += 1;
    }
    expect(checked).toBeGreaterThan(20);
    expect(routes.find((r) => label(r) === 'PATCH /v1/settings')?.scope).toBe('admin');
    expect(routes.find((r) => label(r) === 'POST /v1/transactions')?.scope).toBe('write');
  });

  it('public routes answer without a key (never 401)', async () => {
    for (const route of routes.filter((r) => r.public)) {
      const answer = await inject(route.method, concrete(route.url));
      expect({ route: label(route), status: answer.statusCode }).not.toEqual({ route: label(route), status: 401 });
    }
    expect((await inject('GET', '/healthz')).statusCode).toBe(200);
    expect((await inject('GET', '/docs/json')).statusCode).toBe(200);
  });

  it('a request that matches no route gets 404 route_not_found, with or without a key', async () => {
    for (const key of [undefined, readKey, ADMIN_KEY]) {
      for (const [method, url] of [
        ['GET', '/v1/nothing'],
        ['POST', '/v1/transactions/x/nothing'],
        ['DELETE', '/v1/settings'],
        ['GET', '/v2/transactions'],
        ['PUT', '/v1/transactions'],
      ]) {
        const answer = await inject(method!, url!, key);
        expect(answer.statusCode).toBe(404);
        expect(JSON.parse(answer.body).error.code).toBe('route_not_found');
      }
    }
  });

  it('GET /metrics needs a read key unless metricsPublic (SETTLE_METRICS_PUBLIC=true)', async () => {
    const h = get();
    expect(routes.find((r) => label(r) === 'GET /metrics')).toMatchObject({ public: false, scope: 'read' });
    expect((await inject('GET', '/metrics')).statusCode).toBe(401);
    const withKey = await inject('GET', '/metrics', readKey);
    expect(withKey.statusCode).toBe(200);
    expect(withKey.body).toContain('settle_http_requests_total');

    const open = await buildApp({
      deps: h.deps,
      bootstrapApiKey: ADMIN_KEY,
      apiRateLimitPerSecond: 0,
      metricsPublic: true,
    });
    try {
      expect(open.routeAccess().find((r) => label(r) === 'GET /metrics')).toMatchObject({ public: true });
      const answer = await open.inject({ method: 'GET', url: '/metrics' });
      expect(answer.statusCode).toBe(200);
      expect(answer.body).toContain('settle_http_requests_total');
      expect((await open.inject({ method: 'GET', url: '/v1/transactions' })).statusCode).toBe(401);
    } finally {
      await open.close();
    }
  });
});
