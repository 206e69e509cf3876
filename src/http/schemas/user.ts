// Console users (X3): the create and update bodies, the list query and the user as returned. Never a password hash;
// a password only in the fresh answer to a create without one, or to a reset.
import { Type } from 'typebox';
import { USER_ROLES } from '../../app/users.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../app/passwords.js';
import { ListQuery, Nullable } from './common.js';

const ROLE_DESCRIPTION = `${USER_ROLES.join(', ')}: the API scopes admin, write and read.`;

const userFields = {
  id: Type.String({ description: 'usr_...' }),
  object: Type.Literal('user'),
  email: Type.String({ description: 'Lower-case; unique.' }),
  role: Type.String({ description: ROLE_DESCRIPTION }),
  disabled: Type.Boolean({ description: 'A disabled user cannot sign in; disabling ends their sessions.' }),
  must_change_password: Type.Boolean({
    description: 'Set for a generated password: the user must choose their own before doing anything else.',
  }),
  last_sign_in_at: Nullable(Type.String({ description: 'The last successful sign-in; null if never.' })),
  created_at: Type.String(),
  updated_at: Type.String(),
};

export const UserSchema = Type.Object(userFields, { $id: 'User' });

export const UserWithPasswordSchema = Type.Object(
  {
    ...userFields,
    password: Nullable(
      Type.String({
        description:
          'The generated password, shown in this answer only: null when a password was given, and when the answer is a replay (same Idempotency-Key). Settle keeps only a scrypt hash.',
      }),
    ),
  },
  { $id: 'UserWithPassword' },
);

// Lengths and shapes are checked by the use case (app/users.ts), which answers with a precise code (invalid_email,
// invalid_password, parameter_invalid_value for role); the schema refuses wrong types and unknown fields.
export const CreateUserBody = Type.Object(
  {
    email: Type.String({ description: 'An email address (name@domain), stored lower-case.' }),
    role: Type.String({ description: ROLE_DESCRIPTION }),
    password: Type.Optional(
      Type.String({
        description: `${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters. Without it Settle generates one, returns it once and the user must change it at first sign-in.`,
      }),
    ),
  },
  { additionalProperties: false },
);

export const UpdateUserBody = Type.Object(
  {
    role: Type.Optional(Type.String({ description: ROLE_DESCRIPTION })),
    disabled: Type.Optional(Type.Boolean({ description: "true ends the user's sessions and refuses their sign-ins." })),
  },
  { additionalProperties: false },
);

export const ListUsersQuery = Type.Object({ ...ListQuery }, { additionalProperties: false });
