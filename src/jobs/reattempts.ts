// The reattempts job (S2, P8): a charge that failed with a soft decline gets a new open auto-process transaction,
// cloned from it and linked (reattempt_of_id, reattempt_number + 1), due `reattempt_day_gaps[n]` days after the
// failure, until the gaps are used up. Hard declines never (domain/reattempts.ts). The job sweeps failures instead
// of hooking every path that can fail a charge (an API call, a scheduled run, a bank debit bouncing days later
// through a webhook): whatever failed it, the next sweep sees it, and a crash between the failure and the sweep
// loses nothing. One reattempt per failure is a unique index, so a sweep racing a person's reattempt, or another
// worker's sweep, cannot create two.
//
// Only failures after reattempts were switched on are reattempted (the time the `reattempts_enabled` setting was
// last written): switching the setting on must not charge every customer who ever failed.
import { type Kysely, sql } from 'kysely';
import { HARD_DECLINE_CODES, DO_NOT_RETRY_ADVICE, isSoftDecline, reattemptDueDate } from '../domain/reattempts.js';
import type { Database, TransactionRow } from '../store/schema.js';
import { insertTransaction, lockTransaction } from '../store/transactions-repo.js';
import { dateInZone } from '../app/clock.js';
import type { Deps, RequestContext } from '../app/deps.js';
import { isSettleError } from '../domain/errors.js';
import { buildNewTransaction, cloneInput } from '../app/transactions/create-transaction.js';
import type { RunCounts } from './job-runs.js';

type Db = Kysely<Database>;

/** When reattempts were last switched on, or null while they are off. */
async function enabledSince(db: Db): Promise<Date | null> {
  const row = await db.selectFrom('settings').select(['value', 'updated_at']).where('key', '=', 'reattempts_enabled').executeTakeFirst();
  return row && row.value === true ? new Date(row.updated_at) : null;
}

/** Failed charges that may be reattempted now (soft declines, no reattempt yet, attempts left), oldest first. */
export function selectReattemptable(db: Db, input: { since: Date; nonAutoProcess: boolean; maxAttempts: number; limit: number }) {
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
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('transactions as r').select(sql`1`.as('one')).whereRef('r.reattempt_of_id', '=', 't.id'))))
    .orderBy('t.processed_at')
    .orderBy('t.id')
    .limit(input.limit);
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** Creates the reattempts that are due to exist; counts: picked (failures seen), succeeded (created), skipped. */
export async function createReattempts(deps: Deps, ctx: RequestContext, limit = 1000): Promise<RunCounts> {
  const counts: RunCounts = { picked: 0, succeeded: 0, failed: 0, skipped: 0, errors: [] };
  const settings = await deps.settings.get();
  if (!settings.reattempts_enabled) return counts;
  const since = await enabledSince(deps.db);
  if (since === null) return counts;
  const gaps = settings.reattempt_day_gaps;
  const today = dateInZone(deps.clock.now(), settings.timezone);
  const failures = await selectReattemptable(deps.db, { since, nonAutoProcess: settings.reattempts_non_auto_process, maxAttempts: gaps.length, limit }).execute();
  for (const source of failures as TransactionRow[]) {
    counts.picked += 1;
    if (!isSoftDecline(source) || source.processed_at === null) {
      counts.skipped += 1;
      continue;
    }
    const due = reattemptDueDate(dateInZone(new Date(source.processed_at), settings.timezone), source.reattempt_number, gaps, today);
    if (due === null) {
      counts.skipped += 1;
      continue;
    }
    try {
      const created = await deps.db.transaction().execute(async (trx) => {
        // The failed charge's row lock first, as a reattempt by hand takes it: the two then follow each other, and
        // the second sees the first's reattempt. (Without it, each could hold what the other's insert waits for: the
        // row's key lock for the foreign key, and the unique index entry.)
        const locked = await lockTransaction(trx, source.id);
        if (!locked || locked.status !== 'failed') return false;
        const existing = await trx.selectFrom('transactions').select('id').where('reattempt_of_id', '=', source.id).executeTakeFirst();
        if (existing) return false;
        const { row } = await buildNewTransaction(deps, trx, { ...cloneInput(source), auto_process: true, date_to_process: due });
        await insertTransaction(
          trx,
          { ...row, gateway_id: source.gateway_id, reattempt_of_id: source.id, reattempt_number: source.reattempt_number + 1 },
          ctx.actor,
          `reattempt ${source.reattempt_number + 1} of ${source.id} (failed: ${source.decline_code ?? source.error_code ?? 'declined'}), due ${due}`,
        );
        return true;
      });
      counts[created ? 'succeeded' : 'skipped'] += 1;
    } catch (error) {
      if (isUniqueViolation(error)) {
        counts.skipped += 1; // reattempted meanwhile (by a person or another worker)
        continue;
      }
      counts.failed += 1;
      counts.errors.push({
        transaction_id: source.id,
        code: isSettleError(error) ? error.code : 'internal_error',
        message: `Could not create its reattempt: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  return counts;
}
