// A read-only database transaction at REPEATABLE READ: every statement in it sees the one snapshot taken at its first
// statement, so a reader that compares several tables (the auditor's totals check) cannot see a write that commits
// meanwhile in one table and not in another. Set by SET TRANSACTION, the transaction's first statement, because
// Kysely's PGlite driver ignores the isolation level and access mode given to its transaction builder.
import { sql } from 'kysely';
import type { Db, Tx } from './schema.js';

export function inReadOnlySnapshot<T>(db: Db, work: (trx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`set transaction isolation level repeatable read, read only`.execute(trx);
    return work(trx);
  });
}
