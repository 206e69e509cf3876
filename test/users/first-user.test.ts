// The first console user (X3, issue 21): a `settle serve` start that finds no console user makes admin@localhost
// (role admin) with a generated password that must be changed, prints it once, keeps it in
// data/console-admin-password (mode 0600) while that password works, and never makes it again while any user exists,
// whatever became of it.
// Two servers starting at once on one database make one. Also `settle serve` itself, started twice on one data
// directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/app/passwords.js';
import { ensureFirstUser, FIRST_USER_EMAIL, firstUserLines, firstUserPasswordFile } from '../../src/app/users.js';
import { openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { describeEachDatabase } from '../support/harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'settle-first-user-'));
  dirs.push(dir);
  return dir;
}

const modeOf = (file: string): number => statSync(file).mode & 0o777;

describeEachDatabase('the first console user', (get) => {
  it('is made once by two starts at once, kept owner-only, printed once; later starts make and print nothing', async () => {
    const h = get();
    const [dirA, dirB] = [tempDir(), tempDir()];
    const [a, b] = await Promise.all([ensureFirstUser(h.deps, dirA), ensureFirstUser(h.deps, dirB)]);
    const first = a ?? b;
    expect([a, b].filter((x) => x === null)).toHaveLength(1);
    if (!first) throw new Error('no first user');
    const dataDir = first === a ? dirA : dirB;
    const other = first === a ? dirB : dirA;

    expect(first.file).toBe(path.join(dataDir, 'console-admin-password'));
    expect(firstUserPasswordFile(dataDir)).toBe(first.file);
    expect(first.user).toEqual({
      id: expect.stringMatching(/^usr_[0-9a-z]{26}$/),
      object: 'user',
      email: FIRST_USER_EMAIL,
      role: 'admin',
      disabled: false,
      must_change_password: true,
      last_sign_in_at: null,
      created_at: '2026-11-24T12:00:00.000Z',
      updated_at: '2026-11-24T12:00:00.000Z',
    });
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(readFileSync(first.file, 'utf8')).toBe(`${first.password}\n`);
    expect(modeOf(first.file)).toBe(0o600);
    expect(existsSync(firstUserPasswordFile(other))).toBe(false);
    expect(readdirSync(dataDir)).toEqual(['console-admin-password']); // no temporary file left behind

    const rows = await h.deps.db.selectFrom('users').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(await verifyPassword(first.password, rows[0]!.password_hash)).toBe(true);
    // the API shows it like any user, and its creation is audited as Settle's own, without the password
    expect((await h.request('GET', `/v1/users/${first.user.id}`)).body).toEqual(first.user);
    const events = (await h.request('GET', `/v1/audit-events?object_id=${first.user.id}`)).body.data;
    expect(events).toMatchObject([{ actor: 'system', action: 'user.created', after: { email: FIRST_USER_EMAIL } }]);
    expect(JSON.stringify(events)).not.toContain(first.password);

    const lines = firstUserLines(first, 'http://127.0.0.1:3000').join('\n');
    expect(lines).toContain(`${FIRST_USER_EMAIL}  ${first.password}`);
    expect(lines).toContain(first.file);
    expect(lines).toContain('http://127.0.0.1:3000/console');

    // a later start: nothing made, nothing printed, the file as it was
    expect(await ensureFirstUser(h.deps, dataDir)).toBeNull();
    expect(firstUserLines(null, 'http://127.0.0.1:3000')).toEqual([]);
    expect(readFileSync(first.file, 'utf8')).toBe(`${first.password}\n`);
    expect(await h.deps.db.selectFrom('users').select('id').execute()).toHaveLength(1);

    // once the password in the file no longer works (here: reset), the next start deletes the file
    const reset = await h.request('POST', `/v1/users/${first.user.id}/reset-password`);
    expect(reset.status).toBe(200);
    expect(await ensureFirstUser(h.deps, dataDir)).toBeNull();
    expect(existsSync(first.file)).toBe(false);
    expect(await h.deps.db.selectFrom('users').select('id').execute()).toHaveLength(1);
  });

  it('is never made again while any user exists: not in a data directory without its file, nor once it is gone', async () => {
    const h = get();
    const dataDir = tempDir();
    const [existing] = await h.deps.db.selectFrom('users').select('id').execute();
    if (!existing) throw new Error('the first test made no user');
    // An admin: the last enabled admin cannot be disabled (409 last_admin, test/sessions/last-admin.test.ts).
    const other = await h.request('POST', '/v1/users', {
      email: 'second@example.com',
      role: 'admin',
      password: 'second password',
    });
    expect(other.status).toBe(201);
    // the first user disabled, then deleted (no session names it): another user still exists
    expect((await h.request('PATCH', `/v1/users/${existing.id}`, { disabled: true })).status).toBe(200);
    expect(await ensureFirstUser(h.deps, dataDir)).toBeNull();
    await h.deps.db.deleteFrom('users').where('id', '=', existing.id).execute();
    expect(await ensureFirstUser(h.deps, dataDir)).toBeNull();
    expect(existsSync(firstUserPasswordFile(dataDir))).toBe(false);
    const emails = (await h.deps.db.selectFrom('users').select('email').execute()).map((r) => r.email);
    expect(emails).toEqual(['second@example.com']);
  });
});

// ---- settle serve, started twice on one embedded data directory -------------------------------------------------------

describe('settle serve', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });

  /** Starts `settle serve` on `dataDir`, waits for its banner, stops it (SIGTERM) and returns what it printed. */
  async function serveOnce(dataDir: string): Promise<string> {
    const env: NodeJS.ProcessEnv = { ...process.env, SETTLE_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
    for (const name of [
      'DATABASE_URL',
      'SETTLE_API_KEY',
      'STRIPE_SECRET_KEY',
      'STRIPE_API_BASE',
      'STRIPE_WEBHOOK_SECRET',
      'SETTLE_BASE_URL',
    ])
      delete env[name];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 120_000;
    while (!/API docs:[^\n]*\n[\s\S]*admin API key/.test(output)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`settle serve did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The banner is written at once; give its last line a moment to arrive, then stop the server.
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGTERM');
    await exited;
    return output;
  }

  it(
    'the first start prints the first user and its password once and keeps it 0600; the second prints neither',
    { timeout: 300_000 },
    async () => {
      const dataDir = tempDir();
      const file = path.join(dataDir, 'console-admin-password');
      const first = await serveOnce(dataDir);
      expect(existsSync(file)).toBe(true);
      expect(modeOf(file)).toBe(0o600);
      const password = readFileSync(file, 'utf8').trim();
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(first).toContain(`console user (created now; the password is shown only this once and kept in ${file}`);
      expect(first).toContain(`${FIRST_USER_EMAIL}  ${password}`);
      expect(first.split(password)).toHaveLength(2); // printed exactly once

      const second = await serveOnce(dataDir);
      expect(second).toContain('Settle is listening');
      expect(second).not.toContain(password);
      expect(second).not.toContain('console user');
      expect(readFileSync(file, 'utf8')).toBe(`${password}\n`);

      const database = await openDatabase({ dataDir: path.join(dataDir, 'pglite') });
      try {
        await migrateToLatest(database.db);
        const rows = await database.db.selectFrom('users').selectAll().execute();
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ email: FIRST_USER_EMAIL, role: 'admin', must_change_password: true });
        expect(await verifyPassword(password, rows[0]!.password_hash)).toBe(true);
      } finally {
        await database.close();
      }
    },
  );
});
