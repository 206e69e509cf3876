// Payouts and their reconciliation (M2): the shapes of GET /v1/payouts, /v1/payouts/{id}/items and the reconcile run.
import { Type } from 'typebox';
import { ListQuery, Nullable } from './common.js';

const RECONCILIATION =
  'pending (Stripe, or Settle, has not reconciled it yet), reconciled, mismatch (see mismatch_reason) or not_applicable (a manual or instant payout: Stripe cannot list what it paid out).';

export const PayoutSchema = Type.Object(
  {
    id: Type.String({ description: 'The payout transaction (trx_...).' }),
    object: Type.Literal('payout'),
    gateway_id: Nullable(Type.String()),
    gateway_payout: Nullable(Type.String({ description: "The gateway's payout id (Stripe: po_...)." })),
    amount: Type.Integer({ description: 'Paid out, in minor units of `currency`.' }),
    currency: Type.String(),
    status: Type.String({ description: 'in_transit, paid, failed or canceled.' }),
    arrival_date: Nullable(Type.String({ description: 'When the funds are expected at the bank (YYYY-MM-DD).' })),
    automatic: Nullable(Type.Boolean()),
    method: Nullable(Type.String({ description: 'standard or instant.' })),
    reconciliation_status: Type.String({ description: RECONCILIATION }),
    gateway_reconciliation_status: Nullable(
      Type.String({ description: "Stripe's own: in_progress, completed or not_applicable." }),
    ),
    items_count: Type.Integer({ description: 'Balance transactions the payout settled (its own left out).' }),
    items_total: Type.Integer({ description: "The sum of the items' `net`: equals `amount` when reconciled." }),
    unmatched_count: Type.Integer({ description: 'Items linked to no Settle transaction (any kind).' }),
    missing_count: Type.Integer({
      description: 'Transactions whose payout_id names this payout but that it no longer lists.',
    }),
    mismatch_reason: Nullable(Type.String()),
    reconciled_at: Nullable(Type.String({ description: 'When the reconciliation status last changed.' })),
    failure_code: Nullable(Type.String()),
    failure_message: Nullable(Type.String()),
    payout_id: Nullable(Type.String({ description: 'A failed payout: the later payout that returned its funds.' })),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'Payout' },
);

export const PayoutItemSchema = Type.Object(
  {
    id: Type.String({ description: 'rcn_...' }),
    object: Type.Literal('payout_item'),
    payout_id: Type.String(),
    gateway_balance_transaction: Type.String({ description: "The gateway's balance transaction (Stripe: txn_...)." }),
    type: Type.String({ description: "Stripe's balance transaction type (charge, refund, adjustment, ...)." }),
    reporting_category: Type.String(),
    source: Nullable(Type.String()),
    amount: Type.Integer(),
    fee: Type.Integer(),
    net: Type.Integer(),
    currency: Type.String(),
    recorded_kind: Type.Boolean({ description: 'A kind Settle records: unmatched, it makes the payout a mismatch.' }),
    transaction_id: Nullable(Type.String({ description: 'The Settle transaction the item came from.' })),
    fee_transaction_id: Nullable(Type.String({ description: 'A dispute item: the dispute-fee adjustment.' })),
    unmatched_reason: Nullable(Type.String()),
    gateway_created_at: Type.String(),
  },
  { $id: 'PayoutItem' },
);

export const ListPayoutsQuery = Type.Object({
  ...ListQuery,
  reconciliation_status: Type.Optional(Type.String({ maxLength: 32 })),
});

export const ReconcileReportSchema = Type.Object({
  payout: PayoutSchema,
  run: Type.Object({
    pages: Type.Integer({ description: 'Pages of balance transactions read.' }),
    items: Type.Integer(),
    items_written: Type.Integer({ description: 'Items inserted or changed (0 when run again with nothing new).' }),
    linked: Type.Integer({ description: 'Transactions whose payout_id this run set.' }),
    removed: Type.Integer({ description: 'Items dropped because the gateway no longer lists them.' }),
  }),
});
