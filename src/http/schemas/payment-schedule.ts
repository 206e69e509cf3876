// /v1/payment-schedules (X6): request bodies, the list query and the object returned.
import { Type } from 'typebox';
import { Amount, Currency, DateOnly, Id, INT4_MAX, ListQuery, Metadata, MetadataUpdate, Nullable } from './common.js';

const Interval = Type.Union(
  ['week', 'month', 'quarter', 'year'].map((i) => Type.Literal(i)),
  { description: 'week (7 days), month, quarter (3 months) or year (12 months).' },
);
const Status = Type.Union(
  ['active', 'paused', 'completed', 'canceled'].map((s) => Type.Literal(s)),
  { description: 'active, paused, completed (every occurrence generated) or canceled.' },
);
const EndDate = DateOnly(
  'The last date an occurrence may fall on (inclusive). At most one of end_date and occurrences; neither: no end.',
);
const Occurrences = Type.Integer({
  minimum: 1,
  maximum: INT4_MAX,
  description: 'How many occurrences in all (1 to 100000). At most one of end_date and occurrences.',
});
const Description = Type.String({ maxLength: 1000, description: 'Copied onto each generated transaction.' });
const PaymentMethod = Id('pmt');

export const PaymentScheduleSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('payment_schedule'),
    amount: Type.Integer(),
    currency: Type.String(),
    payment_method_id: Nullable(Type.String()),
    account_id: Nullable(Type.String()),
    contact_id: Nullable(Type.String()),
    parent_id: Nullable(Type.String()),
    invoice_id: Nullable(Type.String()),
    interval: Type.String(),
    interval_count: Type.Integer(),
    start_date: Type.String(),
    end_date: Nullable(Type.String()),
    occurrences: Nullable(Type.Integer()),
    generated_count: Type.Integer({ description: 'How many occurrences have been generated as transactions.' }),
    status: Type.String(),
    next_date: Nullable(
      Type.String({
        description:
          'The date of the next occurrence not generated yet; null when every occurrence is generated or the schedule is canceled.',
      }),
    ),
    description: Nullable(Type.String()),
    metadata: Metadata,
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'PaymentSchedule' },
);

export const CreatePaymentScheduleBody = Type.Object(
  {
    amount: Amount('Each occurrence, positive, in minor units.'),
    currency: Currency,
    payment_method_id: PaymentMethod,
    parent_id: Type.Optional(Nullable(Id('par'))),
    invoice_id: Type.Optional(Nullable(Id('inv'))),
    account_id: Type.Optional(Nullable(Id('acc'))),
    contact_id: Type.Optional(Nullable(Id('con'))),
    interval: Interval,
    interval_count: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 366, description: 'Intervals between occurrences, 1 to 366 (default 1).' }),
    ),
    start_date: DateOnly('The first occurrence, today or later (today in the timezone setting).'),
    end_date: Type.Optional(Nullable(EndDate)),
    occurrences: Type.Optional(Nullable(Occurrences)),
    description: Type.Optional(Nullable(Description)),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const UpdatePaymentScheduleBody = Type.Object(
  {
    amount: Type.Optional(Amount('Each occurrence from now on: also the open and on-hold ones no job has picked yet.')),
    payment_method_id: Type.Optional(PaymentMethod),
    end_date: Type.Optional(Nullable(EndDate)),
    occurrences: Type.Optional(Nullable(Occurrences)),
    description: Type.Optional(Nullable(Description)),
    metadata: Type.Optional(MetadataUpdate),
  },
  { additionalProperties: false },
);

export const ListPaymentSchedulesQuery = Type.Object(
  {
    status: Type.Optional(Status),
    parent_id: Type.Optional(Id('par')),
    invoice_id: Type.Optional(Id('inv')),
    ...ListQuery,
  },
  { additionalProperties: false },
);
