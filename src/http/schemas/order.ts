// Orders (O1, O2, O5): the create body, the list query, the order with its totals and payment summaries, and the
// summaries' records.
import { Type } from 'typebox';
import { Amount, Currency, Id, ListQuery, Metadata, Nullable } from './common.js';
import { TotalsSchema } from './totals.js';

const ExternalId = Type.String({
  minLength: 1,
  maxLength: 200,
  description: "The order's id in the storefront it comes from, unique (1 to 200 characters).",
});
const Description = Type.String({ minLength: 1, maxLength: 1000, description: 'Free text, 1 to 1000 characters.' });
const Figure = (description: string) => Type.Integer({ description: `${description} Minor units.` });

export const PaymentRecordSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('order_payment_record'),
    kind: Type.Union([Type.Literal('authorization'), Type.Literal('payment'), Type.Literal('refund')]),
    transaction_id: Type.String({ description: 'The Settle transaction the record comes from.' }),
    amount: Type.Integer({ description: 'Minor units, 0 or more (a refund too).' }),
    status: Type.Union(
      [
        Type.Literal('draft'),
        Type.Literal('pending'),
        Type.Literal('processed'),
        Type.Literal('canceled'),
        Type.Literal('failed'),
      ],
      {
        description:
          "Follows the transaction (open, on_hold: draft; in flight or awaiting the gateway: pending; completed: processed) and, for a Settle call, the call's own outcome.",
      },
    ),
    result_code: Nullable(
      Type.String({ description: "Settle's result code of the gateway call, when there was one." }),
    ),
    gateway_ref_number: Nullable(
      Type.String({
        description:
          "platform: Settle's idempotency key of the call (settle_gatt_...); external: the PaymentIntent (pi_) of an authorization, the balance transaction (txn_) of a payment, the refund (re_) of a refund.",
      }),
    ),
    processing_mode: Type.Union([Type.Literal('platform'), Type.Literal('external')], {
      description: 'platform: Settle made the gateway call; external: it happened outside Settle (e.g. at checkout).',
    }),
    payment_intent: Nullable(Type.String({ description: 'The PaymentIntent (pi_...).' })),
    gateway_date: Nullable(Type.String({ description: 'When the gateway recorded it.' })),
    gateway_log_id: Nullable(Type.String({ description: 'The gateway log entry of the call (glog_...).' })),
    created_at: Type.String(),
  },
  // No $id: the record schema is embedded three times in a summary, and a repeated $id is refused by the serialiser.
);

export const PaymentSummarySchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('order_payment_summary'),
    order_id: Type.String(),
    payment_method_id: Type.String(),
    currency: Type.String(),
    authorized_amount: Figure('Processed authorizations.'),
    captured_amount: Figure('Processed payments.'),
    refunded_amount: Figure('Processed refunds.'),
    pending_amount: Figure('Records still pending.'),
    available_to_capture: Figure(
      'What processed authorizations can still capture (0 once one is captured in part: the rest is released).',
    ),
    available_to_refund: Figure('captured - refunded - refunds pending.'),
    balance: Figure('captured - refunded.'),
    authorizations: Type.Array(PaymentRecordSchema, { description: 'Oldest first.' }),
    payments: Type.Array(PaymentRecordSchema, { description: 'Oldest first.' }),
    refunds: Type.Array(PaymentRecordSchema, { description: 'Oldest first.' }),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'OrderPaymentSummary' },
);

export const OrderSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('order'),
    external_id: Nullable(Type.String()),
    account_id: Nullable(Type.String()),
    currency: Type.String(),
    total: Type.Integer({ description: 'What the order is for, minor units (0 or more).' }),
    description: Nullable(Type.String()),
    metadata: Metadata,
    totals: TotalsSchema,
    payment_summaries: Type.Array(PaymentSummarySchema, {
      description: 'One per payment method used on the order, oldest first, each with its records.',
    }),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'Order' },
);

export const CreateOrderBody = Type.Object(
  {
    external_id: Type.Optional(Nullable(ExternalId)),
    account_id: Type.Optional(Nullable(Id('acc'))),
    currency: Currency,
    total: Amount('What the order is for, minor units, 0 or more.'),
    description: Type.Optional(Nullable(Description)),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const ListOrdersQuery = Type.Object(
  {
    account_id: Type.Optional(Type.String({ maxLength: 64, description: 'Only orders of this account.' })),
    external_id: Type.Optional(
      Type.String({ maxLength: 200, description: 'Only the order with this external_id (at most one).' }),
    ),
    ...ListQuery,
  },
  { additionalProperties: false },
);
