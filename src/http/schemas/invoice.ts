// Invoices (R3): the shapes of /v1/invoices and its actions (pay, write-off, void, transactions).
import { Type } from 'typebox';
import { INVOICE_PAYMENT_STATUSES, INVOICE_STATUSES } from '../../app/invoices.js';
import { Amount, Currency, DateOnly, Id, ListQuery, Metadata, MetadataUpdate, Nullable } from './common.js';
import { TotalsSchema } from './totals.js';
import { TransactionSchema } from './transaction.js';

const Enum = (values: readonly string[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

export const InvoiceSchema = Type.Object(
  {
    id: Type.String({ description: 'inv_...' }),
    object: Type.Literal('invoice'),
    number: Type.String({ description: 'Unique among invoices.' }),
    account_id: Nullable(Type.String()),
    contact_id: Nullable(Type.String()),
    currency: Type.String(),
    total: Type.Integer({ description: 'What the invoice asks for, minor units (0 or more).' }),
    issued_on: Nullable(Type.String()),
    due_date: Nullable(Type.String()),
    timezone: Nullable(Type.String({ description: 'The IANA zone in which due_date is a day.' })),
    status: Type.String({ description: 'draft, open or void.' }),
    past_due: Type.Boolean({
      description:
        'Open, with a due date before today in its time zone (set on write and by the invoices_past_due job).',
    }),
    balance_paid: Type.Integer({
      description:
        'Allocated captured payments (gateway and non-gateway) less allocated refunds; write-offs are not in it.',
    }),
    write_off_amount: Type.Integer({ description: 'Allocated write-offs less their reversals.' }),
    balance_due: Type.Integer({ description: 'total - balance_paid - write_off_amount.' }),
    payment_status: Type.String({
      description:
        'First match: overpaid (balance_due < 0), paid (= 0 and total > 0), refunded (refunds allocated and balance_paid = 0), partially_refunded (refunds allocated), past_due, partially_paid (balance_paid > 0), unpaid.',
    }),
    allocations_count: Type.Integer(),
    description: Nullable(Type.String()),
    metadata: Metadata,
    created_at: Type.String(),
    updated_at: Type.String(),
    totals: TotalsSchema,
  },
  { $id: 'Invoice' },
);

const editable = {
  total: Amount('What the invoice asks for, minor units, 0 or more.'),
  issued_on: Nullable(DateOnly('The day it was issued, YYYY-MM-DD.')),
  due_date: Nullable(DateOnly('Due by this day (in timezone), YYYY-MM-DD.')),
  timezone: Type.String({ maxLength: 64, description: 'IANA zone of the due date (default: the timezone setting).' }),
  status: Type.String({ maxLength: 16, description: 'draft or open (void only through POST /v1/invoices/{id}/void).' }),
  description: Nullable(Type.String({ maxLength: 1000 })),
};

export const CreateInvoiceBody = Type.Object(
  {
    ...Object.fromEntries(Object.entries(editable).map(([k, v]) => [k, Type.Optional(v)])),
    number: Type.String({ maxLength: 100, description: 'Unique (409 invoice_number_taken).' }),
    currency: Currency,
    total: editable.total,
    account_id: Type.Optional(Nullable(Id('acc'))),
    contact_id: Type.Optional(Nullable(Id('con'))),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const UpdateInvoiceBody = Type.Object(
  {
    ...Object.fromEntries(Object.entries(editable).map(([k, v]) => [k, Type.Optional(v)])),
    currency: Type.Optional(Currency),
    metadata: Type.Optional(MetadataUpdate),
  },
  { additionalProperties: false },
);

export const ListInvoicesQuery = Type.Object(
  {
    ...ListQuery,
    account_id: Type.Optional(Type.String({ maxLength: 64 })),
    status: Type.Optional(Enum(INVOICE_STATUSES)),
    payment_status: Type.Optional(Enum(INVOICE_PAYMENT_STATUSES)),
  },
  { additionalProperties: false },
);

export const PayInvoiceBody = Type.Object(
  {
    payment_method_id: Id('pmt'),
    amount: Type.Optional(
      Amount('How much to charge (default: the balance due less open or in-flight payments allocated to the invoice).'),
    ),
  },
  { additionalProperties: false },
);

export const WriteOffBody = Type.Object(
  {
    amount: Amount('How much to write off, positive and at most the balance due.'),
    reason: Type.Optional(
      Nullable(Type.String({ maxLength: 1000, description: "Kept as the write-off's description." })),
    ),
  },
  { additionalProperties: false },
);

export const InvoiceTransactionSchema = Type.Object(
  {
    ...TransactionSchema.properties,
    allocation: Type.Object({
      kind: Type.String({ description: 'payment, refund, write_off or write_off_reversal.' }),
      amount: Type.Integer({ description: "What the transaction's allocations to this invoice assign." }),
      applied_amount: Type.Integer({ description: 'What of it counts in the balances now.' }),
    }),
  },
  { $id: 'InvoiceTransaction' },
);
