// Payment methods (R5): request bodies, list query and the object returned. Tokens only: a card number
// sent as gateway_token is refused (X3).
import { Type } from 'typebox';
import { PAYMENT_METHOD_STATUSES, PAYMENT_METHOD_TYPES } from '../../app/payment-methods.js';
import { Id, INT4_MAX, INT4_MIN, ListQuery, Metadata, MetadataUpdate, Nullable } from './common.js';

const Enum = (values: readonly string[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

const Type_ = Enum(PAYMENT_METHOD_TYPES, 'card or us_bank_account.');
const Status = Enum(PAYMENT_METHOD_STATUSES, 'Default valid for a card, new for a bank account.');

export const PaymentMethodSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('payment_method'),
    gateway_token: Type.String(),
    type: Type.String(),
    status: Type.String(),
    usable: Type.Boolean({ description: 'Cards: valid or one_time and not expired today; bank accounts: verified.' }),
    brand: Nullable(Type.String()),
    last4: Nullable(Type.String()),
    exp_month: Nullable(Type.Integer()),
    exp_year: Nullable(Type.Integer()),
    funding: Nullable(Type.String()),
    fingerprint: Nullable(Type.String()),
    account_id: Nullable(Type.String()),
    contact_id: Nullable(Type.String()),
    billing_email: Nullable(Type.String()),
    is_default: Type.Boolean({ description: 'The default of its account or of its contact.' }),
    gateway_id: Nullable(
      Type.String({ description: 'The gateway the card is saved at (null: a one-time method, or not saved yet).' }),
    ),
    gateway_customer: Nullable(
      Type.String({
        description:
          "The gateway Customer (cus_...) the card is attached to: its contact's, else its account's. Charges send it.",
      }),
    ),
    setup_intent: Nullable(Type.String({ description: 'The SetupIntent (seti_...) that saved the card.' })),
    setup_status: Nullable(
      Type.String({
        description:
          "How the save ended: succeeded; requires_action (waiting for the holder's 3-D Secure, the method is pending); processing; unknown (the gateway's answer was lost: the next read completes it); failed.",
      }),
    ),
    metadata: Metadata,
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'PaymentMethod' },
);

const details = {
  status: Status,
  brand: Nullable(Type.String({ maxLength: 50 })),
  last4: Nullable(Type.String({ description: 'The last 4 digits, exactly 4.' })),
  // Bounded by the column; the ledger's own ranges (1 to 12, 1900 to 9999) give invalid_exp_month / invalid_exp_year.
  exp_month: Nullable(
    Type.Integer({ minimum: INT4_MIN, maximum: INT4_MAX, description: 'Expiry month 1 to 12 (cards only).' }),
  ),
  exp_year: Nullable(
    Type.Integer({ minimum: INT4_MIN, maximum: INT4_MAX, description: 'Expiry year, 4 digits (cards only).' }),
  ),
  funding: Nullable(Type.String({ maxLength: 50, description: 'credit, debit, prepaid...' })),
  billing_email: Nullable(Type.String({ maxLength: 254 })),
  is_default: Type.Boolean({
    description:
      'true makes it the default of its account and/or contact, rolling it down onto their open transactions; false unsets it where it is the default.',
  }),
};
const optionalDetails = Object.fromEntries(Object.entries(details).map(([k, v]) => [k, Type.Optional(v)]));

export const CreatePaymentMethodBody = Type.Object(
  {
    gateway_token: Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        "The gateway's token (e.g. pm_card_visa). Never a card number: one is refused with card_number_not_accepted. A card with an account or contact is saved at the default gateway (a SetupIntent for their Customer) and this becomes the pm_... the gateway saved.",
    }),
    type: Type_,
    ...optionalDetails,
    fingerprint: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    account_id: Type.Optional(Nullable(Id('acc'))),
    contact_id: Type.Optional(Nullable(Id('con'))),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const UpdatePaymentMethodBody = Type.Object(
  {
    ...optionalDetails,
    gateway_token: Type.Optional(Type.Unknown({ description: 'Immutable: sending it is a 400.' })),
    type: Type.Optional(Type.Unknown({ description: 'Immutable: sending it is a 400.' })),
    metadata: Type.Optional(MetadataUpdate),
  },
  { additionalProperties: false },
);

export const ListPaymentMethodsQuery = Type.Object(
  {
    account_id: Type.Optional(Type.String({ maxLength: 64 })),
    contact_id: Type.Optional(Type.String({ maxLength: 64 })),
    type: Type.Optional(Type_),
    status: Type.Optional(Status),
    ...ListQuery,
  },
  { additionalProperties: false },
);
