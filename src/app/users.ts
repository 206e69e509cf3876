// Console users (X3, issue 21): people who sign in to the console (sessions are app/sessions.ts). A user's `role`
// maps onto the API's scopes: admin -> admin, operator -> write, viewer -> read. Users are managed through
// /v1/users (admin scope), by `settle users create`, and the first one is made by `settle serve` (ensureFirstUser).
//
// - The email is trimmed and stored lower-case; it is unique (409 user_exists).
// - A password is 12 to 256 characters and stored only as a scrypt hash (passwords.ts). Without one, Settle
//   generates one, returns it once (`password`; an idempotent replay answers `password: null`, as a new API key's
//   `secret`) and sets must_change_password, so the user must choose their own at first sign-in.
// - Disabling a user or resetting their password ends their sessions in the same database transaction.
// - The last enabled admin cannot be demoted or disabled (409 last_admin): the console would have no one left to
//   manage users. Concurrent changes are serialised on the admins' rows (users-repo.ts lockEnabledAdmins).
// - Every change records an audit event (user.created, user.updated, user.password_reset) in the same transaction,
//   never with the hash or a password; a PATCH that changes nothing changes and records nothing.
// - Hashing costs about half a second, so it is done before the database transaction opens: the embedded database
//   serves one transaction at a time, and holding one through a hash would stall every other request.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { Db, Tx, UserRole } from '../store/schema.js';
import {
  anyUserExists,
  endUserSessions,
  findUser,
  findUserByEmail,
  findUserForSignIn,
  insertUser,
  listUserRows,
  lockEnabledAdmins,
  lockFirstUser,
  lockUser,
  type UserChanges,
  type UserRecord,
  updateUser,
} from '../store/users-repo.js';
import type { Scope } from './api-keys.js';
import { type AuditAction, auditActor, recordAuditEvent, SYSTEM_ACTOR } from './audit.js';
import type { RunOutcome } from './command-runner.js';
import type { Deps, RequestContext } from './deps.js';
import { newId } from './ids.js';
import { cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';
import {
  generatePassword,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  verifyPassword,
} from './passwords.js';

export const USER_ROLES = ['admin', 'operator', 'viewer'] as const satisfies readonly UserRole[];

/** The API scope each role has. */
export const ROLE_SCOPES: Record<UserRole, Scope> = { admin: 'admin', operator: 'write', viewer: 'read' };

/** The user `settle serve` makes on a database without console users. */
export const FIRST_USER_EMAIL = 'admin@localhost';

/** Where the first user's generated password is kept (owner-only), beside data/admin-api-key. */
export const firstUserPasswordFile = (dataDir: string): string => path.join(dataDir, 'console-admin-password');

const EMAIL_SHAPE = /^[^@\s]+@[^@\s]+$/;
const MAX_EMAIL_LENGTH = 254;

// ---- input rules --------------------------------------------------------------------------------------------------

/** An email, trimmed and lower-cased: one @ with something (no spaces) on each side, at most 254 characters. */
export function parseEmail(input: unknown): string {
  const email = typeof input === 'string' ? input.trim().toLowerCase() : '';
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_SHAPE.test(email)) {
    throw new ValidationError(
      'invalid_email',
      `email must be an email address (name@domain) of at most ${MAX_EMAIL_LENGTH} characters.`,
      'email',
    );
  }
  return email;
}

export function parseRole(input: unknown): UserRole {
  if (typeof input !== 'string' || !(USER_ROLES as readonly string[]).includes(input)) {
    throw new ValidationError('parameter_invalid_value', `role must be one of: ${USER_ROLES.join(', ')}.`, 'role');
  }
  return input as UserRole;
}

/** A password of 12 to 256 characters (counted as characters, not bytes). */
export function checkPassword(input: unknown, param = 'password'): string {
  const length = typeof input === 'string' ? [...input].length : 0;
  if (typeof input !== 'string' || length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw new ValidationError(
      'invalid_password',
      `${param} must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.`,
      param,
    );
  }
  return input;
}

// ---- what is shown of a user --------------------------------------------------------------------------------------

/** A user as the API shows it: never the password hash. */
export interface UserView {
  id: string;
  object: 'user';
  email: string;
  role: UserRole;
  disabled: boolean;
  must_change_password: boolean;
  last_sign_in_at: string | null;
  created_at: string;
  updated_at: string;
}

/** The answer to a create or a reset: a generated password once; null otherwise and in a replay. */
export interface UserWithPassword extends UserView {
  password: string | null;
}

const iso = (value: Date | string): string => new Date(value).toISOString();

export function presentUser(row: UserRecord): UserView {
  return {
    id: row.id,
    object: 'user',
    email: row.email,
    role: row.role,
    disabled: row.disabled,
    must_change_password: row.must_change_password,
    last_sign_in_at: row.last_sign_in_at === null ? null : iso(row.last_sign_in_at),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** What an audit event records of a user (no last_sign_in_at: signing in is not a change of configuration). */
function auditView(row: UserRecord): Record<string, unknown> {
  const { last_sign_in_at: _signedIn, object: _object, ...fields } = presentUser(row);
  return fields;
}

async function audit(
  trx: Tx,
  actor: string,
  action: AuditAction,
  before: UserRecord | null,
  after: UserRecord,
  at: Date,
): Promise<void> {
  await recordAuditEvent(
    trx,
    {
      actor,
      action,
      object_type: 'user',
      object_id: after.id,
      before: before === null ? null : auditView(before),
      after: auditView(after),
    },
    at,
  );
}

/**
 * Runs `work` through the command runner with a password shown once: the stored body (all a replay ever gets) has
 * `password: null`; only the fresh answer carries the password (the pattern of secret-once.ts, for a `password`).
 */
async function runWithPasswordOnce(
  deps: Pick<Deps, 'commands'>,
  ctx: RequestContext,
  password: string | undefined,
  work: (trx: Tx) => Promise<{ status: number; body: UserWithPassword }>,
): Promise<RunOutcome<UserWithPassword>> {
  const outcome = await deps.commands.run<UserWithPassword>(ctx.idempotency, async (trx) => {
    const result = await work(trx);
    if (result.body.password !== null)
      throw new Error('runWithPasswordOnce: the body to store must have password: null');
    return result;
  });
  if (outcome.replayed || password === undefined) return outcome;
  return { ...outcome, body: { ...outcome.body, password } };
}

// ---- use cases ----------------------------------------------------------------------------------------------------

export interface CreateUserInput {
  email: unknown;
  role: unknown;
  password?: unknown;
}

/** The checked input of a create, with the hash made (outside any database transaction). */
interface NewUser {
  email: string;
  role: UserRole;
  hash: string;
  /** Set when Settle generated the password: shown once. */
  generated: string | undefined;
}

async function prepareUser(input: CreateUserInput): Promise<NewUser> {
  const email = parseEmail(input.email);
  const role = parseRole(input.role);
  const given = input.password === undefined ? undefined : checkPassword(input.password);
  const generated = given === undefined ? generatePassword() : undefined;
  return { email, role, hash: await hashPassword(given ?? generated!), generated };
}

async function insertNewUser(trx: Tx, user: NewUser, actor: string, now: Date): Promise<UserRecord> {
  if (await findUserByEmail(trx, user.email)) {
    throw new ConflictError('user_exists', `A console user with the email ${user.email} already exists.`);
  }
  const row = await insertUser(trx, {
    id: newId('user', now.getTime()),
    email: user.email,
    role: user.role,
    password_hash: user.hash,
    must_change_password: user.generated !== undefined,
    created_at: now,
    updated_at: now,
  });
  await audit(trx, actor, 'user.created', null, row, now);
  return row;
}

/**
 * POST /v1/users (admin) and `settle users create`: a new user. Without a password, one is generated, returned once
 * and must be changed at first sign-in. 400 on an invalid email, role or password; 409 user_exists.
 */
export async function createUser(
  deps: Pick<Deps, 'commands' | 'clock'>,
  ctx: RequestContext,
  input: CreateUserInput,
): Promise<RunOutcome<UserWithPassword>> {
  const user = await prepareUser(input);
  return runWithPasswordOnce(deps, ctx, user.generated, async (trx) => {
    const row = await insertNewUser(trx, user, auditActor(ctx.actor), deps.clock.now());
    return { status: 201, body: { ...presentUser(row), password: null } };
  });
}

export interface UpdateUserInput {
  role?: unknown;
  disabled?: unknown;
}

/** 409 last_admin: the change would leave no enabled admin. */
const lastAdmin = (id: string) =>
  new ConflictError(
    'last_admin',
    `${id} is the last enabled admin: make another user an admin (or enable one) before demoting or disabling this one.`,
  );

/**
 * PATCH /v1/users/{id} (admin): the role and whether the user is disabled. Disabling ends the user's sessions. A
 * patch that changes nothing answers the user as it is and records nothing. 404 for an unknown user; 409
 * last_admin (nothing written) for demoting or disabling the last enabled admin.
 */
export async function updateUserCommand(
  deps: Pick<Deps, 'commands' | 'clock'>,
  ctx: RequestContext,
  id: string,
  input: UpdateUserInput,
): Promise<RunOutcome<UserView>> {
  if (input.role === undefined && input.disabled === undefined) {
    throw new ValidationError('parameter_missing', 'Give role or disabled (or both).');
  }
  const changes: UserChanges = {};
  if (input.role !== undefined) changes.role = parseRole(input.role);
  if (input.disabled !== undefined) {
    if (typeof input.disabled !== 'boolean') {
      throw new ValidationError('parameter_invalid_type', 'disabled must be true or false.', 'disabled');
    }
    changes.disabled = input.disabled;
  }
  // Only a demotion or a disabling can remove an admin: those lock the enabled admins first (always before the user
  // itself, so that every such change takes its locks in the same order).
  const mayRemoveAdmin = (changes.role !== undefined && changes.role !== 'admin') || changes.disabled === true;
  return deps.commands.run<UserView>(ctx.idempotency, async (trx) => {
    const now = deps.clock.now();
    const admins = mayRemoveAdmin ? await lockEnabledAdmins(trx) : [];
    const before = await lockUser(trx, id);
    if (!before) throw new NotFoundError('user', id, 'id');
    const effective: UserChanges = {};
    if (changes.role !== undefined && changes.role !== before.role) effective.role = changes.role;
    if (changes.disabled !== undefined && changes.disabled !== before.disabled) effective.disabled = changes.disabled;
    if (Object.keys(effective).length === 0) return { status: 200, body: presentUser(before) };
    const removesAdmin =
      before.role === 'admin' &&
      !before.disabled &&
      ((effective.role !== undefined && effective.role !== 'admin') || effective.disabled === true);
    if (removesAdmin && admins.filter((admin) => admin !== id).length === 0) throw lastAdmin(id);
    const after = await updateUser(trx, id, effective, now);
    if (effective.disabled === true) await endUserSessions(trx, id, now);
    await audit(trx, auditActor(ctx.actor), 'user.updated', before, after, now);
    return { status: 200, body: presentUser(after) };
  });
}

/**
 * POST /v1/users/{id}/reset-password (admin): a generated password, returned once (`password: null` in a replay);
 * the user must change it at their next sign-in, and their sessions end now. 404 for an unknown user.
 */
export async function resetUserPassword(
  deps: Pick<Deps, 'commands' | 'clock'>,
  ctx: RequestContext,
  id: string,
): Promise<RunOutcome<UserWithPassword>> {
  const password = generatePassword();
  const hash = await hashPassword(password);
  return runWithPasswordOnce(deps, ctx, password, async (trx) => {
    const now = deps.clock.now();
    const before = await lockUser(trx, id);
    if (!before) throw new NotFoundError('user', id, 'id');
    const after = await updateUser(trx, id, { password_hash: hash, must_change_password: true }, now);
    await endUserSessions(trx, id, now);
    await audit(trx, auditActor(ctx.actor), 'user.password_reset', before, after, now);
    return { status: 200, body: { ...presentUser(after), password: null } };
  });
}

export interface ListUsersQuery {
  limit?: number;
  starting_after?: string;
}

/** GET /v1/users (admin): newest first, paginated like every list. */
export async function listUsers(deps: Pick<Deps, 'db'>, query: ListUsersQuery): Promise<Page<UserView>> {
  const limit = parseLimit(query.limit);
  const after = cursorAfter(query.starting_after, 'user');
  const rows = await listUserRows(deps.db, { after, limit });
  return pageOf(rows, limit, presentUser, (row) => row.id);
}

/** GET /v1/users/{id} (admin). */
export async function getUser(deps: Pick<Deps, 'db'>, id: string): Promise<UserView> {
  const row = await findUser(deps.db, id);
  if (!row) throw new NotFoundError('user', id, 'id');
  return presentUser(row);
}

// ---- the first user -----------------------------------------------------------------------------------------------

export interface FirstUser {
  user: UserView;
  password: string;
  file: string;
}

/** Writes `secret` to `file`, owner-only: into a new file created exclusively, renamed over any old one. */
function writePrivateFile(dataDir: string, file: string, secret: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/**
 * On a `settle serve` start: when the database has no console user, makes admin@localhost (role admin) with a
 * generated password that must be changed at first sign-in, keeps the password in data/console-admin-password
 * (mode 0600) and returns it to be printed once. Returns null when any user exists: the first user is never made
 * again, whatever became of it (and a kept password that no longer works is deleted). Two servers starting at once
 * on one database make it once (an advisory lock).
 *
 * The file is written before the user's transaction commits: if the commit fails, the file names a password of no
 * user, and the next start (still finding no user) writes a new one over it.
 */
export async function ensureFirstUser(deps: Pick<Deps, 'db' | 'clock'>, dataDir: string): Promise<FirstUser | null> {
  if (await anyUserExists(deps.db)) {
    await removeChangedFirstPassword(deps.db, firstUserPasswordFile(dataDir));
    return null;
  }
  const password = generatePassword();
  const user: NewUser = {
    email: FIRST_USER_EMAIL,
    role: 'admin',
    hash: await hashPassword(password),
    generated: password,
  };
  const file = firstUserPasswordFile(dataDir);
  const row = await deps.db.transaction().execute(async (trx) => {
    await lockFirstUser(trx);
    if (await anyUserExists(trx)) return null;
    const inserted = await insertNewUser(trx, user, SYSTEM_ACTOR, deps.clock.now());
    writePrivateFile(dataDir, file, password);
    return inserted;
  });
  return row === null ? null : { user: presentUser(row), password, file };
}

/**
 * The first user's password is kept only while it works: once admin@localhost has chosen their own (or its password
 * was reset, or the user is gone), a start deletes the file, so it never holds a password that looks current but is
 * not. One verification (about half a second) per start while the file exists.
 */
async function removeChangedFirstPassword(db: Db, file: string): Promise<void> {
  let kept: string;
  try {
    kept = readFileSync(file, 'utf8').trim();
  } catch {
    return; // no file (the usual case once it is gone)
  }
  const user = await findUserForSignIn(db, FIRST_USER_EMAIL);
  if (user && kept !== '' && (await verifyPassword(kept, user.password_hash))) return;
  rmSync(file, { force: true });
}

/** What the start-up banner says of a first user made now (nothing on later starts). */
export function firstUserLines(first: FirstUser | null, address: string): string[] {
  if (first === null) return [];
  return [
    `  console user (created now; the password is shown only this once and kept in ${first.file} until changed):`,
    `    ${first.user.email}  ${first.password}`,
    `    sign in at ${address}/console; a new password must be chosen at first sign-in`,
  ];
}
