// /v1/users (X3, issue 21): console users managed by an admin. The email is lower-cased and unique, the role one of
// three, a password 12 to 256 characters; a generated password is in the fresh answer only (a replay answers
// password: null, and the idempotency store never holds it); no answer holds a hash; every route needs the admin
// scope; every refusal writes nothing; disabling a user or resetting the password ends their sessions; each change is
// an audit event without any hash or password. Also `settle users create` (embedded database and PostgreSQL).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/app/passwords.js';
import { openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { endUserSessions } from '../../src/store/users-repo.js';
import { describeEachDatabase, describePostgres, type Harness } from '../support/harness.js';

const NOW = '2026-11-24T12:00:00.000Z';
const VIEW_FIELDS = [
  'created_at',
  'disabled',
  'email',
  'id',
  'last_sign_in_at',
  'must_change_password',
  'object',
  'role',
  'updated_at',
];

async function counts(h: Harness): Promise<{ users: number; audit: number; idempotency: number; revoked: number }> {
  const count = async (table: 'users' | 'audit_events' | 'idempotency_keys') =>
    Number(
      (
        await h.deps.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const revoked = await h.deps.db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('revoked_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return {
    users: await count('users'),
    audit: await count('audit_events'),
    idempotency: await count('idempotency_keys'),
    revoked: Number(revoked.n),
  };
}

async function storedHash(h: Harness, id: string): Promise<string> {
  return (await h.deps.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow())
    .password_hash;
}

async function auditOf(h: Harness, id: string): Promise<{ actor: string; action: string; before: any; after: any }[]> {
  const res = await h.request('GET', `/v1/audit-events?object_id=${id}&limit=200`);
  expect(res.status).toBe(200);
  return [...res.body.data].reverse();
}

let sessionNumber = 0;
/** A session row for `userId` (sign-in is helper S's; here only what disabling and resets must end). */
async function addSession(h: Harness, userId: string, revokedAt: Date | null = null): Promise<string> {
  sessionNumber += 1;
  const id = `ses_test_${sessionNumber}`;
  const now = h.clock.now();
  await h.deps.db
    .insertInto('sessions')
    .values({
      id,
      token_digest: `token_${id}`,
      csrf_digest: `csrf_${id}`,
      user_id: userId,
      created_at: now,
      last_seen_at: now,
      expires_at: new Date(now.getTime() + 12 * 3600_000),
      revoked_at: revokedAt,
    })
    .execute();
  return id;
}

async function revokedAtOf(h: Harness, sessionId: string): Promise<string | null> {
  const row = await h.deps.db
    .selectFrom('sessions')
    .select('revoked_at')
    .where('id', '=', sessionId)
    .executeTakeFirstOrThrow();
  return row.revoked_at === null ? null : new Date(row.revoked_at).toISOString();
}

describeEachDatabase('console users', (get) => {
  it('creates a user with a given password: lower-cased email, no password or hash in any answer, audited', async () => {
    const h = get();
    const res = await h.request('POST', '/v1/users', {
      email: '  Ada.Lovelace@Example.COM ',
      role: 'operator',
      password: 'correct horse battery',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^usr_[0-9a-z]{26}$/),
      object: 'user',
      email: 'ada.lovelace@example.com',
      role: 'operator',
      disabled: false,
      must_change_password: false,
      last_sign_in_at: null,
      created_at: NOW,
      updated_at: NOW,
      password: null,
    });
    const { password: _none, ...view } = res.body;
    const one = await h.request('GET', `/v1/users/${res.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(view);
    expect(Object.keys(one.body).sort()).toEqual(VIEW_FIELDS);
    const list = await h.request('GET', '/v1/users?limit=200');
    expect(list.status).toBe(200);
    expect(list.body.data).toContainEqual(view);

    const hash = await storedHash(h, res.body.id);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    const events = await auditOf(h, res.body.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'key_bootstrap', action: 'user.created', before: null });
    expect(events[0]!.after).toEqual({
      id: res.body.id,
      email: 'ada.lovelace@example.com',
      role: 'operator',
      disabled: false,
      must_change_password: false,
      created_at: NOW,
      updated_at: NOW,
    });
    for (const text of [
      JSON.stringify(res.body),
      JSON.stringify(one.body),
      JSON.stringify(list.body),
      JSON.stringify(events),
    ]) {
      expect(text).not.toContain(hash);
      expect(text).not.toContain('correct horse battery');
      expect(text).not.toContain('password_hash');
    }
  });

  it('generates a password when none is given: shown once, must be changed; a replay answers password: null', async () => {
    const h = get();
    const headers = { 'idempotency-key': 'create-user-replay-1' };
    const body = { email: 'grace@example.com', role: 'viewer' };
    const first = await h.request('POST', '/v1/users', body, headers);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ email: 'grace@example.com', role: 'viewer', must_change_password: true });
    const password: string = first.body.password;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await verifyPassword(password, await storedHash(h, first.body.id))).toBe(true);

    const replay = await h.request('POST', '/v1/users', body, headers);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.body).toEqual({ ...first.body, password: null });
    const users = await h.deps.db.selectFrom('users').select('id').where('email', '=', 'grace@example.com').execute();
    expect(users).toHaveLength(1);
    const stored = await h.deps.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('key', '=', 'create-user-replay-1')
      .executeTakeFirstOrThrow();
    expect(stored.response_body).toMatchObject({ id: first.body.id, password: null });
    expect(JSON.stringify(stored)).not.toContain(password);
    expect(JSON.stringify(await auditOf(h, first.body.id))).not.toContain(password);
  });

  it('refuses invalid creates naming the field, and a taken email (any case) with 409 user_exists, writing nothing', async () => {
    const h = get();
    const taken = await h.request('POST', '/v1/users', {
      email: 'taken@example.com',
      role: 'admin',
      password: 'a password long enough',
    });
    expect(taken.status).toBe(201);
    const before = await counts(h);
    const good = { email: 'new@example.com', role: 'viewer', password: 'twelve chars' };
    const cases: [unknown, number, string, string | undefined][] = [
      [{ role: 'viewer' }, 400, 'parameter_missing', 'email'],
      [{ email: 'new@example.com' }, 400, 'parameter_missing', 'role'],
      [{ ...good, email: 'no-at-sign' }, 400, 'invalid_email', 'email'],
      [{ ...good, email: 'two words@example.com' }, 400, 'invalid_email', 'email'],
      [{ ...good, email: 'a@b@c' }, 400, 'invalid_email', 'email'],
      [{ ...good, email: '@example.com' }, 400, 'invalid_email', 'email'],
      [{ ...good, email: '   ' }, 400, 'invalid_email', 'email'],
      [{ ...good, email: `${'x'.repeat(250)}@example.com` }, 400, 'invalid_email', 'email'],
      [{ ...good, email: 42 }, 400, 'parameter_invalid_type', 'email'],
      [{ ...good, role: 'owner' }, 400, 'parameter_invalid_value', 'role'],
      [{ ...good, role: 'Admin' }, 400, 'parameter_invalid_value', 'role'],
      [{ ...good, password: 'eleven char' }, 400, 'invalid_password', 'password'],
      [{ ...good, password: 'x'.repeat(257) }, 400, 'invalid_password', 'password'],
      [{ ...good, password: null }, 400, 'parameter_invalid_type', 'password'],
      [{ ...good, password_hash: 'scrypt$1$1$1$x$y' }, 400, 'parameter_unknown', 'password_hash'],
      [{ ...good, must_change_password: false }, 400, 'parameter_unknown', 'must_change_password'],
      [{ ...good, email: 'TAKEN@example.com' }, 409, 'user_exists', undefined],
      [{ ...good, email: 'taken@example.com' }, 409, 'user_exists', undefined],
    ];
    for (const [body, status, code, param] of cases) {
      const res = await h.request('POST', '/v1/users', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.code, JSON.stringify(body)).toBe(code);
      if (param !== undefined) expect(res.body.error.param, JSON.stringify(body)).toBe(param);
    }
    // the same refusal under an Idempotency-Key stores nothing either
    const keyed = await h.request('POST', '/v1/users', { ...good, role: 'owner' }, { 'idempotency-key': 'bad-user-1' });
    expect(keyed.status).toBe(400);
    expect(await counts(h)).toEqual(before);
    // the longest passwords and emails allowed are accepted
    const longest = await h.request('POST', '/v1/users', {
      email: `${'x'.repeat(242)}@example.com`,
      role: 'viewer',
      password: 'é'.repeat(256),
    });
    expect(longest.status).toBe(201);
  });

  it('two creates of one email at once: one 201, the other 409 user_exists', async () => {
    const h = get();
    const body = { email: 'race@example.com', role: 'viewer', password: 'racing password' };
    const answers = await Promise.all([h.request('POST', '/v1/users', body), h.request('POST', '/v1/users', body)]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    expect(answers.find((a) => a.status === 409)?.body.error.code).toBe('user_exists');
    const rows = await h.deps.db.selectFrom('users').select('id').where('email', '=', 'race@example.com').execute();
    expect(rows).toHaveLength(1);
  });

  it('needs the admin scope on every route: a read or write key gets 403 and writes nothing', async () => {
    const h = get();
    const target = (
      await h.request('POST', '/v1/users', { email: 'scoped@example.com', role: 'viewer', password: 'scoped password' })
    ).body;
    const before = await counts(h);
    for (const key of [await h.keyWith(['read']), await h.keyWith(['write'])]) {
      const calls: [string, string, unknown][] = [
        ['POST', '/v1/users', { email: 'escalate@example.com', role: 'admin', password: 'escalation pw' }],
        ['GET', '/v1/users', undefined],
        ['GET', `/v1/users/${target.id}`, undefined],
        ['PATCH', `/v1/users/${target.id}`, { role: 'admin' }],
        ['POST', `/v1/users/${target.id}/reset-password`, undefined],
      ];
      for (const [method, url, body] of calls) {
        const res = await h.request(method, url, body, {}, key);
        expect(res.status, `${method} ${url}`).toBe(403);
        expect(res.body.error.code).toBe('insufficient_scope');
      }
    }
    const after = await counts(h);
    expect(after.users).toBe(before.users);
    expect(after.audit).toBe(before.audit + 2); // the two keys made above (api_key.created), nothing else
    expect((await h.request('GET', `/v1/users/${target.id}`)).body).toEqual({ ...target, password: undefined });
    expect((await h.request('GET', '/v1/users', undefined, {}, null)).status).toBe(401);
  });

  it('PATCH changes the role and disables (ending the sessions), audited; a patch that changes nothing records nothing', async () => {
    const h = get();
    const user = (
      await h.request('POST', '/v1/users', {
        email: 'patched@example.com',
        role: 'viewer',
        password: 'patched password',
      })
    ).body;
    const other = (
      await h.request('POST', '/v1/users', { email: 'bystander@example.com', role: 'viewer', password: 'bystander pw' })
    ).body;
    const earlier = new Date('2026-11-24T11:00:00Z');
    const live1 = await addSession(h, user.id);
    const live2 = await addSession(h, user.id);
    const ended = await addSession(h, user.id, earlier);
    const bystander = await addSession(h, other.id);

    h.clock.advance(60_000);
    try {
      const later = h.clock.now().toISOString();
      const role = await h.request('PATCH', `/v1/users/${user.id}`, { role: 'operator' });
      expect(role.status).toBe(200);
      expect(role.body).toMatchObject({ role: 'operator', disabled: false, updated_at: later, created_at: NOW });
      expect(await revokedAtOf(h, live1)).toBeNull(); // a role change keeps the sessions (their scope follows the role)

      const same = await h.request('PATCH', `/v1/users/${user.id}`, { role: 'operator', disabled: false });
      expect(same.status).toBe(200);
      expect(same.body).toEqual(role.body);

      const disabled = await h.request(
        'PATCH',
        `/v1/users/${user.id}`,
        { disabled: true },
        { 'idempotency-key': 'd1' },
      );
      expect(disabled.status).toBe(200);
      expect(disabled.body).toMatchObject({ disabled: true, role: 'operator' });
      expect(await revokedAtOf(h, live1)).toBe(later);
      expect(await revokedAtOf(h, live2)).toBe(later);
      expect(await revokedAtOf(h, ended)).toBe(earlier.toISOString());
      expect(await revokedAtOf(h, bystander)).toBeNull();
      const replay = await h.request('PATCH', `/v1/users/${user.id}`, { disabled: true }, { 'idempotency-key': 'd1' });
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(replay.body).toEqual(disabled.body);

      const enabled = await h.request('PATCH', `/v1/users/${user.id}`, { disabled: false });
      expect(enabled.body.disabled).toBe(false);
      expect(await revokedAtOf(h, live1)).toBe(later); // re-enabling does not bring a session back

      const events = await auditOf(h, user.id);
      expect(events.map((e) => e.action)).toEqual(['user.created', 'user.updated', 'user.updated', 'user.updated']);
      expect(events[1]).toMatchObject({
        actor: 'key_bootstrap',
        before: { role: 'viewer', disabled: false },
        after: { role: 'operator', disabled: false },
      });
      expect(events[2]).toMatchObject({ before: { disabled: false }, after: { disabled: true } });
      expect(JSON.stringify(events)).not.toContain('password_hash');
    } finally {
      h.clock.set(NOW);
    }
  });

  it('refuses invalid patches and unknown users, writing nothing', async () => {
    const h = get();
    const user = (
      await h.request('POST', '/v1/users', { email: 'unpatched@example.com', role: 'viewer', password: 'unpatched pw' })
    ).body;
    const session = await addSession(h, user.id);
    const before = await counts(h);
    const cases: [string, unknown, number, string, string | undefined][] = [
      [user.id, {}, 400, 'parameter_missing', undefined],
      [user.id, { role: 'root' }, 400, 'parameter_invalid_value', 'role'],
      [user.id, { role: 'admin', disabled: 'yes' }, 400, 'parameter_invalid_type', 'disabled'],
      [user.id, { disabled: null }, 400, 'parameter_invalid_type', 'disabled'],
      [user.id, { email: 'renamed@example.com' }, 400, 'parameter_unknown', 'email'],
      [user.id, { password: 'a new password' }, 400, 'parameter_unknown', 'password'],
      [user.id, { must_change_password: true }, 400, 'parameter_unknown', 'must_change_password'],
      ['usr_00000000000000000000000000', { disabled: true }, 404, 'resource_missing', 'id'],
    ];
    for (const [id, body, status, code, param] of cases) {
      const res = await h.request('PATCH', `/v1/users/${id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.code, JSON.stringify(body)).toBe(code);
      if (param !== undefined) expect(res.body.error.param, JSON.stringify(body)).toBe(param);
    }
    expect((await h.request('GET', '/v1/users/usr_00000000000000000000000000')).status).toBe(404);
    expect((await h.request('GET', '/v1/users/nope')).status).toBe(404);
    const reset = await h.request('POST', '/v1/users/usr_00000000000000000000000000/reset-password');
    expect(reset.status).toBe(404);
    const withBody = await h.request('POST', `/v1/users/${user.id}/reset-password`, { password: 'chosen by admin' });
    expect(withBody.status).toBe(400);
    expect(withBody.body.error.code).toBe('parameter_unknown');
    expect(await counts(h)).toEqual(before);
    expect((await h.request('GET', `/v1/users/${user.id}`)).body).toEqual({ ...user, password: undefined });
    expect(await revokedAtOf(h, session)).toBeNull();
  });

  it('reset-password: a generated password once, must be changed, sessions ended, audited without it', async () => {
    const h = get();
    const user = (
      await h.request('POST', '/v1/users', {
        email: 'forgetful@example.com',
        role: 'operator',
        password: 'the old one!',
      })
    ).body;
    const session = await addSession(h, user.id);
    const oldHash = await storedHash(h, user.id);
    const headers = { 'idempotency-key': 'reset-1' };
    const reset = await h.request('POST', `/v1/users/${user.id}/reset-password`, undefined, headers);
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ id: user.id, must_change_password: true, role: 'operator', disabled: false });
    const password: string = reset.body.password;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const newHash = await storedHash(h, user.id);
    expect(newHash).not.toBe(oldHash);
    expect(await verifyPassword(password, newHash)).toBe(true);
    expect(await revokedAtOf(h, session)).toBe(NOW);

    const replay = await h.request('POST', `/v1/users/${user.id}/reset-password`, undefined, headers);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.body).toEqual({ ...reset.body, password: null });
    expect(await storedHash(h, user.id)).toBe(newHash); // the replay reset nothing

    const events = await auditOf(h, user.id);
    expect(events.map((e) => e.action)).toEqual(['user.created', 'user.password_reset']);
    expect(events[1]).toMatchObject({
      actor: 'key_bootstrap',
      before: { must_change_password: false },
      after: { must_change_password: true },
    });
    const text = JSON.stringify(events);
    for (const secret of [password, newHash, oldHash, 'the old one!']) expect(text).not.toContain(secret);
    const stored = await h.deps.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('key', '=', 'reset-1')
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(password);
  });

  it('endUserSessions ends the live sessions of one user only and says how many', async () => {
    const h = get();
    const user = (
      await h.request('POST', '/v1/users', { email: 'ended@example.com', role: 'viewer', password: 'ended password' })
    ).body;
    const a = await addSession(h, user.id);
    const b = await addSession(h, user.id);
    const at = new Date('2026-11-24T13:00:00Z');
    expect(await endUserSessions(h.deps.db, user.id, at)).toBe(2);
    expect(await endUserSessions(h.deps.db, user.id, new Date('2026-11-24T14:00:00Z'))).toBe(0);
    expect(await revokedAtOf(h, a)).toBe(at.toISOString());
    expect(await revokedAtOf(h, b)).toBe(at.toISOString());
  });

  it('lists newest first with cursor pagination; a foreign cursor is a 400', async () => {
    const h = get();
    const all = (await h.request('GET', '/v1/users?limit=200')).body.data.map((u: { id: string }) => u.id);
    expect(all.length).toBeGreaterThan(3);
    expect([...all].sort().reverse()).toEqual(all);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { id: string }[]; next_cursor: string | null } } = await h.request(
        'GET',
        `/v1/users?limit=2${cursor ? `&starting_after=${cursor}` : ''}`,
      );
      seen.push(...page.body.data.map((u) => u.id));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual(all);
    const foreign = await h.request('GET', '/v1/users?starting_after=key_00000000000000000000000000');
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.code).toBe('invalid_cursor');
    expect((await h.request('GET', '/v1/users?role=admin')).status).toBe(400);
  });
});

// ---- settle users create -------------------------------------------------------------------------------------------

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `settle users create ...` in a process of its own, on PostgreSQL (`databaseUrl`) or the PGlite under `dataDir`. */
function settleUsers(dataDir: string, args: string[], databaseUrl?: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, SETTLE_DATA_DIR: dataDir, LOG_LEVEL: 'error' };
  delete env.DATABASE_URL;
  delete env.SETTLE_API_KEY;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'users', 'create', ...args],
      { cwd: ROOT, env },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'settle-users-cli-'));
  dirs.push(dir);
  return dir;
}

describe('settle users create (CLI, embedded database)', () => {
  it('creates a user (printing a generated password once), refuses bad input and a directory a server holds', async () => {
    const dataDir = tempDir();
    const generated = await settleUsers(dataDir, ['--email', 'Ops@Example.com', '--role', 'operator']);
    expect(generated.code, generated.stderr).toBe(0);
    const lines = generated.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Created console user usr_[0-9a-z]{26} \(ops@example\.com\) with role operator\.$/);
    expect(lines[1]).toBe('Password (shown only now; it must be changed at first sign-in):');
    const password = lines[2]!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(lines).toHaveLength(3);

    const given = await settleUsers(dataDir, [
      '--email',
      'viewer@example.com',
      '--role',
      'viewer',
      '--password',
      'my own password',
    ]);
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout.trimEnd().split('\n')).toHaveLength(1);

    const refusals: [string[], string][] = [
      [['--email', 'OPS@example.com', '--role', 'viewer'], 'already exists'],
      [['--email', 'not-an-email', '--role', 'viewer'], 'email must be an email address'],
      [['--email', 'x@example.com', '--role', 'owner'], 'role must be one of: admin, operator, viewer'],
      [['--email', 'x@example.com', '--role', 'viewer', '--password', 'short'], 'password must be 12 to 256'],
    ];
    for (const [args, message] of refusals) {
      const run = await settleUsers(dataDir, args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(message);
    }

    const database = await openDatabase({ dataDir: path.join(dataDir, 'pglite') });
    try {
      await migrateToLatest(database.db);
      const rows = await database.db
        .selectFrom('users')
        .select(['email', 'role', 'must_change_password', 'password_hash'])
        .orderBy('email')
        .execute();
      expect(rows.map(({ password_hash: _h, ...row }) => row)).toEqual([
        { email: 'ops@example.com', role: 'operator', must_change_password: true },
        { email: 'viewer@example.com', role: 'viewer', must_change_password: false },
      ]);
      expect(await verifyPassword(password, rows[0]!.password_hash)).toBe(true);
      expect(await verifyPassword('my own password', rows[1]!.password_hash)).toBe(true);
      const events = await database.db.selectFrom('audit_events').select(['actor', 'action']).execute();
      expect(events).toEqual([
        { actor: 'cli', action: 'user.created' },
        { actor: 'cli', action: 'user.created' },
      ]);
    } finally {
      await database.close();
    }

    // A live process (this test's) holds the directory, as `settle serve` would.
    const held = tempDir();
    mkdirSync(path.join(held, 'pglite'), { recursive: true });
    writeFileSync(path.join(held, 'pglite', 'settle.lock'), `${process.pid}\n`);
    const refused = await settleUsers(held, ['--email', 'late@example.com', '--role', 'admin']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('in use by another Settle process');
    expect(refused.stderr).toContain('/v1/users');
  }, 180_000);
});

describePostgres('settle users create (CLI, PostgreSQL)', (get) => {
  it('creates the user in the database the server uses; a taken email exits 1', async () => {
    const h = get();
    const dataDir = tempDir();
    const run = await settleUsers(dataDir, ['--email', 'pg-cli@example.com', '--role', 'admin'], h.testDb.url);
    expect(run.code, run.stderr).toBe(0);
    const id = /usr_[0-9a-z]{26}/.exec(run.stdout)?.[0];
    const user = await h.request('GET', `/v1/users/${id}`);
    expect(user.body).toMatchObject({ email: 'pg-cli@example.com', role: 'admin', must_change_password: true });
    const again = await settleUsers(dataDir, ['--email', 'pg-cli@example.com', '--role', 'viewer'], h.testDb.url);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    const rows = await h.deps.db.selectFrom('users').select('id').where('email', '=', 'pg-cli@example.com').execute();
    expect(rows).toHaveLength(1);
  }, 120_000);
});
