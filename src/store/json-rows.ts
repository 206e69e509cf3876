// Inserts whose rows travel as one JSON parameter (jsonb_populate_record / jsonb_populate_recordset). They
// stay one statement whose text does not change with the rows or their number, so it runs as a named prepared
// statement on PostgreSQL (the hot paths: an action's attempt, a call's gateway log rows, a batch of webhook
// events). These inserts used to take every column of jsonb_populate_record(...) unnamed, so a field renamed
// on one side became a silent NULL; here the column list is explicit and typed against the `Database` interface:
// - `everyColumn<'table'>()([...])` must name each column of the table's type exactly (a column missing from
//   the list, or one the table lacks, is a compile error);
// - `rowsJson` sends exactly those columns and refuses a row without a value for one (never a NULL by omission);
// - `selectFromJson` reads those columns, by name, from the JSON, for `insertInto(table).columns(list)`.
import { type RawBuilder, sql } from 'kysely';
import type { Database } from './schema.js';

export type TableName = keyof Database & string;
export type ColumnOf<T extends TableName> = keyof Database[T] & string;

type Unlisted<T extends TableName, C extends readonly string[]> = Exclude<ColumnOf<T>, C[number]>;

/** A list of every column of table `T`, checked by the compiler: `everyColumn<'gateway_attempts'>()(['id', ...])`. */
export function everyColumn<T extends TableName>() {
  return <const C extends readonly ColumnOf<T>[]>(
    columns: C &
      ([Unlisted<T, C>] extends [never]
        ? unknown
        : { error: 'columns of the table are missing from the list'; missing: Unlisted<T, C> }),
  ): C => columns;
}

/** The row with exactly `columns`; a row without a value for a column is an error (never a NULL by omission). */
export function pickColumns<C extends string>(
  columns: readonly C[],
  row: { readonly [K in C]: unknown },
): Record<C, unknown> {
  const out = {} as Record<C, unknown>;
  for (const column of columns) {
    const value = row[column];
    if (value === undefined) throw new Error(`a row for ${columns.join(', ')} has no value for ${column}`);
    out[column] = value;
  }
  return out;
}

/** Rows as a JSON array with exactly `columns` (dates as ISO text). */
export function rowsJson<C extends string>(
  columns: readonly C[],
  rows: readonly { readonly [K in C]: unknown }[],
): string {
  return JSON.stringify(rows.map((row) => pickColumns(columns, row)));
}

export interface JsonSelectOptions {
  /** Only when the common table expression of that name has a row (a write that applies with a compare-and-set). */
  gate?: string;
  /** The rows in this order (the table's own columns), e.g. to take row locks in a fixed order. */
  orderBy?: readonly string[];
}

/**
 * `select <columns> from jsonb_populate_recordset(null::<table>, <json>::jsonb)`: the listed columns of each row of
 * `json` (a JSON array, text), typed as the table's columns, for an `insertInto(table).columns(columns)`.
 */
export function selectFromJson<T extends TableName>(
  table: T,
  columns: readonly ColumnOf<T>[],
  json: string,
  options: JsonSelectOptions = {},
): RawBuilder<unknown> {
  const list = sql.join(columns.map((column) => sql.ref(column)));
  const gate = options.gate === undefined ? sql`` : sql` where exists (select 1 from ${sql.table(options.gate)})`;
  const order =
    options.orderBy === undefined
      ? sql``
      : sql` order by ${sql.join(options.orderBy.map((column) => sql.ref(column)))}`;
  return sql`select ${list} from jsonb_populate_recordset(null::${sql.table(table)}, ${json}::jsonb)${gate}${order}`;
}
