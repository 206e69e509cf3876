// Accounts and contacts (the use cases are app/customers.ts): inserts, compare-and-set updates on `version`, the
// customer's default payment method and its roll-down onto the customer's open transactions, and the lists.
import { type Kysely, sql, type Transaction, type Updateable } from 'kysely';
import type { AccountRow, AccountsTable, ContactRow, ContactsTable, Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export type CustomerTable = 'accounts' | 'contacts';

/** The fields a customer update may set (version and updated_at are stamped here). */
export type CustomerChanges = Omit<
  Updateable<AccountsTable> & Updateable<ContactsTable>,
  'id' | 'version' | 'created_at' | 'updated_at'
>;

export interface NewAccount {
  id: string;
  name: string;
  email: string | null;
  /** JSON text. */
  metadata: string;
  default_payment_method_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface NewContact {
  id: string;
  last_name: string;
  first_name: string | null;
  email: string | null;
  account_id: string | null;
  /** JSON text. */
  metadata: string;
  default_payment_method_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export function insertAccount(trx: Db, row: NewAccount): Promise<AccountRow> {
  return trx.insertInto('accounts').values(row).returningAll().executeTakeFirstOrThrow();
}

export function insertContact(trx: Db, row: NewContact): Promise<ContactRow> {
  return trx.insertInto('contacts').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findCustomerRow(
  db: Db,
  table: CustomerTable,
  id: string,
): Promise<AccountRow | ContactRow | undefined> {
  return db.selectFrom(table).selectAll().where('id', '=', id).executeTakeFirst();
}

/** Applies `changes` compare-and-set on the version read in `current`; undefined when the row moved on. */
export function compareAndSetCustomer(
  trx: Db,
  table: CustomerTable,
  current: AccountRow | ContactRow,
  changes: CustomerChanges,
  now: Date,
): Promise<AccountRow | ContactRow | undefined> {
  return trx
    .updateTable(table)
    .set({ ...changes, version: current.version + 1, updated_at: now })
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirst();
}

/** Records `paymentMethodId` as the customer's default; false when it already was. */
export async function setDefaultPaymentMethod(
  trx: Db,
  table: CustomerTable,
  customerId: string,
  paymentMethodId: string | null,
  now: Date,
): Promise<boolean> {
  const result = await trx
    .updateTable(table)
    .set((eb) => ({ default_payment_method_id: paymentMethodId, version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', customerId)
    .where(sql<boolean>`default_payment_method_id is distinct from ${paymentMethodId}`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Gives every open transaction of the customer that allows it the payment method, with version + 1, set-based:
 * one locking UPDATE ... RETURNING (the CTE keeps the old value). Returns the changed rows with their old payment
 * method (the caller writes their history in the same transaction).
 */
export function rollDownPaymentMethod(
  trx: Db,
  column: 'account_id' | 'contact_id',
  customerId: string,
  paymentMethodId: string,
  now: Date,
): Promise<{ id: string; old_payment_method_id: string | null }[]> {
  return trx
    .with(
      (cte) => cte('target').materialized(),
      (db) =>
        db
          .selectFrom('transactions')
          .select(['id', 'payment_method_id'])
          .where(column, '=', customerId)
          .where('status', '=', 'open')
          .where('dont_auto_update_payment_method', '=', false)
          .where(sql<boolean>`payment_method_id is distinct from ${paymentMethodId}`)
          .forUpdate(),
    )
    .updateTable('transactions')
    .from('target')
    .set({ payment_method_id: paymentMethodId, version: sql<number>`transactions.version + 1`, updated_at: now })
    .whereRef('transactions.id', '=', 'target.id')
    .returning(['transactions.id as id', 'target.payment_method_id as old_payment_method_id'])
    .execute();
}

/** A page of accounts, newest first (one more than `limit`, to tell whether more follow). */
export function listAccountRows(db: Db, query: { after?: string | undefined; limit: number }): Promise<AccountRow[]> {
  let q = db.selectFrom('accounts').selectAll();
  if (query.after !== undefined) q = q.where('id', '<', query.after);
  return q
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
}

/** A page of contacts (of one account when given), newest first (one more than `limit`). */
export function listContactRows(
  db: Db,
  query: { account_id?: string | undefined; after?: string | undefined; limit: number },
): Promise<ContactRow[]> {
  let q = db.selectFrom('contacts').selectAll();
  if (query.account_id !== undefined) q = q.where('account_id', '=', query.account_id);
  if (query.after !== undefined) q = q.where('id', '<', query.after);
  return q
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
}
