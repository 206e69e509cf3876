// Console users (X3, migration 0023; the rules are app/users.ts): the insert, reads, locked updates, the list, the
// lock that makes the first user once, and the one function that ends a user's sessions. Nothing here returns a
// password hash except findUserForSignIn, which the sign-in needs to verify a password.
import { type Insertable, sql } from 'kysely';
import type { Db, Tx, UserRow, UsersTable } from './schema.js';

/** What is read of a user everywhere but the sign-in: never the password hash. */
export const USER_COLUMNS = [
  'id',
  'email',
  'role',
  'must_change_password',
  'disabled',
  'last_sign_in_at',
  'version',
  'created_at',
  'updated_at',
] as const;
export type UserRecord = Pick<UserRow, (typeof USER_COLUMNS)[number]>;

export function insertUser(db: Db | Tx, row: Insertable<UsersTable>): Promise<UserRecord> {
  return db.insertInto('users').values(row).returning(USER_COLUMNS).executeTakeFirstOrThrow();
}

export function findUser(db: Db | Tx, id: string): Promise<UserRecord | undefined> {
  return db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** The user with this email (give it lower-cased, as stored). */
export function findUserByEmail(db: Db | Tx, email: string): Promise<UserRecord | undefined> {
  return db.selectFrom('users').select(USER_COLUMNS).where('email', '=', email).executeTakeFirst();
}

/** The user with this email (lower-cased) with its password hash: for verifying a sign-in only. */
export function findUserForSignIn(db: Db | Tx, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

/** The user, locked for the rest of the database transaction. */
export function lockUser(trx: Tx, id: string): Promise<UserRecord | undefined> {
  return trx.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * Locks every enabled admin user, in id order, for the rest of the database transaction, and returns their ids. A
 * change that could leave no enabled admin takes these locks first (before the user it changes): two such changes
 * running at once then queue here, in the same order (no deadlock), and the second one re-reads the rows after the
 * first commits (READ COMMITTED: a row locked and changed meanwhile is checked again against the WHERE), so it sees
 * an admin the first demoted or disabled as gone.
 */
export async function lockEnabledAdmins(trx: Tx): Promise<string[]> {
  const rows = await trx
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where('disabled', '=', false)
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.map((row) => row.id);
}

export interface UserChanges {
  role?: UsersTable['role'];
  disabled?: boolean;
  password_hash?: string;
  must_change_password?: boolean;
}

/** Applies changes to a user (call with it locked), moving its version and updated_at. */
export function updateUser(trx: Tx, id: string, changes: UserChanges, now: Date): Promise<UserRecord> {
  return trx
    .updateTable('users')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .returning(USER_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** Whether any console user exists (the first user is made only while none does). */
export async function anyUserExists(db: Db | Tx): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Serialises the making of the first user until the end of the database transaction: two servers starting at once
 * on one PostgreSQL database must not both find no user and both make one.
 */
export async function lockFirstUser(trx: Tx): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended('settle_first_user', 0))`.execute(trx);
}

/** A page of users, newest first by id (one more than `limit`, to tell whether more follow). */
export function listUserRows(db: Db | Tx, query: { after?: string | undefined; limit: number }): Promise<UserRecord[]> {
  let q = db.selectFrom('users').select(USER_COLUMNS);
  if (query.after !== undefined) q = q.where('id', '<', query.after);
  return q
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
}

/**
 * Ends every live session of a user (disabled, password reset or changed): stamps revoked_at on those not yet
 * revoked. Returns how many were ended. In the caller's transaction, so the change and the sign-out commit together.
 */
export async function endUserSessions(db: Db | Tx, userId: string, now: Date): Promise<number> {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
