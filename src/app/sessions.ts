// Console sessions (X3, issue 21): a console user signs in with email and password and gets a session, a random
// 32-byte token in an HttpOnly, SameSite=Strict cookie, and a CSRF token that every write made through the session
// sends back in X-CSRF-Token. Only SHA-256 digests of both tokens are stored (a copy of the database signs nobody in),
// and neither token is ever logged. A session lasts 12 hours from sign-in and ends earlier at sign-out, when its user
// is disabled or when the user's password is reset (users.ts) or changed.
//
// Sign-in answers the same 401 invalid_credentials for an unknown email, a wrong password and a disabled user, in
// about the same time (an unknown email is verified against a dummy hash). After 5 failures for an email within 15
// minutes each further attempt must wait 2^n seconds after the latest failure (n = failures beyond 4, capped at 15
// minutes): an attempt inside the wait is 429 sign_in_throttled with Retry-After, without the password being checked.
// Each attempt is counted as a failure before its password is checked (and the failures cleared when it succeeds), so
// that attempts sent together cannot all slip through before the first of them is recorded.
//
// Besides the per-email back-off, one client address may make at most 20 sign-in attempts a minute (whatever the
// emails): the 21st within any 60 seconds is 429 rate_limited with Retry-After, before anything is looked up. The
// count is kept in the memory of each process (SignInAddressLimit; several servers each allow 20), by the app's clock.
//
// A session's last_seen_at moves when a request authenticates through it, at most once a minute (one write per
// session per minute, however many requests it makes).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SettleError, ValidationError } from '../domain/errors.js';
import {
  clearSignInFailures,
  deleteFailuresBefore,
  findSession,
  findSessionByDigest,
  insertSession,
  insertSignInFailure,
  lockSignInEmail,
  recentFailures,
  revokeOtherSessions,
  revokeSession,
  touchSession,
  tryLockFailureCleanup,
} from '../store/sessions-repo.js';
import { findUser, findUserForSignIn, lockUser, updateUser } from '../store/users-repo.js';
import type { Db, Tx } from '../store/schema.js';
import type { Principal } from './api-keys.js';
import { recordAuditEvent } from './audit.js';
import type { Clock } from './clock.js';
import { newId } from './ids.js';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords.js';
import { presentUser, ROLE_SCOPES, type UserView } from './users.js';

export const SESSION_COOKIE = 'settle_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;

/** Failures within this window count for the back-off; older ones are forgotten. */
export const FAILURE_WINDOW_MS = 15 * 60 * 1000;
/** Failures allowed before attempts must wait. */
export const FREE_FAILURES = 5;
/** The longest wait. */
export const MAX_WAIT_MS = 15 * 60 * 1000;
/** Sign-in attempts one client address may make within ADDRESS_WINDOW_MS (SignInAddressLimit). */
export const ADDRESS_ATTEMPTS = 20;
export const ADDRESS_WINDOW_MS = 60 * 1000;
/** A session's last_seen_at is written again only when it is at least this old. */
export const LAST_SEEN_INTERVAL_MS = 60 * 1000;
/** Failures older than this are deleted (by whichever attempt gets the cleanup lock): well past the window. */
const FAILURE_RETENTION_MS = 60 * 60 * 1000;

type SessionDeps = { db: Db; clock: Clock };

export const digestToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
const newToken = (): string => randomBytes(32).toString('base64url');
/** A token as Settle makes them: 32 bytes in base64url (anything else is not looked up). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

// ---- what is shown --------------------------------------------------------------------------------------------------

const iso = (value: Date | string): string => new Date(value).toISOString();

export interface SessionView {
  id: string;
  object: 'session';
  user: UserView;
  created_at: string;
  /** When a request last came through the session (to the minute: it is written at most once a minute). */
  last_seen_at: string;
  expires_at: string;
}

/** The answer to a sign-in: the CSRF token, shown once (the cookie carries the session token). */
export interface SignedIn {
  session: SessionView;
  /** The cookie's value; never in a body. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

// ---- errors ---------------------------------------------------------------------------------------------------------

const invalidCredentials = () =>
  new SettleError('authentication', 'invalid_credentials', 'The email or the password is not right.');

/** 429 sign_in_throttled; the route sends `retryAfterSeconds` as Retry-After. */
export class SignInThrottledError extends SettleError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(
      'rate_limit',
      'sign_in_throttled',
      `Too many failed sign-ins for this email: try again in ${retryAfterSeconds} second(s) (Retry-After).`,
    );
    this.name = 'SignInThrottledError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 429 rate_limited: too many sign-in attempts from one client address; the route sends Retry-After. */
export class SignInRateLimitedError extends SettleError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(
      'rate_limit',
      'rate_limited',
      `Too many sign-in attempts from this address (at most ${ADDRESS_ATTEMPTS} a minute): try again in ${retryAfterSeconds} second(s) (Retry-After).`,
    );
    this.name = 'SignInRateLimitedError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const sessionRequired = () =>
  new SettleError(
    'authentication',
    'session_required',
    'This route acts on a console session: sign in (POST /v1/sessions) and send its cookie instead of an API key.',
  );

// ---- the back-off ---------------------------------------------------------------------------------------------------

/** How long after the latest failure the next attempt must wait, for `failures` recent failures (0: none). */
export function backOffMs(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(2 ** (failures - FREE_FAILURES + 1) * 1000, MAX_WAIT_MS);
}

/**
 * Admits one attempt for `email` (lower-cased) or throws 429: under the email's lock, counts its recent failures and,
 * when the attempt may go ahead, records it as a failure at once (cleared again if it succeeds). Own transaction,
 * committed before the password is checked (scrypt takes about half a second: no lock is held meanwhile).
 */
async function admitAttempt(deps: SessionDeps, email: string): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    await lockSignInEmail(trx, email);
    const { count, latest } = await recentFailures(trx, email, new Date(now.getTime() - FAILURE_WINDOW_MS));
    const wait = backOffMs(count);
    if (wait > 0 && latest !== null) {
      const left = latest.getTime() + wait - now.getTime();
      if (left > 0) throw new SignInThrottledError(Math.max(1, Math.ceil(left / 1000)));
    }
    await insertSignInFailure(trx, email, now);
    // Housekeeping, by one attempt at a time: the failures no attempt counts any more (of every email, so that
    // emails tried once are not kept forever). The rows a success clears are recent ones only, so the two never
    // delete the same rows.
    if (await tryLockFailureCleanup(trx)) {
      await deleteFailuresBefore(trx, new Date(now.getTime() - FAILURE_RETENTION_MS));
    }
  });
}

/**
 * The per-address limit of sign-in attempts: at most `max` within any `windowMs` (a sliding window: the times of the
 * address's last `max` admitted attempts). In this process's memory only, by the app's clock; an address whose
 * attempts are all older than the window is forgotten (swept once per window), so the map holds the addresses seen
 * within about two windows. A refused attempt is not counted, so Retry-After is when the oldest counted one expires.
 */
export class SignInAddressLimit {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #attempts = new Map<string, number[]>();
  #nextSweep = 0;

  constructor(clock: Clock, max = ADDRESS_ATTEMPTS, windowMs = ADDRESS_WINDOW_MS) {
    this.#clock = clock;
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** Counts one attempt from `address`, or throws 429 rate_limited when it has made `max` within the window. */
  admit(address: string): void {
    const now = this.#clock.now().getTime();
    const since = now - this.#windowMs;
    if (now >= this.#nextSweep) {
      for (const [key, times] of this.#attempts) {
        if ((times[times.length - 1] ?? 0) <= since) this.#attempts.delete(key);
      }
      this.#nextSweep = now + this.#windowMs;
    }
    const times = (this.#attempts.get(address) ?? []).filter((at) => at > since);
    if (times.length >= this.#max) {
      this.#attempts.set(address, times);
      const left = times[0]! + this.#windowMs - now;
      throw new SignInRateLimitedError(Math.max(1, Math.ceil(left / 1000)));
    }
    times.push(now);
    this.#attempts.set(address, times);
  }
}

/** A successful attempt forgets the email's failures (those still counted: older ones are the cleanup's). */
async function forgetFailures(db: Db | Tx, email: string, now: Date): Promise<void> {
  await clearSignInFailures(db, email, new Date(now.getTime() - FAILURE_RETENTION_MS));
}

let dummyHash: Promise<string> | undefined;
/** A hash no password matches, verified against for an unknown email so that it takes as long as a known one. */
function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(18).toString('base64url'));
  return dummyHash;
}

const normaliseEmail = (input: unknown): string => (typeof input === 'string' ? input.trim().toLowerCase() : '');

function checkPasswordLength(password: string, param: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new ValidationError(
      'invalid_password',
      `A password is ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters long.`,
      param,
    );
  }
}

// ---- use cases ------------------------------------------------------------------------------------------------------

/** POST /v1/sessions: checks the email and password (with the back-off) and opens a session. */
export async function signIn(deps: SessionDeps, input: { email: string; password: string }): Promise<SignedIn> {
  const email = normaliseEmail(input.email);
  await admitAttempt(deps, email);
  const user = email === '' ? undefined : await findUserForSignIn(deps.db, email);
  // The same work for an unknown email (a dummy hash) and a disabled user (its own): the answer and its time say
  // nothing about which it was.
  const matches = await verifyPassword(input.password, user?.password_hash ?? (await dummyPasswordHash()));
  if (!user || !matches || user.disabled) throw invalidCredentials();

  const now = deps.clock.now();
  const token = newToken();
  const csrfToken = newToken();
  const id = newId('session', now.getTime());
  const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
  await deps.db.transaction().execute(async (trx) => {
    await forgetFailures(trx, email, now);
    await insertSession(trx, {
      id,
      token_digest: digestToken(token),
      csrf_digest: digestToken(csrfToken),
      user_id: user.id,
      created_at: now,
      expires_at: expiresAt,
    });
  });
  const fresh = await findUser(deps.db, user.id);
  if (!fresh) throw invalidCredentials(); // deleted meanwhile: users are never deleted, but say no rather than crash
  return {
    session: {
      id,
      object: 'session',
      user: presentUser(fresh),
      created_at: iso(now),
      last_seen_at: iso(now),
      expires_at: iso(expiresAt),
    },
    token,
    csrfToken,
    expiresAt,
  };
}

/** A live session, as a request made through it is checked. */
export interface ActiveSession {
  id: string;
  userId: string;
  csrfDigest: string;
  mustChangePassword: boolean;
  expiresAt: Date;
}

/**
 * The principal of a request carrying a session cookie: the session must be live (not revoked, not expired) and its
 * user not disabled; null otherwise. The principal's keyId is the user's id (usr_...), so that the request's actor,
 * its audit events, its idempotency keys and its rate limit belong to the user.
 */
export async function authenticateSession(
  deps: SessionDeps,
  token: string,
): Promise<{ principal: Principal; session: ActiveSession } | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const row = await findSessionByDigest(deps.db, digestToken(token));
  if (!row || row.revoked_at !== null || row.disabled) return null;
  const expiresAt = new Date(row.expires_at);
  const now = deps.clock.now();
  if (now.getTime() >= expiresAt.getTime()) return null;
  const staleBefore = new Date(now.getTime() - LAST_SEEN_INTERVAL_MS);
  if (new Date(row.last_seen_at).getTime() <= staleBefore.getTime()) {
    await touchSession(deps.db, row.id, now, staleBefore);
  }
  return {
    principal: {
      keyId: row.user_id,
      scopes: [ROLE_SCOPES[row.role]],
      via: 'session',
      userId: row.user_id,
      sessionId: row.id,
    },
    session: {
      id: row.id,
      userId: row.user_id,
      csrfDigest: row.csrf_digest,
      mustChangePassword: row.must_change_password,
      expiresAt,
    },
  };
}

/** Whether `sent` (the X-CSRF-Token header) is the session's CSRF token: digests compared in constant time. */
export function csrfTokenMatches(session: Pick<ActiveSession, 'csrfDigest'>, sent: string | undefined): boolean {
  if (sent === undefined || !TOKEN_SHAPE.test(sent)) return false;
  const expected = Buffer.from(session.csrfDigest, 'hex');
  const actual = Buffer.from(digestToken(sent), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** GET /v1/sessions/current: the session and its user. */
export async function currentSession(deps: SessionDeps, sessionId: string): Promise<SessionView> {
  const session = await findSession(deps.db, sessionId);
  const user = session ? await findUser(deps.db, session.user_id) : undefined;
  if (!session || !user) throw sessionRequired();
  return {
    id: session.id,
    object: 'session',
    user: presentUser(user),
    created_at: iso(session.created_at),
    last_seen_at: iso(session.last_seen_at),
    expires_at: iso(session.expires_at),
  };
}

/** DELETE /v1/sessions/current: ends the session (a second sign-out finds it ended: the request is then a 401). */
export async function signOut(deps: SessionDeps, sessionId: string): Promise<void> {
  await revokeSession(deps.db, sessionId, deps.clock.now());
}

/**
 * POST /v1/sessions/current/password: the user sets their own password (12 to 256 characters, not the current one),
 * giving the current one. Clears must_change_password and ends the user's other sessions; this one goes on. A wrong
 * current password counts as a failed sign-in of the user's email (the same back-off), and is a 400.
 */
export async function changeOwnPassword(
  deps: SessionDeps,
  session: Pick<ActiveSession, 'id' | 'userId'>,
  input: { current_password: string; new_password: string },
): Promise<SessionView> {
  checkPasswordLength(input.new_password, 'new_password');
  if (input.new_password === input.current_password) {
    throw new ValidationError(
      'password_unchanged',
      'The new password must differ from the current one.',
      'new_password',
    );
  }
  const user = await findUser(deps.db, session.userId);
  if (!user) throw sessionRequired();
  await admitAttempt(deps, user.email);
  const stored = await findUserForSignIn(deps.db, user.email);
  if (!stored || !(await verifyPassword(input.current_password, stored.password_hash))) {
    throw new ValidationError('invalid_current_password', 'The current password is not right.', 'current_password');
  }
  const hash = await hashPassword(input.new_password);
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    const before = await lockUser(trx, session.userId);
    // Changed, reset or disabled by another request while this one hashed: refuse rather than overwrite that.
    if (!before || before.version !== stored.version || before.disabled) {
      throw new SettleError(
        'conflict',
        'password_changed_meanwhile',
        'The user was changed while this request ran (its password reset or changed, or the user disabled); sign in again.',
      );
    }
    await forgetFailures(trx, user.email, now);
    const after = await updateUser(trx, session.userId, { password_hash: hash, must_change_password: false }, now);
    await revokeOtherSessions(trx, session.userId, session.id, now);
    // A change to a user, made by the user: audited like the admins' changes (never the hash).
    const audited = (row: typeof after) => {
      const { last_sign_in_at: _signedIn, object: _object, ...fields } = presentUser(row);
      return fields;
    };
    await recordAuditEvent(
      trx,
      {
        actor: session.userId,
        action: 'user.updated',
        object_type: 'user',
        object_id: session.userId,
        before: audited(before),
        after: audited(after),
      },
      now,
    );
  });
  return currentSession(deps, session.id);
}
