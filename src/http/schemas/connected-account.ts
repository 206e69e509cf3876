// Connected accounts (Connect, M6): the shapes of /v1/connected-accounts.
import { Type } from 'typebox';
import { ListQuery, Metadata, Nullable } from './common.js';

export const ConnectedAccountSchema = Type.Object(
  {
    id: Type.String({ description: 'cac_...' }),
    object: Type.Literal('connected_account'),
    gateway_id: Type.String(),
    account: Type.String({ description: "The gateway's id of the account (Stripe: acct_...)." }),
    type: Nullable(Type.String({ description: 'custom, express or standard, as the gateway said.' })),
    country: Nullable(Type.String()),
    email: Nullable(Type.String()),
    default_currency: Nullable(Type.String()),
    charges_enabled: Type.Boolean(),
    payouts_enabled: Type.Boolean(),
    metadata: Metadata,
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'ConnectedAccount' },
);

export const CreateConnectedAccountBody = Type.Object(
  {
    gateway_id: Type.Optional(Type.String({ maxLength: 64, description: 'Default: the default gateway.' })),
    account: Type.Optional(
      Type.String({
        maxLength: 255,
        description:
          'Record an account that already exists at the gateway (acct_...): Settle reads it first; an account the platform cannot reach is 400 account_not_found. Without it, Settle creates one at the gateway.',
      }),
    ),
    type: Type.Optional(
      Type.String({ maxLength: 20, description: 'For a new account: custom, express (default) or standard.' }),
    ),
    country: Type.Optional(Type.String({ maxLength: 2, description: 'For a new account: two letters (default US).' })),
    email: Type.Optional(Type.String({ maxLength: 320, description: 'For a new account.' })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const ListConnectedAccountsQuery = Type.Object({
  ...ListQuery,
  gateway_id: Type.Optional(Type.String({ maxLength: 64 })),
});
