// Migration 0021: indexes for the first page of the transaction lists (issue 19, GET /v1/transactions: newest first,
// `ORDER BY id DESC LIMIT 21`, store/transaction-listings.ts). Frozen once released.
//
// A first page is fast when an index gives the list's rows in id order, so the scan stops after 21 of them. The
// filters by parent, invoice, schedule, payout and connected account have one ((parent_id, id), ... since 0013, 0015
// and 0020); the views on a status read transactions_status_id (status, id), and due_today transactions_open_due
// (due, id). The filters by account and contact had (account_id) and (contact_id) only: PostgreSQL then either read
// all of the account's transactions and sorted them, or walked the primary key backwards until 21 of them came by.
// The second is what it chose for an account holding 2.5% of 1,000,000 transactions, and when that account's
// transactions were all old (a customer who left), the walk passed 523,541 newer rows: 469 ms for one page (the
// list-views benchmark, `an account with only old transactions`). (account_id, id) gives the page in 0.05 ms.
// They replace the old indexes, so every write still maintains as many indexes as before (each entry is an id
// wider).
//
// No partial index is added for the other views (refunds, failed, authorized_uncaptured, scheduled_reattempts,
// overdue, scheduled, to_fix): on the benchmark's ledger each is answered by walking transactions_status_id or the
// primary key newest first and filtering (at most 4,907 rows passed, for overdue, 1.5 ms), since their rows are
// recent or common; a partial index would cost every write that matches or changes its predicate (a refund's
// payment_status would no longer be a HOT update).
//
// The payment schedules' list (GET /v1/payment-schedules, newest first) filtered by parent or invoice gets the same
// (parent_id, id) and (invoice_id, id) shape.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    DROP INDEX transactions_account;
    CREATE INDEX transactions_account ON transactions (account_id, id) WHERE account_id IS NOT NULL;
    DROP INDEX transactions_contact;
    CREATE INDEX transactions_contact ON transactions (contact_id, id) WHERE contact_id IS NOT NULL;
    CREATE INDEX payment_schedules_parent ON payment_schedules (parent_id, id) WHERE parent_id IS NOT NULL;
    CREATE INDEX payment_schedules_invoice ON payment_schedules (invoice_id, id) WHERE invoice_id IS NOT NULL;
  `,
  );
}
