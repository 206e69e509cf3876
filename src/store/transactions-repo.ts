// Transaction rows and their history. Every write that changes a row is compare-and-set on `version`
// (and writes a history row with what changed, old -> new, in the same database transaction).
import type { Kysely, Transaction, Updateable } from 'kysely';
import { canonicalJson } from '../domain/canonical-json.js';
import type { Database, NewTransactionRow, TransactionRow, TransactionsTable } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Columns a write may change (never id, created_at, version, which the repository manages). */
export type TransactionChanges = Omit<Updateable<TransactionsTable>, 'id' | 'created_at' | 'version' | 'updated_at'>;


function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && (value.startsWith('{') || value.startsWith('['))) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}

/** A form in which equal values compare equal (dates as ISO text, JSON with sorted keys). */
function comparable(value: unknown): unknown {
  const v = plain(value);
  return v !== null && typeof v === 'object' ? canonicalJson(v) : v;
}

/** A new row's history: every field it was created with (null fields are left out), as [null, value]. */
export function creationChanges(row: NewTransactionRow): Record<string, [null, unknown]> {
  const changes: Record<string, [null, unknown]> = {};
  for (const [field, value] of Object.entries(row)) {
    if (field === 'id' || value === null || value === undefined) continue;
    changes[field] = [null, plain(value)];
  }
  return changes;
}

/** The fields that differ between the current row and the changes, as { field: [old, new] }. */
export function diffChanges(current: TransactionRow, changes: Record<string, unknown>): Record<string, [unknown, unknown]> {
  const diff: Record<string, [unknown, unknown]> = {};
  for (const [field, next] of Object.entries(changes)) {
    if (next === undefined) continue;
    const before = (current as unknown as Record<string, unknown>)[field];
    if (comparable(before) !== comparable(next)) {
      diff[field] = [plain(before), plain(next)];
    }
  }
  return diff;
}

/**
 * Inserts a transaction and its 'created' history row in one statement (a data-modifying CTE), so it is
 * atomic even outside a database transaction and costs one round trip.
 */
export async function insertTransaction(db: Db, row: NewTransactionRow, actor: string, action = 'created'): Promise<TransactionRow> {
  const changes = creationChanges(row);
  return db
    .with('inserted', (q) => q.insertInto('transactions').values(row).returningAll())
    .with('history', (q) =>
      q
        .insertInto('transaction_history')
        .columns(['transaction_id', 'actor', 'action', 'changes'])
        .expression((eb) =>
          eb
            .selectFrom('inserted')
            .select((s) => [
              'inserted.id',
              s.val(actor).as('actor'),
              s.val(action).as('action'),
              s.cast(s.val(JSON.stringify(changes)), 'jsonb').as('changes'),
            ]),
        ),
    )
    .selectFrom('inserted')
    .selectAll()
    .executeTakeFirstOrThrow() as Promise<TransactionRow>;
}

export function findTransaction(db: Db, id: string): Promise<TransactionRow | undefined> {
  return db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Reads and locks a row for the rest of the database transaction (amount checks, habit 6). */
export function lockTransaction(trx: Transaction<Database>, id: string): Promise<TransactionRow | undefined> {
  return trx.selectFrom('transactions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * Applies `changes` only if the row is still at `current.version`; returns the new row, or undefined when
 * another writer got there first (the caller re-reads and decides). Nothing changed: returns current.
 */
export async function compareAndSetTransaction(
  trx: Transaction<Database>,
  current: TransactionRow,
  changes: TransactionChanges,
  actor: string,
  action: string,
): Promise<TransactionRow | undefined> {
  const diff = diffChanges(current, changes as Record<string, unknown>);
  if (Object.keys(diff).length === 0) return current;
  // One statement (a data-modifying CTE): the row and its history row, or neither when the version moved on.
  const updated = await trx
    .with('updated', (q) =>
      q
        .updateTable('transactions')
        .set({ ...changes, version: current.version + 1, updated_at: new Date() })
        .where('id', '=', current.id)
        .where('version', '=', current.version)
        .returningAll(),
    )
    .with('history', (q) =>
      q
        .insertInto('transaction_history')
        .columns(['transaction_id', 'actor', 'action', 'changes'])
        .expression((eb) =>
          eb
            .selectFrom('updated')
            .select((s) => ['updated.id', s.val(actor).as('actor'), s.val(action).as('action'), s.cast(s.val(JSON.stringify(diff)), 'jsonb').as('changes')]),
        ),
    )
    .selectFrom('updated')
    .selectAll()
    .executeTakeFirst();
  return updated as TransactionRow | undefined;
}

export async function deleteTransactionRow(trx: Transaction<Database>, current: TransactionRow, actor: string): Promise<boolean> {
  const deleted = await trx
    .deleteFrom('transactions')
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .executeTakeFirst();
  if (Number(deleted.numDeletedRows) !== 1) return false;
  await trx
    .insertInto('transaction_history')
    .values({ transaction_id: current.id, actor, action: 'deleted', changes: JSON.stringify({}) })
    .execute();
  return true;
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

export function listHistory(db: Db, transactionId: string, limit: number, startingAfter?: number) {
  let query = db
    .selectFrom('transaction_history')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .orderBy('id', 'asc')
    .limit(limit + 1);
  if (startingAfter !== undefined) query = query.where('id', '>', startingAfter);
  return query.execute();
}

/**
 * What refunds of a charge still in flight add up to (positive minor units): those whose gateway call is under way
 * or in doubt (`process`, `needs_review`). A pending refund is not in flight: it was applied to the charge already.
 */
export async function sumRefundsInFlight(db: Db, chargeId: string): Promise<number> {
  const row = await db
    .selectFrom('transactions')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount'), eb.lit(0)).as('total'))
    .where('original_transaction_id', '=', chargeId)
    .where('transaction_type', '=', 'refund')
    .where('status', 'in', ['process', 'needs_review'])
    .executeTakeFirstOrThrow();
  return 0 - Number(row.total); // not -x: that would be -0 for no refunds
}
