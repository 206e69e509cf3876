// Transaction rows. Every write that changes a row is compare-and-set on `version` and writes a history row
// with what changed, old -> new (store/history.ts, the only writer of history), in the same database transaction.
import {
  type CommonTableExpressionOutput,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type QueryCreator,
  sql,
  type Transaction,
  type Updateable,
} from 'kysely';
import { jsonObjectFrom } from 'kysely/helpers/postgres';
import {
  creationChanges,
  diffChanges,
  historyFrom,
  historyStepsFrom,
  type HistoryStep,
  insertHistory,
} from './history.js';
import { everyColumn, rowsJson, selectFromJson } from './json-rows.js';
import type { Database, GatewayRow, NewTransactionRow, TransactionRow, TransactionsTable } from './schema.js';

export { creationChanges, diffChanges, type HistoryStep, listHistory } from './history.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Every column of a transaction, for an insert that sends the whole row as JSON (checked against TransactionsTable). */
const TRANSACTION_COLUMNS = everyColumn<'transactions'>()([
  'id',
  'record_type',
  'transaction_type',
  'status',
  'payment_status',
  'previous_status',
  'previous_payment_status',
  'amount',
  'currency',
  'authorized_amount',
  'captured_amount',
  'refunded_amount',
  'non_gateway',
  'sub_type',
  'auto_process',
  'authorize',
  'capture',
  'refund',
  'due_date',
  'date_to_process',
  'payment_method_id',
  'dont_auto_update_payment_method',
  'account_id',
  'contact_id',
  'gateway_id',
  'original_transaction_id',
  'reattempt_of_id',
  'reattempt_number',
  'uncaptured_method',
  'source',
  'processing_mode',
  'gateway_payment_intent',
  'gateway_charge',
  'gateway_balance_transaction',
  'gateway_refund',
  'gateway_payout',
  'disputed_amount',
  'authorization_expires_at',
  'gateway_fee',
  'application_fee',
  'net_amount',
  'exchange_rate',
  'balance_status',
  'available_on',
  'error_code',
  'decline_code',
  'error_message',
  'error_type',
  'advice_code',
  'network_status',
  'risk_level',
  'settlement_currency',
  'settlement_amount',
  'refunded_gateway_fee',
  'refunded_application_fee',
  'refunds_net_amount',
  'disputes_net_amount',
  'description',
  'metadata',
  'version',
  'created_at',
  'updated_at',
  'processed_at',
  'payout_id',
  'connected_account_id',
  'transfer_group',
  'source_transaction_id',
  'gateway_transfer',
  'sent_at',
  'parent_id',
  'invoice_id',
  'schedule_id',
  'schedule_occurrence',
  'order_id',
]);

/** Columns a write may change (never id, created_at, version, which the repository manages). */
export type TransactionChanges = Omit<Updateable<TransactionsTable>, 'id' | 'created_at' | 'version' | 'updated_at'>;

/**
 * Inserts a transaction and its 'created' history row in one statement (a data-modifying CTE), so it is
 * atomic even outside a database transaction and costs one round trip.
 */
export async function insertTransaction(
  db: Db,
  row: NewTransactionRow,
  actor: string,
  action = 'created',
): Promise<TransactionRow> {
  const changes = creationChanges(row);
  return db
    .with('inserted', (q) => q.insertInto('transactions').values(row).returningAll())
    .with('history', (q) => historyFrom(q, 'inserted', actor, action, changes))
    .selectFrom('inserted')
    .selectAll()
    .executeTakeFirstOrThrow();
}

export function findTransaction(db: Db, id: string): Promise<TransactionRow | undefined> {
  return db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Reads and locks a row for the rest of the database transaction (amount checks). */
export function lockTransaction(trx: Db, id: string): Promise<TransactionRow | undefined> {
  return trx.selectFrom('transactions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** What a gateway action needs of a transaction's payment method. */
export interface ActionPaymentMethod {
  id: string;
  gateway_token: string;
  type: 'card' | 'us_bank_account';
  status: string;
  exp_month: number | null;
  exp_year: number | null;
  account_id: string | null;
  contact_id: string | null;
  /** Saved cards (migration 0010): the gateway and Customer it is attached to, and how its SetupIntent ended. */
  gateway_id: string | null;
  gateway_customer: string | null;
  setup_status: string | null;
}

/** A transaction locked for an action, with what the action reads next to it (one statement). */
export interface LockedForAction {
  row: TransactionRow;
  paymentMethod: ActionPaymentMethod | null;
  /** The transaction's own gateway, else the default one; null when neither exists. */
  gateway: GatewayRow | null;
  /** What its refunds in flight add up to (sumRefundsInFlight), when read in the same statement (never with the lock). */
  refundsInFlight?: number;
}

const GATEWAY_TIMESTAMPS = ['created_at', 'updated_at'] as const;

/**
 * Reads a transaction with its payment method and its gateway (its own or the default) in one statement: one round
 * trip where an action used to need three. `lock` (the default) locks the row FOR UPDATE for the rest of the
 * database transaction; without it the caller relies on a compare-and-set of the version it read.
 *
 * What other rows say about this one (a charge's refunds in flight) must be read by a later statement: a statement
 * that waited for the lock still reads other rows as they were when it started (READ COMMITTED re-reads only the
 * locked row), so it would miss what the lock's previous holder committed.
 */
export async function loadForAction(
  db: Db,
  id: string,
  options: { lock: boolean; refundsInFlight?: boolean } = { lock: true },
): Promise<LockedForAction | undefined> {
  // Without the lock one snapshot serves both: the row and its refunds are read as of the same moment.
  if (options.lock && options.refundsInFlight)
    throw new Error('refunds in flight are read after the lock, by their own statement');
  const found = await db
    .selectFrom('transactions as t')
    .selectAll('t')
    .select((eb) => [
      jsonObjectFrom(
        eb
          .selectFrom('payment_methods as pm')
          .select([
            'pm.id',
            'pm.gateway_token',
            'pm.type',
            'pm.status',
            'pm.exp_month',
            'pm.exp_year',
            'pm.account_id',
            'pm.contact_id',
            'pm.gateway_id',
            'pm.gateway_customer',
            'pm.setup_status',
          ])
          .whereRef('pm.id', '=', 't.payment_method_id'),
      ).as('_payment_method'),
      jsonObjectFrom(
        eb
          .selectFrom('gateways as g')
          .selectAll('g')
          .where((w) =>
            w.or([
              w('g.id', '=', w.ref('t.gateway_id')),
              w.and([w('t.gateway_id', 'is', null), w('g.is_default', '=', true)]),
            ]),
          )
          .limit(1),
      ).as('_gateway'),
    ])
    .$if(options.refundsInFlight === true, (q) =>
      q.select((eb) => refundsInFlightTotal(eb.ref('t.id')).as('_refunds_in_flight')),
    )
    .where('t.id', '=', id)
    .$if(options.lock, (q) => q.forUpdate())
    .executeTakeFirst();
  if (!found) return undefined;
  const { _payment_method, _gateway, _refunds_in_flight, ...row } = found as typeof found & {
    _refunds_in_flight?: number | string | null;
  };
  let gateway: GatewayRow | null = null;
  if (_gateway) {
    // JSON carries timestamps as text; the row type promises Dates.
    gateway = { ..._gateway } as unknown as GatewayRow;
    for (const field of GATEWAY_TIMESTAMPS) gateway[field] = new Date(_gateway[field]);
  }
  return {
    row: row,
    paymentMethod: _payment_method ?? null,
    gateway,
    ...(options.refundsInFlight ? { refundsInFlight: 0 - Number(_refunds_in_flight ?? 0) } : {}),
  };
}

/**
 * A write that commits with a compare-and-set, in the same statement, and only when the compare-and-set
 * succeeds: its queries may read the `updated` row (`exists (select 1 from updated)` gates them). A write with a
 * `cteName` can be read by the writes after it under that name.
 */
export type AlongsideWrite = ((
  creator: QueryCreator<Database & { updated: TransactionRow }>,
) => CommonTableExpressionOutput<Database, string>) & {
  cteName?: string;
};

/** Another row that must still be at `version` for the compare-and-set to apply; it is locked by the statement. */
export interface RowGuard {
  id: string;
  version: number;
}

type WithChain = { with(name: string, cte: AlongsideWrite): WithChain };

function withAlongside<Q>(query: Q, alongside: readonly AlongsideWrite[]): Q {
  // Cast: Kysely's `with` changes the query's type per CTE; the chain is built in a loop, so its type is erased here and restored below.
  let chain = query as unknown as WithChain;
  alongside.forEach((write, index) => {
    chain = chain.with(write.cteName ?? `alongside_${index}`, write);
  });
  // Cast: the query with its CTEs added selects and returns exactly what `query` did.
  return chain as unknown as Q;
}

/**
 * Applies `changes` only if the row is still at `current.version` (and the `guard` row at its version); returns the
 * new row, or undefined when another writer got there first (the caller re-reads and decides). Nothing changed:
 * returns current (the `alongside` writes still run, when the row is at that version).
 */
export async function compareAndSetTransaction(
  trx: Db,
  current: TransactionRow,
  changes: TransactionChanges,
  actor: string,
  action: string,
  alongside: readonly AlongsideWrite[] = [],
  guard?: RowGuard,
): Promise<TransactionRow | undefined> {
  const diff = diffChanges(current, changes);
  // The guard row, locked by this statement (a lock that waited re-checks the version on the newest row).
  const guardHolds = (eb: ExpressionBuilder<Database, 'transactions'>) =>
    eb.exists(
      eb
        .selectFrom('transactions as guard')
        .select('guard.id')
        .where('guard.id', '=', guard!.id)
        .where('guard.version', '=', guard!.version)
        .forUpdate(),
    );
  if (Object.keys(diff).length === 0) {
    if (alongside.length === 0) return current;
    // Nothing of the row changes, but the writes alongside still depend on it being at this version (locked).
    const gate = trx.with('updated', (q) =>
      q
        .selectFrom('transactions')
        .selectAll()
        .where('id', '=', current.id)
        .where('version', '=', current.version)
        .$if(guard !== undefined, (w) => w.where(guardHolds))
        .forUpdate(),
    );
    return await withAlongside(gate, alongside).selectFrom('updated').selectAll().executeTakeFirst();
  }
  // One statement (a data-modifying CTE): the row, its history row and the writes alongside, or none of them when
  // the version moved on.
  const query = trx
    .with('updated', (q) =>
      q
        .updateTable('transactions')
        .set({ ...changes, version: current.version + 1, updated_at: new Date() })
        .where('id', '=', current.id)
        .where('version', '=', current.version)
        .$if(guard !== undefined, (w) => w.where(guardHolds))
        .returningAll(),
    )
    .with('history', (q) => historyFrom(q, 'updated', actor, action, diff));
  const updated = await withAlongside(query, alongside).selectFrom('updated').selectAll().executeTakeFirst();
  return updated;
}

/**
 * A second row's compare-and-set and its history row as writes alongside another row's (which must carry this
 * row as its guard, so that both apply or neither): returns the writes and the row as it will be. With nothing to
 * change, only the row's version moves on (no history row): those who decided from the row as it was must read it
 * again.
 */
export function compareAndSetAlongside(
  current: TransactionRow,
  changes: TransactionChanges,
  actor: string,
  action: string,
  now: Date,
): { writes: AlongsideWrite[]; next: TransactionRow } {
  const diff = diffChanges(current, changes);
  const next = { ...current, ...changes, version: current.version + 1, updated_at: now } as TransactionRow;
  const update: AlongsideWrite = Object.assign(
    (q: QueryCreator<Database & { updated: TransactionRow }>) =>
      q
        .updateTable('transactions')
        .set({ ...changes, version: next.version, updated_at: now })
        .where('id', '=', current.id)
        .where('version', '=', current.version)
        .where((eb) => eb.exists(eb.selectFrom('updated').select('updated.id')))
        .returning('id'),
    { cteName: 'guard_updated' },
  );
  const history: AlongsideWrite = (q) => historyFrom(q, 'guard_updated', actor, action, diff);
  return { writes: Object.keys(diff).length === 0 ? [update] : [update, history], next };
}

/**
 * Inserts a transaction whose existence changes what another row allows (a refund in flight lowers what its charge
 * can still refund), in one statement: the other row's version moves on, so that anyone who decided from it at
 * `guard.version` has to read it again; the new row (every column supplied, as `row`) and its history steps, in
 * order, are inserted; the writes alongside run (their `updated` is the guard row). Nothing is written, and
 * undefined returned, when the guard row is no longer at `guard.version`. The guard row itself gets no history row:
 * none of its fields changes.
 */
export async function insertTransactionGuarded(
  db: Db,
  row: TransactionRow,
  history: readonly HistoryStep[],
  actor: string,
  guard: TransactionRow,
  now: Date,
  alongside: readonly AlongsideWrite[] = [],
): Promise<TransactionRow | undefined> {
  const metadata = typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as unknown) : row.metadata;
  const json = rowsJson(TRANSACTION_COLUMNS, [{ ...row, metadata }]);
  const query = db
    .with('updated', (q) =>
      q
        .updateTable('transactions')
        .set({ version: guard.version + 1, updated_at: now })
        .where('id', '=', guard.id)
        .where('version', '=', guard.version)
        .returningAll(),
    )
    .with('inserted', (q) =>
      q
        .insertInto('transactions')
        .columns(TRANSACTION_COLUMNS)
        .expression(selectFromJson('transactions', TRANSACTION_COLUMNS, json, { gate: 'updated' }))
        .returningAll(),
    )
    .with('history', (q) => historyStepsFrom(q, 'inserted', actor, history));
  const inserted = await withAlongside(query, alongside).selectFrom('inserted').selectAll().executeTakeFirst();
  return inserted;
}

export async function deleteTransactionRow(
  trx: Transaction<Database>,
  current: TransactionRow,
  actor: string,
): Promise<boolean> {
  const deleted = await trx
    .deleteFrom('transactions')
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .executeTakeFirst();
  if (Number(deleted.numDeletedRows) !== 1) return false;
  await insertHistory(trx, [{ transaction_id: current.id, actor, action: 'deleted', changes: {} }]);
  return true;
}

/** The normal charge of a gateway payment (by the payment's id), locked for the rest of the database transaction. */
export function lockChargeByPaymentIntent(trx: Db, paymentIntentId: string): Promise<TransactionRow | undefined> {
  return trx
    .selectFrom('transactions')
    .selectAll()
    .where('gateway_payment_intent', '=', paymentIntentId)
    .where('record_type', '=', 'charge')
    .where('transaction_type', '=', 'normal')
    .forUpdate()
    .executeTakeFirst();
}

/**
 * Locks, in id order, every transaction that records one of the gateway objects (a payment's pi_..., a payout's
 * po_...): a write that will change several of them (a sync page) takes all their locks first, in the one order every
 * such write uses, before changing any (their owners' totals are locked at commit, after them).
 */
export async function lockByGatewayRefs(
  trx: Db,
  column: 'gateway_payment_intent' | 'gateway_payout',
  refs: readonly string[],
): Promise<void> {
  const wanted = [...new Set(refs.filter((r) => r !== ''))];
  if (wanted.length === 0) return;
  await trx.selectFrom('transactions').select('id').where(column, 'in', wanted).orderBy('id').forUpdate().execute();
}

/** Whether any transaction records the gateway payment. */
export async function hasPaymentIntent(db: Db, paymentIntentId: string): Promise<boolean> {
  return (
    (await db
      .selectFrom('transactions')
      .select('id')
      .where('gateway_payment_intent', '=', paymentIntentId)
      .executeTakeFirst()) !== undefined
  );
}

/** The transaction of a gateway object (a payout's po_..., a refund's re_...), locked for the rest of the database transaction. */
export function lockTransactionByGatewayRef(
  trx: Db,
  column: 'gateway_payout' | 'gateway_refund',
  ref: string,
): Promise<TransactionRow | undefined> {
  return trx.selectFrom('transactions').selectAll().where(column, '=', ref).forUpdate().executeTakeFirst();
}

/** Whether an adjustment records the gateway balance transaction (a dispute's fee). */
export async function hasAdjustmentFor(db: Db, balanceTransactionId: string): Promise<boolean> {
  const row = await db
    .selectFrom('transactions')
    .select('id')
    .where('record_type', '=', 'adjustment')
    .where('gateway_balance_transaction', '=', balanceTransactionId)
    .executeTakeFirst();
  return row !== undefined;
}

/** The id of the transaction's reattempt (P8: at most one), if it has one. */
export async function findReattemptOf(db: Db, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('transactions').select('id').where('reattempt_of_id', '=', id).executeTakeFirst();
  return row?.id;
}

export async function hasDependents(db: Db, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('transactions')
    .select('id')
    .where((eb) => eb.or([eb('original_transaction_id', '=', id), eb('reattempt_of_id', '=', id)]))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * What refunds of a charge still in flight add up to (positive minor units): those whose gateway call is under way
 * or in doubt (`process`, `needs_review`). A pending refund is not in flight: it was applied to the charge already.
 */
export async function sumRefundsInFlight(db: Db, chargeId: string): Promise<number> {
  const row = await db
    .selectNoFrom((eb) => refundsInFlightTotal(eb.val(chargeId)).as('total'))
    .executeTakeFirstOrThrow();
  return 0 - Number(row.total); // not -x: that would be -0 for no refunds
}

/** The sum of the (negative) amounts of a charge's refunds in flight, 0 when none, as a scalar subquery. */
function refundsInFlightTotal(chargeId: Expression<string>) {
  return sql<string>`(select coalesce(sum(r.amount), 0) from transactions r where r.original_transaction_id = ${chargeId} and r.transaction_type = 'refund' and r.status in ('process', 'needs_review'))`;
}
