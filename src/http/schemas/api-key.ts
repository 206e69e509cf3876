// API keys (X3): the create body, the list query and the key as returned. The secret appears in one answer only
// (the fresh create); the digest never.
import { Type } from 'typebox';
import { SCOPES } from '../../app/api-keys.js';
import { ListQuery, Nullable } from './common.js';

const Scope = Type.Union(
  SCOPES.map((s) => Type.Literal(s)),
  {
    description:
      'read: GET routes; write: also creating and processing; admin: also gateways, settings, API keys, audit events.',
  },
);
const Time = (description: string) => Nullable(Type.String({ description }));

const keyFields = {
  id: Type.String({ description: 'key_... (the bootstrap key: key_bootstrap).' }),
  object: Type.Literal('api_key'),
  name: Type.String(),
  scopes: Type.Array(Type.String({ description: SCOPES.join(', ') })),
  created_at: Time('null for the bootstrap key, which is not stored in the database.'),
  last_used_at: Time(
    'When the key was last used, to the minute (updated at most once a minute); null if never, and for the bootstrap key.',
  ),
  revoked_at: Time('When the key was revoked; null while it works.'),
  bootstrap: Type.Boolean({
    description:
      'The bootstrap admin key (SETTLE_API_KEY or the generated data/admin-api-key): it cannot be revoked through the API.',
  }),
};

export const ApiKeySchema = Type.Object(keyFields, { $id: 'ApiKey' });

export const ApiKeyCreatedSchema = Type.Object(
  {
    ...keyFields,
    secret: Nullable(
      Type.String({
        description:
          'The key, shown in this answer only: keep it now. null when the answer is a replay (same Idempotency-Key): Settle keeps only its digest.',
      }),
    ),
  },
  { $id: 'ApiKeyCreated' },
);

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'What the key is for, 1 to 200 characters.' }),
    scopes: Type.Array(Scope, {
      minItems: 1,
      maxItems: SCOPES.length * 2,
      description: 'At least one of read, write, admin (admin includes write, write includes read).',
    }),
  },
  { additionalProperties: false },
);

export const ListApiKeysQuery = Type.Object({ ...ListQuery }, { additionalProperties: false });
