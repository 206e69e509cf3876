// Console sessions and the sign-in back-off (X3, migration 0023; the rules are app/sessions.ts). Only SHA-256 digests
// of a session's token and CSRF token are stored; no function here takes or returns either token. Reading and
// changing users (the sign-in's read with the hash, a password change) is users-repo.ts.
import { sql } from 'kysely';
import type { Db, SessionRow, Tx, UserRole } from './schema.js';

export interface NewSession {
  id: string;
  token_digest: string;
  csrf_digest: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
}

/** Records a new session and the user's last sign-in, in the caller's transaction. */
export async function insertSession(trx: Tx, session: NewSession): Promise<void> {
  await trx
    .insertInto('sessions')
    .values({ ...session, last_seen_at: session.created_at, revoked_at: null })
    .execute();
  await trx
    .updateTable('users')
    .set({ last_sign_in_at: session.created_at })
    .where('id', '=', session.user_id)
    .execute();
}

/** A session as a request is checked against: its user's role and state, and the CSRF digest. */
export interface SessionCheck {
  id: string;
  user_id: string;
  csrf_digest: string;
  expires_at: Date;
  revoked_at: Date | null;
  last_seen_at: Date;
  role: UserRole;
  disabled: boolean;
  must_change_password: boolean;
}

/**
 * The session whose token has this digest, with its user (the digest is the lookup key: comparing it in SQL leaks
 * nothing useful about the token). Whether it is still live is for the caller to decide.
 */
export function findSessionByDigest(db: Db | Tx, tokenDigest: string): Promise<SessionCheck | undefined> {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id',
      'sessions.user_id',
      'sessions.csrf_digest',
      'sessions.expires_at',
      'sessions.revoked_at',
      'sessions.last_seen_at',
      'users.role',
      'users.disabled',
      'users.must_change_password',
    ])
    .where('sessions.token_digest', '=', tokenDigest)
    .executeTakeFirst();
}

/**
 * Moves the session's last_seen_at to `now` unless it was moved since `staleBefore` (by another request meanwhile):
 * one write per session per interval, however many requests it makes.
 */
export async function touchSession(db: Db | Tx, id: string, now: Date, staleBefore: Date): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: now })
    .where('id', '=', id)
    .where('last_seen_at', '<=', staleBefore)
    .execute();
}

/** The session (never its digests). */
export function findSession(
  db: Db | Tx,
  id: string,
): Promise<
  Pick<SessionRow, 'id' | 'user_id' | 'created_at' | 'last_seen_at' | 'expires_at' | 'revoked_at'> | undefined
> {
  return db
    .selectFrom('sessions')
    .select(['id', 'user_id', 'created_at', 'last_seen_at', 'expires_at', 'revoked_at'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Ends one session (sign-out); a session already ended keeps its first revoked_at. True when it was live. */
export async function revokeSession(db: Db | Tx, id: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Ends the user's other live sessions (after a password change: a stolen session must not outlive it). */
export async function revokeOtherSessions(trx: Tx, userId: string, keepId: string, now: Date): Promise<number> {
  const result = await trx
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('id', '<>', keepId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

// ---- the back-off -------------------------------------------------------------------------------------------------

/**
 * Serialises the sign-in attempts of one email until the end of the database transaction, so that attempts arriving
 * together are counted one after the other (each sees the failure the previous one recorded).
 */
export async function lockSignInEmail(trx: Tx, email: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`settle_sign_in:${email}`}, 0))`.execute(trx);
}

/** The failures of an email since `since`: how many, and when the latest was. */
export async function recentFailures(
  db: Db | Tx,
  email: string,
  since: Date,
): Promise<{ count: number; latest: Date | null }> {
  const row = await db
    .selectFrom('sign_in_failures')
    .select((eb) => [eb.fn.countAll<string | number>().as('count'), eb.fn.max('at').as('latest')])
    .where('email', '=', email)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), latest: row.latest === null ? null : new Date(row.latest) };
}

export async function insertSignInFailure(trx: Tx, email: string, at: Date): Promise<void> {
  await trx.insertInto('sign_in_failures').values({ email, at }).execute();
}

/**
 * Takes the cleanup's lock if no other database transaction holds it (false: another attempt is cleaning up), so that
 * two cleanups never delete the same rows in different orders.
 */
export async function tryLockFailureCleanup(trx: Tx): Promise<boolean> {
  const result = await sql<{
    locked: boolean;
  }>`select pg_try_advisory_xact_lock(hashtextextended('settle_sign_in_cleanup', 0)) as locked`.execute(trx);
  return result.rows[0]?.locked === true;
}

/** Forgets failures older than `before`, every email's (they no longer count: the table stays small). */
export async function deleteFailuresBefore(trx: Tx, before: Date): Promise<void> {
  await trx.deleteFrom('sign_in_failures').where('at', '<=', before).execute();
}

/** Forgets the failures of an email since `since` (a successful sign-in; older ones are the cleanup's). */
export async function clearSignInFailures(db: Db | Tx, email: string, since: Date): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('email', '=', email).where('at', '>', since).execute();
}
