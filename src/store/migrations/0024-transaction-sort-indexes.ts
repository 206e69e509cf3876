// Migration 0024: indexes for the sorted transaction lists (GET /v1/transactions `sort`, store/transaction-listings.ts).
// Frozen once released.
//
// A page sorted by amount or due date is `ORDER BY amount, id` (or `due_date, id`), either direction, `LIMIT 21`,
// the next page starting after the last row's (key, id) by a row comparison. Without an index in that order
// PostgreSQL reads every matching row and sorts them: the whole ledger for an unfiltered list (1,000,000 rows in the
// list-views benchmark). With (amount, id) and (due_date, id) it walks the index from the cursor, forwards or
// backwards, and stops after 21 rows. The rows without a due date are read by a second query (`due_date IS NULL`, in
// id order), from the same index: they come last in both directions, which a backward scan alone would not give.
//
// The views and filters keep their own indexes (0001, 0013, 0015, 0020, 0021); a sorted view is answered by those or
// by these, as the planner judges. An insert now maintains two more indexes, and an update of a transaction's amount
// or due date is no longer a HOT update; the usual updates (status, payment status, gateway fields) are unaffected.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE INDEX transactions_amount_id ON transactions (amount, id);
    CREATE INDEX transactions_due_date_id ON transactions (due_date, id);
  `,
  );
}
