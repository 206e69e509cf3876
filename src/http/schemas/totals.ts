// The `totals` list on accounts, contacts, parents and invoices (R2): one entry per currency (app/totals.ts).
import { Type } from 'typebox';
import { Nullable } from './common.js';

const figure = (description: string) => Type.Integer({ description });

export const TotalsEntrySchema = Type.Object(
  {
    currency: Type.String({ description: 'The entry currency: amounts in it, and fees and net settled in it.' }),
    open_amount: figure('Charges still open or on hold.'),
    authorized_amount: figure('Authorized and not yet captured or released.'),
    captured_amount: figure('Captured by completed charges, including payments recorded outside the gateway.'),
    refunded_amount: figure('Refunded of those charges.'),
    retained_amount: figure('Captured - refunded - disputed.'),
    non_gateway_amount: figure('The part of captured - refunded paid outside the gateway (write-offs excluded).'),
    written_off_amount: figure('Written off, less write-off reversals.'),
    gateway_fee: figure("The gateway's fees net of fees refunded, dispute fees included, in this settlement currency."),
    net_amount: figure('What the charges settled for after fees, refunds and disputes, in this settlement currency.'),
    disputed_amount: figure('Withdrawn by disputes and not reinstated.'),
    count_open: figure('Charges open or on hold.'),
    count_completed: figure('Completed charges.'),
    count_failed: figure('Failed charges.'),
    last_payment_at: Nullable(Type.String({ description: 'When the newest completed payment was processed.' })),
    next_due_date: Nullable(Type.String({ description: 'The earliest due date of an open charge.' })),
  },
  { $id: 'TotalsEntry' },
);

export const TotalsSchema = Type.Array(TotalsEntrySchema, {
  description:
    'One entry per currency, exact at every commit: each change to a transaction moves them in the same database transaction.',
});
