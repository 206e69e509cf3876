// What the reattempts job (S2, P8; src/jobs/reattempts.ts) reads: when reattempts were switched on, and the failed
// charges that may be reattempted now. The rule itself (soft declines, the day gaps) is domain/reattempts.ts; this
// is its fast, indexed first cut in SQL, checked again on each row.
import { type Kysely, sql } from 'kysely';
import { DO_NOT_RETRY_ADVICE, HARD_DECLINE_CODES } from '../domain/reattempts.js';
import type { Database, TransactionRow } from './schema.js';

type Db = Kysely<Database>;

/** When reattempts were last switched on (the `reattempts_enabled` setting's last write), or null while they are off. */
export async function reattemptsEnabledSince(db: Db): Promise<Date | null> {
  const row = await db
    .selectFrom('settings')
    .select(['value', 'updated_at'])
    .where('key', '=', 'reattempts_enabled')
    .executeTakeFirst();
  return row && row.value === true ? new Date(row.updated_at) : null;
}

/** Failed charges that may be reattempted now (soft declines, no reattempt yet, attempts left), oldest first. */
function selectReattemptable(
  db: Db,
  input: { since: Date; nonAutoProcess: boolean; maxAttempts: number; limit: number },
) {
  return db
    .selectFrom('transactions as t')
    .selectAll('t')
    .where('t.status', '=', 'failed')
    .where('t.record_type', '=', 'charge')
    .where('t.transaction_type', '=', 'normal')
    .where('t.non_gateway', '=', false)
    .$if(!input.nonAutoProcess, (q) => q.where('t.auto_process', '=', true))
    .where('t.reattempt_number', '<', input.maxAttempts)
    .where('t.processed_at', '>=', input.since)
    .where('t.error_type', '=', 'card_error')
    .where(sql<boolean>`coalesce(t.decline_code, '') <> all(${sql.val([...HARD_DECLINE_CODES])}::text[])`)
    .where(sql<boolean>`coalesce(t.error_code, '') <> all(${sql.val([...HARD_DECLINE_CODES])}::text[])`)
    .where(sql<boolean>`coalesce(t.advice_code, '') <> ${DO_NOT_RETRY_ADVICE}`)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('transactions as r')
            .select(sql`1`.as('one'))
            .whereRef('r.reattempt_of_id', '=', 't.id'),
        ),
      ),
    )
    .orderBy('t.processed_at')
    .orderBy('t.id')
    .limit(input.limit);
}

/** The failed charges selectReattemptable picks. */
export async function findReattemptable(
  db: Db,
  input: { since: Date; nonAutoProcess: boolean; maxAttempts: number; limit: number },
): Promise<TransactionRow[]> {
  return await selectReattemptable(db, input).execute();
}
