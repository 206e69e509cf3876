// Console sessions (X3, issue 21): sign-in and its cookie (Secure only over https, directly or through a trusted
// proxy), the same 401 for every wrong credential, sign-out, expiry, reading and writing the API through a session
// (the CSRF token, the role's scope, source console), the password a user must change first, and the tokens never
// stored nor logged.
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { ADMIN_KEY, describeEachDatabase, type Harness } from '../support/harness.js';
import { asSession, insertUser, PASSWORD, sessionCookieOf, signIn, type SignedIn } from './support.js';

const charge = { amount: 1500, currency: 'USD', non_gateway: true };

/** Every stored value of every table, as text (to look for a secret in any column). */
async function everythingStored(h: Harness): Promise<string> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(
    h.deps.db,
  );
  let text = '';
  for (const { table_name } of tables.rows) {
    const rows = await sql<{
      row: unknown;
    }>`select row_to_json(t)::text as row from ${sql.table(table_name)} t`.execute(h.deps.db);
    for (const { row } of rows.rows) text += `${String(row)}\n`;
  }
  return text;
}

it('SETTLE_TRUST_PROXY: off by default; true; or addresses and CIDR ranges', () => {
  expect(loadConfig({}).trustProxy).toBe(false);
  expect(loadConfig({ SETTLE_TRUST_PROXY: 'off' }).trustProxy).toBe(false);
  expect(loadConfig({ SETTLE_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  expect(loadConfig({ SETTLE_TRUST_PROXY: '10.0.0.0/8, ::1' }).trustProxy).toEqual(['10.0.0.0/8', '::1']);
  expect(() => loadConfig({ SETTLE_TRUST_PROXY: 'proxy.example.com' })).toThrow(/SETTLE_TRUST_PROXY/);
});

describeEachDatabase('console sessions', (get) => {
  let admin: SignedIn;

  beforeAll(async () => {
    const h = get();
    await insertUser(h, 'admin@example.com', 'admin');
    await insertUser(h, 'viewer@example.com', 'viewer');
    await insertUser(h, 'gone@example.com', 'operator', { disabled: true });
    await insertUser(h, 'new@example.com', 'operator', { mustChangePassword: true });
    admin = await signIn(h, 'Admin@Example.com');
  });

  it('sign-in answers the user, the CSRF token and the expiry, and sets an HttpOnly, SameSite=Strict cookie (not Secure over http)', async () => {
    const h = get();
    const { response, token, csrf } = admin;
    expect(response.body).toMatchObject({
      object: 'session',
      user: { object: 'user', email: 'admin@example.com', role: 'admin', disabled: false, must_change_password: false },
      expires_at: new Date(h.clock.now().getTime() + 12 * 3600_000).toISOString(),
    });
    expect(response.body.id).toMatch(/^ses_/);
    expect(response.body.user.id).toMatch(/^usr_/);
    expect(response.body.user.last_sign_in_at).toBe(h.clock.now().toISOString());
    expect(JSON.stringify(response.body)).not.toMatch(/hash|scrypt/);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf).not.toBe(token);
    const cookie = sessionCookieOf(response);
    expect(cookie).toBe(`settle_session=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200`);
    expect(cookie).not.toContain('Secure');
  });

  it('the cookie is Secure over https through a trusted proxy (SETTLE_TRUST_PROXY), and not when the proxy is not trusted', async () => {
    const h = get();
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' };
    const viaProxy = (app: typeof h.app) =>
      app.inject({
        method: 'POST',
        url: '/v1/sessions',
        headers: forwarded,
        payload: { email: 'viewer@example.com', password: PASSWORD },
      });
    // The harness's app trusts no proxy: X-Forwarded-Proto is not believed.
    const untrusted = await viaProxy(h.app);
    expect(untrusted.statusCode).toBe(201);
    expect(String(untrusted.headers['set-cookie'])).not.toContain('Secure');

    for (const trustProxy of [true, ['127.0.0.1']] as const) {
      const app = await buildApp({
        deps: h.deps,
        bootstrapApiKey: ADMIN_KEY,
        apiRateLimitPerSecond: 0,
        trustProxy: trustProxy === true ? true : [...trustProxy],
      });
      try {
        const trusted = await viaProxy(app);
        expect(trusted.statusCode).toBe(201);
        expect(String(trusted.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/);
      } finally {
        await app.close();
      }
    }
    // A proxy list that does not name the connecting address (inject's 127.0.0.1) is not believed either.
    const other = await buildApp({
      deps: h.deps,
      bootstrapApiKey: ADMIN_KEY,
      apiRateLimitPerSecond: 0,
      trustProxy: ['10.0.0.1'],
    });
    try {
      const notTrusted = await viaProxy(other);
      expect(notTrusted.statusCode).toBe(201);
      expect(String(notTrusted.headers['set-cookie'])).not.toContain('Secure');
    } finally {
      await other.close();
    }
  }, 120_000);

  it('a wrong password, an unknown email and a disabled user are the same 401 invalid_credentials, setting no cookie', async () => {
    const h = get();
    const answers = [];
    for (const [email, password] of [
      ['admin@example.com', 'not the password at all'],
      ['nobody@example.com', PASSWORD],
      ['gone@example.com', PASSWORD],
    ] as const) {
      const answer = await h.request('POST', '/v1/sessions', { email, password }, {}, null);
      expect(answer.status).toBe(401);
      expect(answer.headers['set-cookie']).toBeUndefined();
      answers.push(answer.body);
    }
    expect(answers[0]).toEqual({
      error: {
        type: 'authentication_error',
        code: 'invalid_credentials',
        message: 'The email or the password is not right.',
      },
    });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('an invalid sign-in body is 400 and writes nothing', async () => {
    const h = get();
    const count = async () =>
      Number((await sql<{ n: string }>`select count(*) as n from sign_in_failures`.execute(h.deps.db)).rows[0]!.n);
    const before = await count();
    for (const body of [
      { email: 'admin@example.com' },
      { email: 'admin@example.com', password: PASSWORD, role: 'x' },
      { email: 1, password: PASSWORD },
    ]) {
      const answer = await h.request('POST', '/v1/sessions', body, {}, null);
      expect(answer.status).toBe(400);
    }
    expect(await count()).toBe(before);
  });

  it('a session reads the API; a write needs its CSRF token (403 without, 403 wrong) and makes a source console transaction', async () => {
    const h = get();
    const list = await asSession(h, admin, 'GET', '/v1/transactions');
    expect(list.status).toBe(200);
    expect(list.body.object).toBe('list');

    const without = await asSession(h, admin, 'POST', '/v1/transactions', charge);
    expect(without.status).toBe(403);
    expect(without.body.error).toMatchObject({ type: 'permission_error', code: 'csrf_token_invalid' });
    const wrong = await asSession(h, admin, 'POST', '/v1/transactions', charge, 'A'.repeat(43));
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('csrf_token_invalid');
    // The session token is not the CSRF token.
    expect((await asSession(h, admin, 'POST', '/v1/transactions', charge, admin.token)).status).toBe(403);

    const made = await asSession(h, admin, 'POST', '/v1/transactions', charge, admin.csrf);
    expect(made.status).toBe(201);
    expect(made.body.source).toBe('console');
    // The history names the user.
    const history = await sql<{
      actor: string;
    }>`select actor from transaction_history where transaction_id = ${made.body.id}`.execute(h.deps.db);
    expect(history.rows[0]?.actor).toBe(`api_key:${admin.response.body.user.id}`);

    // An API key needs no CSRF token, and its transactions stay source api.
    const byKey = await h.request('POST', '/v1/transactions', charge);
    expect(byKey.status).toBe(201);
    expect(byKey.body.source).toBe('api');
    // With an Authorization header the cookie is not consulted: a wrong key is 401 even beside a good cookie.
    const both = await h.request(
      'GET',
      '/v1/transactions',
      undefined,
      { cookie: admin.cookie },
      'settle_not_a_key_000000000000000000000000',
    );
    expect(both.status).toBe(401);
    expect(both.body.error.code).toBe('api_key_invalid');
  });

  it("a viewer's session reads but its write is 403 insufficient_scope", async () => {
    const h = get();
    const viewer = await signIn(h, 'viewer@example.com');
    expect((await asSession(h, viewer, 'GET', '/v1/transactions')).status).toBe(200);
    const write = await asSession(h, viewer, 'POST', '/v1/transactions', charge, viewer.csrf);
    expect(write.status).toBe(403);
    expect(write.body.error.code).toBe('insufficient_scope');
    // An admin route too.
    expect((await asSession(h, viewer, 'GET', '/v1/api-keys')).status).toBe(403);
    expect((await asSession(h, admin, 'GET', '/v1/api-keys')).status).toBe(200);
  });

  it('GET /v1/sessions/current answers the user and the expiry; an API key there is 401 session_required', async () => {
    const h = get();
    const current = await asSession(h, admin, 'GET', '/v1/sessions/current');
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({
      id: admin.response.body.id,
      object: 'session',
      user: { email: 'admin@example.com' },
      expires_at: admin.response.body.expires_at,
    });
    expect(current.body.csrf_token).toBeUndefined();
    const byKey = await h.request('GET', '/v1/sessions/current');
    expect(byKey.status).toBe(401);
    expect(byKey.body.error.code).toBe('session_required');
    const none = await h.request('GET', '/v1/sessions/current', undefined, {}, null);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('api_key_missing');
  });

  it('must_change_password blocks everything but the three session routes until the password is changed', async () => {
    const h = get();
    const first = await signIn(h, 'new@example.com');
    const other = await signIn(h, 'new@example.com');
    expect(first.response.body.user.must_change_password).toBe(true);
    for (const [method, url, body] of [
      ['GET', '/v1/transactions', undefined],
      ['POST', '/v1/transactions', charge],
      ['GET', '/v1/accounts', undefined],
    ] as const) {
      const answer = await asSession(h, first, method, url, body, first.csrf);
      expect({ url, status: answer.status }).toEqual({ url, status: 403 });
      expect(answer.body.error.code).toBe('password_change_required');
    }
    expect((await asSession(h, first, 'GET', '/v1/sessions/current')).status).toBe(200);

    const storedHash = async () =>
      (
        await h.deps.db
          .selectFrom('users')
          .select(['must_change_password', 'password_hash'])
          .where('email', '=', 'new@example.com')
          .executeTakeFirstOrThrow()
      ).password_hash;
    const hashBefore = await storedHash();
    const change = (body: unknown, csrf: string | null = first.csrf) =>
      asSession(h, first, 'POST', '/v1/sessions/current/password', body, csrf ?? undefined);
    const noCsrf = await change({ current_password: PASSWORD, new_password: 'a brand new password' }, null);
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.error.code).toBe('csrf_token_invalid');
    const short = await change({ current_password: PASSWORD, new_password: 'too short' });
    expect(short.status).toBe(400);
    expect(short.body.error).toMatchObject({ code: 'invalid_password', param: 'new_password' });
    const same = await change({ current_password: PASSWORD, new_password: PASSWORD });
    expect(same.body.error.code).toBe('password_unchanged');
    const wrong = await change({ current_password: 'not the password', new_password: 'a brand new password' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('invalid_current_password');
    const unknown = await change({ current_password: PASSWORD, new_password: 'a brand new password', x: 1 });
    expect(unknown.status).toBe(400);
    const still = await h.deps.db
      .selectFrom('users')
      .select(['must_change_password', 'password_hash'])
      .where('email', '=', 'new@example.com')
      .executeTakeFirstOrThrow();
    expect(still.must_change_password).toBe(true);
    expect(still.password_hash).toBe(hashBefore);

    const changed = await change({ current_password: PASSWORD, new_password: 'a brand new password' });
    expect(changed.status).toBe(200);
    expect(changed.body.user.must_change_password).toBe(false);
    // Audited as a change the user made, without the hash.
    const audit = await h.request('GET', `/v1/audit-events?limit=5`);
    const event = audit.body.data.find((e: any) => e.object_id === changed.body.user.id);
    expect(event).toMatchObject({
      actor: changed.body.user.id,
      action: 'user.updated',
      before: { must_change_password: true },
      after: { must_change_password: false },
    });
    expect(JSON.stringify(event)).not.toMatch(/scrypt|password_hash/);
    expect((await asSession(h, first, 'GET', '/v1/transactions')).status).toBe(200);
    // The user's other session ended with the old password; the old password no longer signs in, the new one does.
    expect((await asSession(h, other, 'GET', '/v1/sessions/current')).status).toBe(401);
    expect(
      (await h.request('POST', '/v1/sessions', { email: 'new@example.com', password: PASSWORD }, {}, null)).status,
    ).toBe(401);
    await signIn(h, 'new@example.com', 'a brand new password');
  }, 120_000); // several scrypt hashes and checks of about half a second each

  it('sign-out needs the CSRF token, ends the session and clears the cookie; the cookie then gets 401', async () => {
    const h = get();
    const session = await signIn(h, 'admin@example.com');
    expect((await asSession(h, session, 'DELETE', '/v1/sessions/current')).status).toBe(403);
    const out = await asSession(h, session, 'DELETE', '/v1/sessions/current', undefined, session.csrf);
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ id: session.response.body.id, object: 'session', deleted: true });
    expect(sessionCookieOf(out)).toBe('settle_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
    const after = await asSession(h, session, 'GET', '/v1/transactions');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('session_invalid');
    expect((await asSession(h, session, 'DELETE', '/v1/sessions/current', undefined, session.csrf)).status).toBe(401);
    // A made-up cookie is refused the same way.
    expect((await asSession(h, { cookie: 'settle_session=nonsense' }, 'GET', '/v1/transactions')).status).toBe(401);
  });

  it("a disabled user's session stops working", async () => {
    const h = get();
    const session = await signIn(h, 'viewer@example.com');
    expect((await asSession(h, session, 'GET', '/v1/transactions')).status).toBe(200);
    await h.deps.db.updateTable('users').set({ disabled: true }).where('email', '=', 'viewer@example.com').execute();
    try {
      expect((await asSession(h, session, 'GET', '/v1/transactions')).status).toBe(401);
    } finally {
      await h.deps.db.updateTable('users').set({ disabled: false }).where('email', '=', 'viewer@example.com').execute();
    }
  });

  it('neither token is stored in any column nor written to the log', async () => {
    const h = get();
    let logged = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logged += String(chunk);
        done();
      },
    });
    const app = await buildApp({
      deps: h.deps,
      bootstrapApiKey: ADMIN_KEY,
      apiRateLimitPerSecond: 0,
      logger: { level: 'trace', stream },
    });
    try {
      const signedIn = await app.inject({
        method: 'POST',
        url: '/v1/sessions',
        payload: { email: 'admin@example.com', password: PASSWORD },
      });
      expect(signedIn.statusCode).toBe(201);
      const csrf = JSON.parse(signedIn.body).csrf_token as string;
      const token = /^settle_session=([^;]*)/.exec(String(signedIn.headers['set-cookie']))![1]!;
      const cookie = `settle_session=${token}`;
      expect(
        (
          await app.inject({
            method: 'POST',
            url: '/v1/transactions',
            headers: { cookie, 'x-csrf-token': csrf },
            payload: charge,
          })
        ).statusCode,
      ).toBe(201);
      expect(
        (
          await app.inject({
            method: 'POST',
            url: '/v1/transactions',
            headers: { cookie, 'x-csrf-token': 'B'.repeat(43) },
            payload: charge,
          })
        ).statusCode,
      ).toBe(403);
      expect(
        (await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { cookie, 'x-csrf-token': csrf } }))
          .statusCode,
      ).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/v1/transactions', headers: { cookie } })).statusCode).toBe(401);
      expect(logged).toContain('/v1/sessions');
      expect(logged).not.toContain(token);
      expect(logged).not.toContain(csrf);
      expect(logged).not.toContain(PASSWORD);
      const stored = await everythingStored(h);
      expect(stored).toContain('ses_');
      for (const secret of [token, csrf, admin.token, admin.csrf, PASSWORD]) expect(stored).not.toContain(secret);
    } finally {
      await app.close();
    }
  });

  it('a session expires 12 hours after sign-in', async () => {
    const h = get();
    const session = await signIn(h, 'admin@example.com');
    h.clock.advance(12 * 3600_000 - 1);
    expect((await asSession(h, session, 'GET', '/v1/transactions')).status).toBe(200);
    h.clock.advance(1);
    const expired = await asSession(h, session, 'GET', '/v1/transactions');
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('session_invalid');
  });
});
