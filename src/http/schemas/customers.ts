// Accounts and contacts (R6): request bodies, list queries and the objects returned.
import { Type } from 'typebox';
import { Id, ListQuery, Metadata, MetadataUpdate, Nullable } from './common.js';
import { TotalsSchema } from './totals.js';

const Email = Type.String({ maxLength: 254, description: 'An e-mail address.' });
const Name = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });
const DefaultPaymentMethod = Nullable(
  Type.String({
    minLength: 1,
    maxLength: 64,
    description:
      "A payment method (pmt_) of this customer. Changing it rolls it down onto the customer's open transactions unless they opt out (dont_auto_update_payment_method) or the payment_method_rolldown_enabled setting is off.",
  }),
);

const timestamps = {
  metadata: Metadata,
  totals: TotalsSchema,
  created_at: Type.String(),
  updated_at: Type.String(),
};

export const AccountSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('account'),
    name: Type.String(),
    email: Nullable(Type.String()),
    default_payment_method_id: Nullable(Type.String()),
    ...timestamps,
  },
  { $id: 'Account' },
);

export const ContactSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('contact'),
    account_id: Nullable(Type.String()),
    first_name: Nullable(Type.String()),
    last_name: Type.String(),
    email: Nullable(Type.String()),
    default_payment_method_id: Nullable(Type.String()),
    ...timestamps,
  },
  { $id: 'Contact' },
);

export const CreateAccountBody = Type.Object(
  {
    name: Name('The organisation name, 1 to 200 characters.'),
    email: Type.Optional(Nullable(Email)),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const UpdateAccountBody = Type.Object(
  {
    name: Type.Optional(Name('The organisation name, 1 to 200 characters.')),
    email: Type.Optional(Nullable(Email)),
    default_payment_method_id: Type.Optional(DefaultPaymentMethod),
    metadata: Type.Optional(MetadataUpdate),
  },
  { additionalProperties: false },
);

export const CreateContactBody = Type.Object(
  {
    last_name: Name('Family name, 1 to 200 characters.'),
    first_name: Type.Optional(Nullable(Name('Given name.'))),
    email: Type.Optional(Nullable(Email)),
    account_id: Type.Optional(Nullable(Id('acc'))),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const UpdateContactBody = Type.Object(
  {
    last_name: Type.Optional(Name('Family name, 1 to 200 characters.')),
    first_name: Type.Optional(Nullable(Name('Given name.'))),
    email: Type.Optional(Nullable(Email)),
    default_payment_method_id: Type.Optional(DefaultPaymentMethod),
    metadata: Type.Optional(MetadataUpdate),
  },
  { additionalProperties: false },
);

export const ListAccountsQuery = Type.Object({ ...ListQuery }, { additionalProperties: false });

export const ListContactsQuery = Type.Object(
  {
    account_id: Type.Optional(Type.String({ maxLength: 64, description: 'Only contacts of this account.' })),
    ...ListQuery,
  },
  { additionalProperties: false },
);
