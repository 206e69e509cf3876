// Payment methods (R5, W3): the writes the gateway's events make to Settle's copy of a saved method, and the API's
// reads and writes (app/payment-methods.ts). A method's is_default is not a column: it is read from whether its
// account or contact names it as their default.
import type { Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Database, PaymentMethodRow, PaymentMethodsTable } from './schema.js';

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

type AnyDb = Kysely<Database> | Transaction<Database>;

/** A payment method with is_default: whether it is the default of its account or of its contact. */
export type PaymentMethodWithDefault = PaymentMethodRow & { is_default: boolean };

export type NewPaymentMethodRow = Insertable<PaymentMethodsTable>;

/** Fields an update may change (never id, created_at, version or updated_at, which the repository manages). */
export type PaymentMethodChanges = Omit<
  Updateable<PaymentMethodsTable>,
  'id' | 'created_at' | 'version' | 'updated_at'
>;

function selectWithDefault(db: AnyDb) {
  return db
    .selectFrom('payment_methods')
    .selectAll('payment_methods')
    .select((eb) =>
      eb
        .or([
          eb.exists(
            eb
              .selectFrom('accounts')
              .select('accounts.id')
              .whereRef('accounts.default_payment_method_id', '=', 'payment_methods.id'),
          ),
          eb.exists(
            eb
              .selectFrom('contacts')
              .select('contacts.id')
              .whereRef('contacts.default_payment_method_id', '=', 'payment_methods.id'),
          ),
        ])
        .$castTo<boolean>()
        .as('is_default'),
    );
}

export function findPaymentMethodWithDefault(db: AnyDb, id: string): Promise<PaymentMethodWithDefault | undefined> {
  return selectWithDefault(db).where('payment_methods.id', '=', id).executeTakeFirst();
}

export interface PaymentMethodFilters {
  account_id?: string;
  contact_id?: string;
  type?: string;
  status?: string;
  /** Ids below this one (the previous page's last). */
  idBefore?: string;
}

/** A page of payment methods, newest first: `limit` of them and one more, to tell whether more follow. */
export function listPaymentMethodsPage(
  db: AnyDb,
  filters: PaymentMethodFilters,
  limit: number,
): Promise<PaymentMethodWithDefault[]> {
  let q = selectWithDefault(db);
  for (const field of ['account_id', 'contact_id', 'type', 'status'] as const) {
    const value = filters[field];
    // Cast: each filter's value has its column's type, which Kysely cannot relate to a column named at run time.
    if (value !== undefined) q = q.where(`payment_methods.${field}`, '=', value as never);
  }
  if (filters.idBefore !== undefined) q = q.where('payment_methods.id', '<', filters.idBefore);
  return q
    .orderBy('payment_methods.id', 'desc')
    .limit(limit + 1)
    .execute();
}

export async function insertPaymentMethod(trx: AnyDb, row: NewPaymentMethodRow): Promise<void> {
  await trx.insertInto('payment_methods').values(row).execute();
}

/** Applies `changes` only if the row is still at `version`; false when another writer got there first. */
export async function compareAndSetPaymentMethod(
  trx: AnyDb,
  id: string,
  version: number,
  changes: PaymentMethodChanges,
  now: Date,
): Promise<boolean> {
  const updated = await trx
    .updateTable('payment_methods')
    .set({ ...changes, version: version + 1, updated_at: now })
    .where('id', '=', id)
    .where('version', '=', version)
    .returning('id')
    .executeTakeFirst();
  return updated !== undefined;
}

/** The method stops being the default of any account and of any contact (each row's version moves on). */
export async function clearDefaultPaymentMethod(trx: AnyDb, paymentMethodId: string, now: Date): Promise<void> {
  for (const table of ['accounts', 'contacts'] as const) {
    await trx
      .updateTable(table)
      .set((eb) => ({ default_payment_method_id: null, version: eb('version', '+', 1), updated_at: now }))
      .where('default_payment_method_id', '=', paymentMethodId)
      .execute();
  }
}

/** The payment methods a gateway SetupIntent saved (or is saving): by its id, or by Settle's id in its metadata. */
export function findPaymentMethodsBySetup(
  db: AnyDb,
  setupIntentId: string,
  reference: string | null,
): Promise<PaymentMethodRow[]> {
  return db
    .selectFrom('payment_methods')
    .selectAll()
    .where((eb) =>
      reference === null
        ? eb('setup_intent', '=', setupIntentId)
        : eb.or([eb('setup_intent', '=', setupIntentId), eb('id', '=', reference)]),
    )
    .orderBy('id')
    .execute();
}

export function findPaymentMethodRow(db: AnyDb, id: string): Promise<PaymentMethodRow | undefined> {
  return db.selectFrom('payment_methods').selectAll().where('id', '=', id).executeTakeFirst();
}
