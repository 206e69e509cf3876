// Sign-in hardening: CORS lets a browser send X-CSRF-Token; at most 20 sign-in attempts a minute per client address
// (429 rate_limited with Retry-After, in memory, by the app's clock); a session's last_seen_at moves at most once a
// minute and GET /v1/sessions/current shows it.
import { expect, it } from 'vitest';
import { ADDRESS_ATTEMPTS } from '../../src/app/sessions.js';
import { buildApp } from '../../src/http/app.js';
import { ADMIN_KEY, describeEachDatabase, type Harness } from '../support/harness.js';
import { asSession, insertUser, PASSWORD, signIn } from './support.js';

/** A sign-in attempt from `address` (the client address Fastify sees: request.ip). */
async function attemptFrom(h: Harness, address: string, email: string, password: string) {
  const response = await h.app.inject({
    method: 'POST',
    url: '/v1/sessions',
    remoteAddress: address,
    payload: { email, password },
  });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

async function lastSeenInDatabase(h: Harness, id: string): Promise<string> {
  const row = await h.deps.db
    .selectFrom('sessions')
    .select('last_seen_at')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return new Date(row.last_seen_at).toISOString();
}

describeEachDatabase('sign-in hardening', (get) => {
  it('CORS (SETTLE_CORS_ORIGINS): a preflight may ask for X-CSRF-Token', async () => {
    const h = get();
    const app = await buildApp({
      deps: h.deps,
      bootstrapApiKey: ADMIN_KEY,
      apiRateLimitPerSecond: 0,
      corsOrigins: ['https://console.example.com'],
    });
    try {
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/v1/transactions',
        headers: {
          origin: 'https://console.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,idempotency-key,x-csrf-token',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://console.example.com');
      const allowed = String(preflight.headers['access-control-allow-headers'])
        .toLowerCase()
        .split(',')
        .map((s) => s.trim());
      expect(allowed).toEqual(
        expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'x-csrf-token']),
      );
    } finally {
      await app.close();
    }
  });

  it(`at most ${ADDRESS_ATTEMPTS} sign-in attempts a minute from one address: then 429 rate_limited with Retry-After`, async () => {
    const h = get();
    await insertUser(h, 'limited@example.com', 'operator');
    const start = h.clock.now().getTime();
    // 20 attempts from one address for an email in its back-off (answered 429 sign_in_throttled without a password
    // being hashed, so the test is quick): each is counted.
    await h.deps.db
      .insertInto('sign_in_failures')
      .values(Array.from({ length: 10 }, () => ({ email: 'throttled@example.com', at: new Date(start) })))
      .execute();
    const first = await Promise.all(
      Array.from({ length: ADDRESS_ATTEMPTS }, () =>
        attemptFrom(h, '203.0.113.7', 'throttled@example.com', 'wrong password!'),
      ),
    );
    expect(first.map((r) => r.body.error.code)).toEqual(Array(ADDRESS_ATTEMPTS).fill('sign_in_throttled'));

    // The 21st, even with the right password, is refused before anything is checked; nothing is recorded for it.
    const failuresBefore = await h.deps.db.selectFrom('sign_in_failures').selectAll().execute();
    const refused = await attemptFrom(h, '203.0.113.7', 'limited@example.com', PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect(await h.deps.db.selectFrom('sign_in_failures').selectAll().execute()).toHaveLength(failuresBefore.length);

    // Another address is not limited by it.
    expect((await attemptFrom(h, '203.0.113.8', 'limited@example.com', PASSWORD)).status).toBe(201);

    // Half a minute later: still refused, for the rest of the minute.
    h.clock.set(new Date(start + 30_000));
    const later = await attemptFrom(h, '203.0.113.7', 'limited@example.com', PASSWORD);
    expect(later.status).toBe(429);
    expect(later.headers['retry-after']).toBe('30');

    // A minute after the first 20: admitted again.
    h.clock.set(new Date(start + 60_000));
    expect((await attemptFrom(h, '203.0.113.7', 'limited@example.com', PASSWORD)).status).toBe(201);
  }, 120_000);

  it('last_seen_at moves when the session is used, at most once a minute; GET /v1/sessions/current shows it', async () => {
    const h = get();
    await insertUser(h, 'seen@example.com', 'viewer');
    const signedInAt = h.clock.now().getTime();
    const session = await signIn(h, 'seen@example.com');
    const id = session.response.body.id as string;
    expect(session.response.body.last_seen_at).toBe(new Date(signedInAt).toISOString());

    const at = (ms: number) => new Date(signedInAt + ms).toISOString();
    const current = async () => {
      const res = await asSession(h, session, 'GET', '/v1/sessions/current');
      expect(res.status).toBe(200);
      return res.body.last_seen_at as string;
    };
    expect(await current()).toBe(at(0));

    // Used within the minute: not written again.
    h.clock.set(new Date(signedInAt + 59_000));
    expect((await asSession(h, session, 'GET', '/v1/transactions')).status).toBe(200);
    expect(await lastSeenInDatabase(h, id)).toBe(at(0));
    expect(await current()).toBe(at(0));

    // A minute after the last write: written by the next request, then not again within the next minute.
    h.clock.set(new Date(signedInAt + 60_000));
    expect(await current()).toBe(at(60_000));
    h.clock.set(new Date(signedInAt + 100_000));
    expect((await asSession(h, session, 'GET', '/v1/transactions')).status).toBe(200);
    expect(await lastSeenInDatabase(h, id)).toBe(at(60_000));
    h.clock.set(new Date(signedInAt + 125_000));
    expect(await current()).toBe(at(125_000));
  });
});
