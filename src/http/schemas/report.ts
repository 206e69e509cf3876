// Reports (U5): the JSON shape of GET /v1/reports/{name}, one per report (app/reports.ts lists their columns; the CSV
// has the same columns in the same order).
import { type TSchema, Type } from 'typebox';
import { Nullable } from './common.js';

const Minor = (description: string) => Type.Integer({ description: `${description} In minor units of \`currency\`.` });

export const ReportParams = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'revenue_by_month, failed_today, due_next_7_days, to_fix or payouts.',
    }),
  },
  { additionalProperties: false },
);

const RevenueRow = Type.Object({
  month: Type.String({ description: 'YYYY-MM in the timezone setting.' }),
  currency: Type.String(),
  captured_amount: Minor('Captured by charges (gateway and non-gateway) by the month of their processed_at.'),
  refunded_amount: Minor("Refunded by completed refunds of those charges, by the month of the refund's processed_at."),
  net_amount: Minor('captured_amount - refunded_amount.'),
  count: Type.Integer({ description: 'Charges captured in the month.' }),
  refund_count: Type.Integer({ description: 'Refunds completed in the month.' }),
});

const FailedRow = Type.Object({
  id: Type.String(),
  record_type: Type.String(),
  transaction_type: Type.String(),
  amount: Minor('The transaction amount.'),
  currency: Type.String(),
  error_code: Nullable(Type.String()),
  decline_code: Nullable(Type.String()),
  error_message: Nullable(Type.String()),
  account_id: Nullable(Type.String()),
  payment_method_id: Nullable(Type.String()),
  failed_at: Type.String({ description: 'processed_at (else updated_at), ISO 8601 UTC.' }),
});

const DueRow = Type.Object({
  due_date: Type.String({ description: 'date_to_process, else due_date (YYYY-MM-DD).' }),
  currency: Type.String(),
  count: Type.Integer(),
  amount: Minor('The sum of the charges due that day.'),
});

const ToFixRow = Type.Object({
  code: Type.String({ description: 'The rule: missing_due_date, invalid_payment_method, ... (domain/to-fix.ts).' }),
  message: Type.String({ description: "The rule's message, as a transaction's to_fix shows it." }),
  count: Type.Integer({ description: 'Open transactions whose to_fix holds the message.' }),
});

const PayoutRow = Type.Object({
  id: Type.String(),
  amount: Minor('Paid out.'),
  currency: Type.String(),
  arrival_date: Nullable(Type.String()),
  status: Type.String({ description: 'in_transit, paid, failed or canceled.' }),
  reconciliation_status: Type.String(),
  items_count: Type.Integer(),
  items_total: Minor("The sum of the items' net."),
  unmatched_count: Type.Integer(),
});

const reportOf = (name: string, row: TSchema, description: string) =>
  Type.Object(
    {
      object: Type.Literal('report'),
      name: Type.Literal(name),
      timezone: Type.String({ description: 'The timezone setting the days and months are in.' }),
      date: Type.String({ description: 'Today in `timezone` when the report was made (YYYY-MM-DD).' }),
      generated_at: Type.String({ description: "Settle's clock when the report was made (ISO 8601 UTC)." }),
      data: Type.Array(row),
    },
    { description },
  );

export const ReportSchema = Type.Union(
  [
    reportOf('revenue_by_month', RevenueRow, 'Per month and currency, oldest first.'),
    reportOf('failed_today', FailedRow, 'Transactions that failed today, oldest first.'),
    reportOf(
      'due_next_7_days',
      DueRow,
      'Per due day (today .. today+6) and currency; days with nothing due are left out.',
    ),
    reportOf('to_fix', ToFixRow, 'Per to-fix message; messages with none are left out.'),
    reportOf('payouts', PayoutRow, 'The last 30 payouts, newest first.'),
  ],
  { $id: 'Report' },
);
