// Parents (R1; the use cases are app/parents.ts): records a user names that transactions belong to (parent_id). The
// insert, the compare-and-set update on `version`, and the list. Their totals are kept by the database (migration
// 0020) and read through totals-repo.ts.
import type { Updateable } from 'kysely';
import type { Db, ParentRow, ParentsTable, Tx } from './schema.js';

export interface NewParent {
  id: string;
  type: string;
  external_id: string | null;
  name: string | null;
  account_id: string | null;
  contact_id: string | null;
  /** JSON text. */
  metadata: string;
  created_at: Date;
  updated_at: Date;
}

/** The fields a parent update may set (version and updated_at are stamped here). */
export type ParentChanges = Omit<Updateable<ParentsTable>, 'id' | 'type' | 'version' | 'created_at' | 'updated_at'>;

export function insertParent(trx: Db | Tx, row: NewParent): Promise<ParentRow> {
  return trx.insertInto('parents').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findParentRow(db: Db | Tx, id: string): Promise<ParentRow | undefined> {
  return db.selectFrom('parents').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Applies `changes` if the row is still at the version read in `current`; undefined when it moved on. */
export function compareAndSetParent(
  trx: Db | Tx,
  current: Pick<ParentRow, 'id' | 'version'>,
  changes: ParentChanges,
  now: Date,
): Promise<ParentRow | undefined> {
  return trx
    .updateTable('parents')
    .set({ ...changes, version: current.version + 1, updated_at: now })
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirst();
}

export interface ParentListQuery {
  type?: string | undefined;
  external_id?: string | undefined;
  account_id?: string | undefined;
  after?: string | undefined;
  limit: number;
}

/**
 * A page of parents, newest first (one more than `limit`, to tell whether more follow). `type` with `external_id`
 * is the unique pair (parents_type_external_id); `account_id` has its own index (parents_account).
 */
export function listParentRows(db: Db | Tx, query: ParentListQuery): Promise<ParentRow[]> {
  let q = db.selectFrom('parents').selectAll();
  if (query.type !== undefined) q = q.where('type', '=', query.type);
  if (query.external_id !== undefined) q = q.where('external_id', '=', query.external_id);
  if (query.account_id !== undefined) q = q.where('account_id', '=', query.account_id);
  if (query.after !== undefined) q = q.where('id', '<', query.after);
  return q
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
}
