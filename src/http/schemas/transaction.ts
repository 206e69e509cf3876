import { Type } from 'typebox';
import { TRANSACTION_SORTS, TRANSACTION_VIEWS } from '../../app/transactions/list-transactions.js';
import { SUB_TYPES } from '../../app/transactions/rules.js';
import { PAYMENT_STATUSES, TRANSACTION_STATUSES } from '../../domain/transaction-state.js';
import { Amount, Currency, DateOnly, Id, ListQuery, Metadata, MetadataUpdate, Nullable } from './common.js';

const RECORD_TYPES = ['charge', 'payout', 'transfer', 'adjustment'];
const TRANSACTION_TYPES = ['normal', 'refund', 'reversal', 'write_off'];
const Enum = (values: readonly string[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

export const TransactionSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('transaction'),
    record_type: Type.String(),
    transaction_type: Type.String(),
    status: Type.String(),
    payment_status: Nullable(Type.String()),
    amount: Type.Integer(),
    currency: Type.String(),
    authorized_amount: Type.Integer(),
    captured_amount: Type.Integer(),
    refunded_amount: Type.Integer(),
    disputed_amount: Type.Integer({
      description:
        'What disputes have withdrawn and not reinstated; retained_amount = captured - refunded - disputed (for a sent transfer: amount - reversed).',
    }),
    retained_amount: Type.Integer(),
    non_gateway: Type.Boolean(),
    sub_type: Nullable(Type.String()),
    auto_process: Type.Boolean(),
    authorize: Type.Boolean(),
    capture: Type.Boolean(),
    refund: Type.Boolean(),
    due_date: Nullable(Type.String()),
    date_to_process: Nullable(Type.String()),
    payment_method_id: Nullable(Type.String()),
    dont_auto_update_payment_method: Type.Boolean(),
    account_id: Nullable(Type.String()),
    contact_id: Nullable(Type.String()),
    gateway_id: Nullable(Type.String()),
    original_transaction_id: Nullable(Type.String()),
    reattempt_of_id: Nullable(Type.String()),
    reattempt_number: Type.Integer(),
    uncaptured_method: Nullable(Type.String()),
    source: Type.String(),
    processing_mode: Type.String(),
    gateway_ref: Type.Object({
      payment_intent: Nullable(Type.String()),
      charge: Nullable(Type.String()),
      balance_transaction: Nullable(Type.String()),
      refund: Nullable(Type.String()),
      payout: Nullable(Type.String()),
      transfer: Nullable(Type.String({ description: "Connect: a transfer's id at the gateway (tr_...)." })),
    }),
    payout_id: Nullable(
      Type.String({ description: 'The payout transaction whose payout settled this one (payout reconciliation).' }),
    ),
    connected_account_id: Nullable(
      Type.String({
        description:
          'Connect (M6): the connected account (cac_...) a transfer goes to, or a payout or direct charge is on.',
      }),
    ),
    transfer_group: Nullable(Type.String({ description: "Connect: Stripe's transfer_group of a transfer." })),
    parent_id: Nullable(
      Type.String({ description: 'The parent (par_...) the transaction belongs to; its totals count it.' }),
    ),
    invoice_id: Nullable(
      Type.String({
        description:
          'The invoice (inv_...) the transaction was created for (allocated to it in full), or a refund was allocated to.',
      }),
    ),
    schedule_id: Nullable(
      Type.String({ description: 'The payment schedule (sch_...) that generated the transaction, or its reattempt.' }),
    ),
    order_id: Nullable(
      Type.String({
        description:
          "The order (ord_...) the transaction pays; its totals and payment summaries count it. A refund or dispute takes its charge's.",
      }),
    ),
    source_transaction_id: Nullable(
      Type.String({ description: 'Connect: the charge (trx_...) a transfer is funded from.' }),
    ),
    authorization_expires_at: Nullable(Type.String()),
    gateway_fee: Nullable(Type.Integer()),
    application_fee: Nullable(Type.Integer()),
    net_amount: Nullable(Type.Integer()),
    settlement_currency: Nullable(Type.String()),
    settlement_amount: Nullable(Type.Integer()),
    refunded_gateway_fee: Type.Integer(),
    net_gateway_fee: Nullable(Type.Integer()),
    refunded_application_fee: Type.Integer(),
    net_application_fee: Nullable(Type.Integer()),
    retained_net_amount: Nullable(Type.Integer()),
    exchange_rate: Nullable(Type.String()),
    balance_status: Nullable(Type.String()),
    available_on: Nullable(Type.String()),
    error_code: Nullable(Type.String()),
    decline_code: Nullable(Type.String()),
    error_message: Nullable(Type.String()),
    error_type: Nullable(Type.String()),
    advice_code: Nullable(
      Type.String({
        description:
          "The gateway's advice on a decline (Stripe's advice_code: try_again_later, do_not_try_again, confirm_card_data).",
      }),
    ),
    network_status: Nullable(
      Type.String({
        description:
          "The charge's outcome at the card network (Stripe's outcome.network_status: approved_by_network, declined_by_network, not_sent_to_network, reversed_after_approval); null until the gateway reported one.",
      }),
    ),
    risk_level: Nullable(
      Type.String({
        description:
          "The gateway's risk evaluation of the charge (Stripe's outcome.risk_level: normal, elevated, highest, not_assessed, unknown).",
      }),
    ),
    to_fix: Nullable(Type.String()),
    invalid_payment_method: Type.Boolean(),
    description: Nullable(Type.String()),
    metadata: Metadata,
    created_at: Type.String(),
    updated_at: Type.String(),
    processed_at: Nullable(Type.String()),
  },
  { $id: 'Transaction' },
);

const editable = {
  amount: Amount(),
  currency: Currency,
  sub_type: Nullable(Enum(SUB_TYPES, 'How money moved outside the gateway (non-gateway only).')),
  auto_process: Type.Boolean(),
  authorize: Type.Boolean({ description: 'Auto-processing authorizes instead of capturing (P11).' }),
  capture: Type.Boolean(),
  refund: Type.Boolean(),
  due_date: Nullable(DateOnly('Due date, YYYY-MM-DD.')),
  date_to_process: Nullable(DateOnly('When to process, YYYY-MM-DD; wins over due_date.')),
  payment_method_id: Nullable(Id('pmt')),
  dont_auto_update_payment_method: Type.Boolean(),
  account_id: Nullable(Id('acc')),
  contact_id: Nullable(Id('con')),
  parent_id: Nullable(Id('par')),
  description: Nullable(Type.String({ maxLength: 1000 })),
};

export const CreateTransactionBody = Type.Object(
  {
    ...Object.fromEntries(Object.entries(editable).map(([k, v]) => [k, Type.Optional(v)])),
    amount: Amount(),
    currency: Currency,
    record_type: Type.Optional(Enum(RECORD_TYPES)),
    transaction_type: Type.Optional(Enum(TRANSACTION_TYPES)),
    status: Type.Optional(Enum(['open', 'on_hold', 'completed'])),
    non_gateway: Type.Optional(Type.Boolean()),
    original_transaction_id: Type.Optional(Nullable(Id('trx'))),
    invoice_id: Type.Optional(
      Nullable(
        Type.String({
          pattern: '^inv_[0-9a-z]{1,64}$',
          description:
            "The invoice the transaction pays (or writes off): it is allocated to it in full, in the invoice's currency. Later changes go through /v1/allocations.",
        }),
      ),
    ),
    order_id: Type.Optional(
      Nullable(
        Type.String({
          minLength: 1,
          maxLength: 64,
          description:
            "The order (ord_...) the transaction pays, in the order's currency (400 unknown_order, currency_mismatch). Not changed by PATCH.",
        }),
      ),
    ),
    // Connect (M6): a transfer's fields (record_type transfer only).
    connected_account_id: Type.Optional(Nullable(Id('cac'))),
    transfer_group: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    source_transaction_id: Type.Optional(Nullable(Id('trx'))),
    // Connect (M6): a direct charge's application fee (with connected_account_id; app/connect/direct-charges.ts).
    application_fee_amount: Type.Optional(
      Nullable(
        Type.Integer({
          minimum: 0,
          maximum: Number.MAX_SAFE_INTEGER,
          description: "Direct charges: the platform's application fee in minor units, 0 to amount.",
        }),
      ),
    ),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const UpdateTransactionBody = Type.Object(
  {
    ...Object.fromEntries(Object.entries(editable).map(([k, v]) => [k, Type.Optional(v)])),
    status: Type.Optional(Enum(TRANSACTION_STATUSES, 'By hand only open <-> on_hold and open -> canceled.')),
    metadata: Type.Optional(MetadataUpdate),
  },
  { additionalProperties: false },
);

export const ListTransactionsQuery = Type.Object(
  {
    record_type: Type.Optional(Enum(RECORD_TYPES)),
    status: Type.Optional(Enum(TRANSACTION_STATUSES)),
    payment_status: Type.Optional(Enum(PAYMENT_STATUSES)),
    transaction_type: Type.Optional(Enum(TRANSACTION_TYPES)),
    payment_method_id: Type.Optional(Type.String({ maxLength: 64 })),
    account_id: Type.Optional(Type.String({ maxLength: 64 })),
    contact_id: Type.Optional(Type.String({ maxLength: 64 })),
    parent_id: Type.Optional(Type.String({ maxLength: 64 })),
    invoice_id: Type.Optional(Type.String({ maxLength: 64 })),
    schedule_id: Type.Optional(Type.String({ maxLength: 64 })),
    order_id: Type.Optional(Type.String({ maxLength: 64 })),
    original_transaction_id: Type.Optional(Type.String({ maxLength: 64 })),
    reattempt_of_id: Type.Optional(
      Type.String({ maxLength: 64, description: 'The reattempt of this failed transaction (at most one).' }),
    ),
    due_before: Type.Optional(DateOnly('Due strictly before this date.')),
    due_after: Type.Optional(DateOnly('Due strictly after this date.')),
    view: Type.Optional(Enum(TRANSACTION_VIEWS, 'A predefined list view.')),
    sort: Type.Optional(
      Enum(
        TRANSACTION_SORTS,
        "The order: created (by id), amount or due_date; a leading '-' is descending (default -created). Ties by id in the same direction; no due date sorts last both ways.",
      ),
    ),
    ...ListQuery,
  },
  { additionalProperties: false },
);

export const HistoryEntrySchema = Type.Object({
  id: Type.Integer(),
  object: Type.Literal('transaction_history'),
  transaction_id: Type.String(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  changes: Type.Record(Type.String(), Type.Array(Type.Unknown(), { minItems: 2, maxItems: 2 })),
});
