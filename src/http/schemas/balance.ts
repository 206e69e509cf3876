// GET /v1/balances (M5): per gateway and settlement currency, the gateway's balance, the ledger's own figure, the
// difference and the unlinked balance transactions that explain it (app/balances.ts).
import { Type } from 'typebox';

const Minor = (description: string) => Type.Integer({ description });

export const UnlinkedItemSchema = Type.Object(
  {
    balance_transaction: Type.String({ description: "The gateway's balance transaction id (Stripe: txn_...)." }),
    type: Type.String({ description: "The gateway's type, e.g. stripe_fee, topup, charge." }),
    reporting_category: Type.String({ description: 'e.g. fee, topup, charge, refund, dispute.' }),
    source: Type.Union([Type.String(), Type.Null()]),
    amount: Minor('Gross, in minor units of `currency`.'),
    fee: Minor('Fee, in minor units of `currency`.'),
    net: Minor('amount - fee, in minor units of `currency`.'),
    currency: Type.String(),
    status: Type.String({ description: 'available or pending.' }),
    created: Type.String(),
    explains: Type.Boolean({
      description:
        'True for kinds Settle does not record (Stripe fees, top-ups, reserves...): they explain their part of the difference. False for a charge, refund, dispute, transfer or payout missing from the ledger.',
    }),
  },
  { $id: 'BalanceUnlinkedItem' },
);

export const BalanceEntrySchema = Type.Object(
  {
    gateway_id: Type.String(),
    currency: Type.String({ description: 'The settlement currency (upper case).' }),
    available: Minor("The gateway's available balance."),
    pending: Minor("The gateway's pending balance."),
    ledger: Type.Object({
      available: Minor('The net of the balance transactions Settle has linked that are available, less payouts.'),
      pending: Minor('The net of the balance transactions Settle has linked that are still pending.'),
    }),
    difference: Minor('(available + pending) - (ledger.available + ledger.pending).'),
    explained: Minor('The net of the unlinked items that explain (explains = true).'),
    unexplained: Minor('difference - explained.'),
    flagged: Type.Boolean({ description: 'unexplained is not 0.' }),
    unlinked_items: Type.Array(UnlinkedItemSchema),
  },
  { $id: 'BalanceEntry' },
);

export const BalanceListSchema = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(BalanceEntrySchema),
  errors: Type.Array(Type.Object({ gateway_id: Type.String(), code: Type.String(), message: Type.String() }), {
    description: 'Gateways whose balance could not be read now (the others are listed).',
  }),
});
