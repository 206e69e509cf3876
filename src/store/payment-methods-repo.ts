// Payment methods (R5, W3): the writes the gateway's events make to Settle's copy of a saved method.
import type { Kysely } from 'kysely';
import type { Database, PaymentMethodRow } from './schema.js';

type Db = Kysely<Database>;

/** Every payment method saved with the gateway token, locked for the rest of the database transaction. */
export function lockPaymentMethodsByToken(trx: Db, gatewayToken: string): Promise<PaymentMethodRow[]> {
  return trx.selectFrom('payment_methods').selectAll().where('gateway_token', '=', gatewayToken).forUpdate().execute();
}

/** The card details as the gateway now shows them, compare-and-set on `version`; false when the row moved on. */
export async function updateCardDetails(
  trx: Db,
  row: PaymentMethodRow,
  details: Pick<PaymentMethodRow, 'brand' | 'last4' | 'exp_month' | 'exp_year'>,
  now: Date,
): Promise<boolean> {
  const result = await trx
    .updateTable('payment_methods')
    .set({ ...details, version: row.version + 1, updated_at: now })
    .where('id', '=', row.id)
    .where('version', '=', row.version)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
