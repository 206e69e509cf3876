// Migration 0023: console users and their sessions (issue 21, X3). Frozen once released.
//
// - users (usr_): a person who signs in to the console. `email` is stored lower-case and unique; `role` maps onto the
//   API's scopes (admin -> admin, operator -> write, viewer -> read); `password_hash` is scrypt with its parameters
//   and salt (app/passwords.ts), never the password; `must_change_password` is set for a generated password (the
//   first user, a reset) until the user sets their own.
// - sessions (ses_): one signed-in browser. The cookie carries a random token; only its SHA-256 digest is stored, so a
//   copy of the database signs nobody in. `csrf_digest` is the digest of the session's CSRF token, which writes send
//   back in a header. A session ends at `expires_at`, at sign-out (`revoked_at`), or when its user is disabled.
// - sign_in_failures: one row per failed sign-in for an email (stored lower-case, whether or not a user has it), for
//   the back-off after 5 failures within 15 minutes.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE users (
      id text PRIMARY KEY,
      email text NOT NULL CONSTRAINT users_email_key UNIQUE
        CONSTRAINT users_email_check CHECK (email = lower(email) AND email ~ '^[^@\\s]+@[^@\\s]+$'),
      role text NOT NULL CONSTRAINT users_role_check CHECK (role IN ('admin', 'operator', 'viewer')),
      password_hash text NOT NULL,
      must_change_password boolean NOT NULL DEFAULT false,
      disabled boolean NOT NULL DEFAULT false,
      last_sign_in_at timestamptz,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE sessions (
      id text PRIMARY KEY,
      token_digest text NOT NULL CONSTRAINT sessions_token_digest_key UNIQUE,
      csrf_digest text NOT NULL,
      user_id text NOT NULL CONSTRAINT sessions_user_id_fkey REFERENCES users (id),
      created_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz
    );
    CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;
    CREATE TABLE sign_in_failures (
      email text NOT NULL,
      at timestamptz NOT NULL
    );
    CREATE INDEX sign_in_failures_email_at ON sign_in_failures (email, at);
  `,
  );
}
