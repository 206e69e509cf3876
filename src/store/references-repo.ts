// What a write refers to, checked before it is written (app/deps.ts): an account, a contact, a payment method.
import type { Kysely, Transaction } from 'kysely';
import type { Database, PaymentMethodRow } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** What the use cases need of a payment method a transaction or customer names. */
export type PaymentMethodRefRow = Pick<
  PaymentMethodRow,
  'id' | 'type' | 'status' | 'exp_month' | 'exp_year' | 'account_id' | 'contact_id'
>;

export function findPaymentMethodRefRow(db: Db, id: string): Promise<PaymentMethodRefRow | undefined> {
  return db
    .selectFrom('payment_methods')
    .select(['id', 'type', 'status', 'exp_month', 'exp_year', 'account_id', 'contact_id'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export function findAccountId(db: Db, id: string): Promise<{ id: string } | undefined> {
  return db.selectFrom('accounts').select('id').where('id', '=', id).executeTakeFirst();
}

export function findContactRef(db: Db, id: string): Promise<{ id: string; account_id: string | null } | undefined> {
  return db.selectFrom('contacts').select(['id', 'account_id']).where('id', '=', id).executeTakeFirst();
}
