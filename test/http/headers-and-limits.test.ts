// Security headers on every answer (helmet; the docs page's own CSP, which must let Swagger UI load), CORS (off by
// default; only the configured origins, without credentials), and the per-key request rate limit (deterministic:
// its one-second windows follow the harness's frozen FakeClock, so no answer depends on how fast the machine is).
import Fastify from 'fastify';
import { expect, it } from 'vitest';
import { FakeClock } from '../../src/app/clock.js';
import { buildApp } from '../../src/http/app.js';
import { pageHeaders, registerSecurity } from '../../src/http/security.js';
import { ADMIN_KEY, describeEachDatabase } from '../support/harness.js';

const API_CSP = "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'";

/** The CSP header as directive -> sources. */
function csp(header: unknown): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of String(header).split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name, sources);
  }
  return directives;
}

function expectSecurityHeaders(headers: Record<string, unknown>): void {
  expect(headers['x-powered-by']).toBeUndefined();
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('SAMEORIGIN');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['strict-transport-security']).toMatch(/^max-age=\d+/);
  expect(headers['cross-origin-resource-policy']).toBe('same-origin');
  expect(headers['content-security-policy']).toBeDefined();
}

describeEachDatabase('headers, CORS and the API rate limit', (get) => {
  it('every kind of answer carries the security headers and the API CSP, and no x-powered-by', async () => {
    const h = get();
    const answers = [
      await h.request('GET', '/healthz', undefined, {}, null),
      await h.request('GET', '/v1/transactions'),
      await h.request('GET', '/v1/transactions', undefined, {}, null),
      await h.request('PATCH', '/v1/settings', {}, {}, await h.keyWith(['read'])),
      await h.request('GET', '/v1/nothing-here'),
      await h.request('GET', '/v1//transactions'),
      await h.request('POST', '/v1/transactions', { amount: 'ten' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 401, 403, 404, 400, 400]);
    for (const answer of answers) {
      expectSecurityHeaders(answer.headers);
      expect(answer.headers['content-security-policy']).toBe(API_CSP);
    }
  });

  it('/docs sends its own CSP, which allows everything the page loads, and every asset loads', async () => {
    const h = get();
    for (const page of ['/docs', '/docs/']) {
      const answer = await h.app.inject({ method: 'GET', url: page });
      expect(answer.statusCode).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      expectSecurityHeaders(answer.headers);
      const policy = csp(answer.headers['content-security-policy']);
      expect(policy.get('default-src')).toEqual(["'self'"]);
      expect(policy.get('script-src')).toEqual(["'self'"]);
      expect(policy.get('style-src')).toContain("'self'");
      expect(policy.get('img-src')).toEqual(expect.arrayContaining(["'self'", 'data:']));
      expect(policy.get('connect-src')).toEqual(["'self'"]);
      expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
      expect(policy.has('upgrade-insecure-requests')).toBe(false);

      const html = answer.body;
      // No inline script and no event-handler attribute: script-src 'self' must be enough.
      const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1] ?? '');
      expect(scripts.length).toBeGreaterThanOrEqual(3);
      for (const attributes of scripts) expect(attributes).toMatch(/\bsrc="[^"]+"/);
      expect(html).not.toMatch(/\son[a-z]+\s*=/i);
      // Every script, stylesheet and icon is on this origin and answers 200 with its type.
      const urls = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map(
        (m) => new URL(m[1]!, `http://settle.test${page}`),
      );
      expect(urls.length).toBeGreaterThanOrEqual(6);
      for (const url of urls) {
        expect(url.origin).toBe('http://settle.test');
        const asset = await h.app.inject({ method: 'GET', url: url.pathname });
        expect({ url: url.pathname, status: asset.statusCode }).toEqual({ url: url.pathname, status: 200 });
        const type = String(asset.headers['content-type']);
        if (url.pathname.endsWith('.js')) expect(type).toMatch(/javascript/);
        if (url.pathname.endsWith('.css')) expect(type).toMatch(/^text\/css/);
        if (url.pathname.endsWith('.png')) expect(type).toMatch(/^image\/png/);
      }
    }
    // The initializer sets the logo as a data: image (img-src data:) and fetches ./json (connect-src 'self').
    const initializer = await h.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(initializer.body).toContain('data:image/');
    expect(initializer.body).toContain("resolveUrl('./json')");
    const spec = await h.app.inject({ method: 'GET', url: '/docs/json' });
    expect(spec.statusCode).toBe(200);
    expect(JSON.parse(spec.body).openapi).toBe('3.1.0');
  });

  it('a page route sets its own CSP with the route option helmet: pageHeaders(...) (the seam for other pages)', async () => {
    const app = Fastify();
    await registerSecurity(app, {
      corsOrigins: [],
      apiRateLimitPerSecond: 0,
      clock: new FakeClock('2026-11-24T12:00:00Z'),
    });
    app.get(
      '/page',
      {
        config: { public: true },
        helmet: pageHeaders({ 'default-src': ["'self'"], 'script-src': ["'self'", "'nonce-abc'"] }),
      },
      async () => 'page',
    );
    app.get('/api', async () => ({}));
    try {
      expect((await app.inject({ method: 'GET', url: '/page' })).headers['content-security-policy']).toBe(
        "default-src 'self';script-src 'self' 'nonce-abc'",
      );
      expect((await app.inject({ method: 'GET', url: '/api' })).headers['content-security-policy']).toBe(API_CSP);
    } finally {
      await app.close();
    }
  });

  it('CORS is off by default: no CORS header, and a preflight finds no route', async () => {
    const h = get();
    const simple = await h.request('GET', '/v1/transactions', undefined, { origin: 'https://erp.example.com' });
    expect(simple.status).toBe(200);
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await h.app.inject({
      method: 'OPTIONS',
      url: '/v1/transactions',
      headers: {
        origin: 'https://erp.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.statusCode).toBe(404);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('with SETTLE_CORS_ORIGINS: only those origins, no credentials, preflight without a key', async () => {
    const h = get();
    const app = await buildApp({
      deps: h.deps,
      bootstrapApiKey: ADMIN_KEY,
      apiRateLimitPerSecond: 0,
      corsOrigins: ['https://erp.example.com'],
    });
    try {
      const auth = { authorization: `Bearer ${ADMIN_KEY}` };
      const allowed = await app.inject({
        method: 'GET',
        url: '/v1/transactions',
        headers: { ...auth, origin: 'https://erp.example.com' },
      });
      expect(allowed.statusCode).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://erp.example.com');
      expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
      expect(String(allowed.headers.vary)).toMatch(/origin/i);
      expectSecurityHeaders(allowed.headers);

      // An error is readable by the allowed origin too (the CORS hook runs before auth).
      const unauthenticated = await app.inject({
        method: 'GET',
        url: '/v1/transactions',
        headers: { origin: 'https://erp.example.com' },
      });
      expect(unauthenticated.statusCode).toBe(401);
      expect(unauthenticated.headers['access-control-allow-origin']).toBe('https://erp.example.com');

      for (const origin of [
        'https://evil.example.com',
        'https://erp.example.com.evil.test',
        'http://erp.example.com',
        'null',
      ]) {
        const other = await app.inject({ method: 'GET', url: '/v1/transactions', headers: { ...auth, origin } });
        expect(other.headers['access-control-allow-origin']).toBeUndefined();
      }

      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/v1/transactions',
        headers: {
          origin: 'https://erp.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,idempotency-key',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://erp.example.com');
      expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');
      expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
      expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();

      const foreignPreflight = await app.inject({
        method: 'OPTIONS',
        url: '/v1/transactions',
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
      });
      expect(foreignPreflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(app.routeAccess().find((r) => r.method === 'OPTIONS' && r.url === '*')).toMatchObject({ public: true });
      // The preflight route serves no other request: a non-preflight OPTIONS reaches no handler.
      expect((await app.inject({ method: 'OPTIONS', url: '/v1/transactions' })).statusCode).toBeGreaterThanOrEqual(400);
    } finally {
      await app.close();
    }
  });

  it('rate limit: N per second per key, the N+1st sent at once gets 429 rate_limited with Retry-After; other keys and the next second are not affected', async () => {
    const h = get();
    const app = await buildApp({ deps: h.deps, bootstrapApiKey: ADMIN_KEY, apiRateLimitPerSecond: 3 });
    try {
      const key = await h.keyWith(['read']);
      const other = await h.keyWith(['read']);
      const send = (secret: string | null, url = '/v1/transactions') =>
        app.inject({ method: 'GET', url, headers: secret === null ? {} : { authorization: `Bearer ${secret}` } });

      const burst = await Promise.all([send(key), send(key), send(key), send(key)]);
      const statuses = burst.map((a) => a.statusCode).sort();
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = burst.find((a) => a.statusCode === 429)!;
      expect(limited.headers['retry-after']).toBe('1');
      expect(JSON.parse(limited.body).error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
      expectSecurityHeaders(limited.headers);
      expect((await send(key)).statusCode).toBe(429);

      // Another key has its own count; public routes are not counted.
      expect((await send(other)).statusCode).toBe(200);
      for (let i = 0; i < 5; i += 1) expect((await send(null, '/healthz')).statusCode).toBe(200);

      // Without a valid key: counted per client address, wrong keys included.
      const anonymous = await Promise.all([send(null), send(null), send('settle_not_a_key_000000000000000000000000')]);
      expect(anonymous.map((a) => a.statusCode)).toEqual([401, 401, 401]);
      const overAnonymous = await send(null);
      expect(overAnonymous.statusCode).toBe(429);
      expect(overAnonymous.headers['retry-after']).toBe('1');

      // The next second (of the app's clock) starts a new count.
      h.clock.advance(1000);
      expect((await send(key)).statusCode).toBe(200);
      expect((await send(null)).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('rate limit 0 is off (the harness app): more than the default 100 requests of one key in one second all answer', async () => {
    const h = get();
    const answers = await Promise.all(Array.from({ length: 150 }, () => h.request('GET', '/metrics')));
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  });
});
