// Transaction history (L12): the only module that writes `transaction_history`. A history row records who
// changed a transaction (actor), how (action) and what changed ({ field: [old, new] }); it is written in the
// same statement or database transaction as the change. The shapes here cover every way Settle writes them:
// - `historyFrom`: one row per row of a common table expression (the row a compare-and-set just updated or
//   inserted), so that the history row exists exactly when the change applied;
// - `historyStepsFrom`: several steps, in order, for the row of a common table expression;
// - `insertHistory`: rows given as values (a deletion, a set-based change of many rows);
// - `historyValuesSql`: the raw multi-row statement text of the group-committed insert (transaction-inserter.ts),
//   which runs as a named prepared statement on PostgreSQL.
import { type Kysely, type QueryCreator, sql, type Transaction } from 'kysely';
import { canonicalJson } from '../domain/canonical-json.js';
import type { Database, NewTransactionRow, TransactionHistoryTable, TransactionRow } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** What a change did to a row's fields: { field: [old, new] }. */
export type HistoryChanges = Record<string, readonly [unknown, unknown]>;

/** A step of a row's history (a new row's creation, then what was done to it in the same statement). */
export interface HistoryStep {
  action: string;
  changes: Record<string, unknown>;
}

/** A history row written as values. */
export interface HistoryEntry {
  transaction_id: string;
  actor: string;
  action: string;
  changes: HistoryChanges;
}

/** The columns Settle writes (id and `at` are the table's own); a column renamed in schema.ts fails to compile. */
const HISTORY_COLUMNS = [
  'transaction_id',
  'actor',
  'action',
  'changes',
] as const satisfies readonly (keyof TransactionHistoryTable)[];

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
export function creationChanges(row: NewTransactionRow | TransactionRow): Record<string, [null, unknown]> {
  const changes: Record<string, [null, unknown]> = {};
  for (const [field, value] of Object.entries(row)) {
    if (field === 'id' || value === null || value === undefined) continue;
    changes[field] = [null, plain(value)];
  }
  return changes;
}

/** The fields that differ between the current row and the changes, as { field: [old, new] }. */
export function diffChanges(
  current: TransactionRow,
  changes: Record<string, unknown>,
): Record<string, [unknown, unknown]> {
  const diff: Record<string, [unknown, unknown]> = {};
  for (const [field, next] of Object.entries(changes)) {
    if (next === undefined) continue;
    // Cast: `changes` names the row's own fields; a row type cannot be indexed by a runtime string.
    const before = (current as unknown as Record<string, unknown>)[field];
    if (comparable(before) !== comparable(next)) {
      diff[field] = [plain(before), plain(next)];
    }
  }
  return diff;
}

/** A query creator that can read the common table expression `source` (a row with an `id`). */
type WithSource = QueryCreator<Database & { history_source: { id: string } }>;

/**
 * Writes a history row for each row of the common table expression `source` (e.g. `updated`, `inserted`): none
 * when the change it records did not apply. Use inside a `with(...)` of the statement that made the change.
 */
export function historyFrom<DB extends Database>(
  creator: QueryCreator<DB>,
  source: string,
  actor: string,
  action: string,
  changes: HistoryChanges,
) {
  // The name is only known at run time; the query reads `<source>.id` as Kysely would for a declared table.
  const q = creator as unknown as WithSource;
  return q
    .insertInto('transaction_history')
    .columns(HISTORY_COLUMNS)
    .expression((eb) =>
      eb
        .selectFrom(source as 'history_source')
        .select((s) => [
          `${source}.id` as 'history_source.id',
          s.val(actor).as('actor'),
          s.val(action).as('action'),
          s.cast(s.val(JSON.stringify(changes)), 'jsonb').as('changes'),
        ]),
    );
}

/** Writes the steps, in order, for the row of the common table expression `source` (none when it has no row). */
export function historyStepsFrom<DB extends Database>(
  creator: QueryCreator<DB>,
  source: string,
  actor: string,
  steps: readonly HistoryStep[],
) {
  // Cast: callers pass a creator over Database extended with their common table expressions; history only needs Database.
  return (creator as unknown as QueryCreator<Database>)
    .insertInto('transaction_history')
    .columns(HISTORY_COLUMNS)
    .expression(
      sql`select ${sql.ref(`${source}.id`)}, ${actor}, step.value->>'action', step.value->'changes' from ${sql.table(source)} cross join jsonb_array_elements(${JSON.stringify(steps)}::jsonb) with ordinality as step(value, ord) order by step.ord`,
    );
}

/** Writes history rows given as values (one statement for any number of rows). */
export async function insertHistory(db: Db, entries: readonly HistoryEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('transaction_history')
    .values(entries.map((entry) => ({ ...entry, changes: JSON.stringify(entry.changes) })))
    .execute();
}

/**
 * The raw text of a multi-row history insert whose parameters start at `$<first>` (four per row: transaction id,
 * actor, action, changes as JSON text), and the parameters of an entry in that order.
 */
export function historyValuesSql(rows: number, first: number): string {
  let n = first - 1;
  const tuple = () => `($${++n}, $${++n}, $${++n}, $${++n}::jsonb)`;
  return `INSERT INTO transaction_history (${HISTORY_COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, tuple).join(', ')}`;
}

export function historyParams(entry: HistoryEntry): unknown[] {
  return [entry.transaction_id, entry.actor, entry.action, JSON.stringify(entry.changes)];
}

/** A transaction's history, oldest first, a page of `limit` (one more is read, to tell whether more follow). */
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
