// Console sessions (X3): the sign-in and password-change bodies, and the session as returned. The session token is
// never in a body (it is the HttpOnly cookie); the CSRF token is in the sign-in's answer only.
import { Type } from 'typebox';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../app/passwords.js';
import { ErrorResponse, errorResponses, Nullable } from './common.js';

const Time = (description?: string) => Type.String(description === undefined ? {} : { description });

/** A console user as a session shows it: the same fields as /v1/users, never the password hash. */
const SessionUser = Type.Object({
  id: Type.String({ description: 'usr_...' }),
  object: Type.Literal('user'),
  email: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('viewer')], {
    description: 'admin: the admin scope; operator: write; viewer: read.',
  }),
  disabled: Type.Boolean(),
  must_change_password: Type.Boolean({
    description:
      'While true, the session may only read itself, change the password and sign out (403 password_change_required elsewhere).',
  }),
  last_sign_in_at: Nullable(Time()),
  created_at: Time(),
  updated_at: Time(),
});

const sessionFields = {
  id: Type.String({ description: 'ses_...' }),
  object: Type.Literal('session'),
  user: SessionUser,
  created_at: Time('When the user signed in.'),
  last_seen_at: Time(
    'When a request last came through the session: written at most once a minute, so up to a minute behind.',
  ),
  expires_at: Time('12 hours after sign-in; the session ends then (it is not extended by use).'),
};

export const SessionSchema = Type.Object(sessionFields, { $id: 'Session' });

export const SessionCreatedSchema = Type.Object(
  {
    ...sessionFields,
    csrf_token: Type.String({
      description:
        'Send it in X-CSRF-Token with every write (any method but GET, HEAD, OPTIONS) made through this session. Shown in this answer only: Settle keeps its digest.',
    }),
  },
  { $id: 'SessionCreated' },
);

export const SignInBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320, description: "The console user's email (any case)." }),
    password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
  },
  { additionalProperties: false },
);

export const ChangePasswordBody = Type.Object(
  {
    current_password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
    new_password: Type.String({
      maxLength: MAX_PASSWORD_LENGTH,
      description: `${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, not the current password.`,
    }),
  },
  { additionalProperties: false },
);

/** A sign-in's refusals: 401 invalid_credentials, 429 sign_in_throttled or rate_limited (with Retry-After). */
export const signInErrors = { 400: ErrorResponse, 401: ErrorResponse, 429: ErrorResponse };
export const sessionErrors = { ...errorResponses, 429: ErrorResponse };
