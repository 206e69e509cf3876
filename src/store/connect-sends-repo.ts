// Connect sends (M6): the reads that transfer reversals (app/connect/reversals.ts) and the recovery of sends left in
// `process` (app/connect/recover-sends.ts) need. Writes go through transactions-repo.ts (compare-and-set + history).
import { sql } from 'kysely';
import type { Db, TransactionRow } from './schema.js';

/**
 * What reversals of a transfer still in flight add up to (positive minor units): those whose gateway call is under way
 * or in doubt (`process`, `needs_review`). Completed reversals are already in the transfer's refunded_amount. Run it
 * after locking the transfer: a statement that starts after the lock sees every reversal committed before it.
 */
export async function sumReversalsInFlight(db: Db, transferId: string): Promise<number> {
  const row = await db
    .selectFrom('transactions')
    .select(sql<string>`coalesce(sum(amount), 0)`.as('total'))
    .where('original_transaction_id', '=', transferId)
    .where('transaction_type', '=', 'reversal')
    .where('status', 'in', ['process', 'needs_review'])
    .executeTakeFirstOrThrow();
  return 0 - Number(row.total); // not -x: that would be -0 for none
}

/**
 * Connect sends (transfers and their reversals, payouts) in `process` whose send began at or before `sentBefore`, or
 * whose send time is unknown (sent before migration 0016 recorded it): oldest first, `limit` at most.
 */
export function listConnectSendsInProcess(db: Db, sentBefore: Date, limit: number): Promise<TransactionRow[]> {
  return db
    .selectFrom('transactions')
    .selectAll()
    .where('status', '=', 'process')
    .where('record_type', 'in', ['transfer', 'payout'])
    .where((eb) => eb.or([eb('sent_at', 'is', null), eb('sent_at', '<=', sentBefore)]))
    .orderBy('sent_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}
