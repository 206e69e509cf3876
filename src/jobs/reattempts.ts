// The reattempts job (S2, P8): a charge that failed with a soft decline gets a new open auto-process transaction,
// cloned from it and linked (reattempt_of_id, reattempt_number + 1), due `reattempt_day_gaps[n]` days after the
// failure, until the gaps are used up. Hard declines never. The job only selects candidates: whether one gets its
// reattempt, and the reattempt itself, belong to the reattempt use case (app/processing/reattempt.ts), as by hand.
// It sweeps failures instead of hooking every path that can fail a charge (an API call, a scheduled run, a bank
// debit bouncing days later through a webhook): whatever failed it, the next sweep sees it, and a crash between the
// failure and the sweep loses nothing. One reattempt per failure is a unique index, so a sweep racing a person's
// reattempt, or another worker's sweep, cannot create two.
//
// Only failures after reattempts were switched on are reattempted (the time the `reattempts_enabled` setting was
// last written): switching the setting on must not charge every customer who ever failed.
import { NO_REATTEMPT_CODES, reattemptTransaction } from '../app/processing/reattempt.js';
import { findReattemptable, reattemptsEnabledSince } from '../store/reattempt-selections.js';
import type { Deps, RequestContext } from '../app/deps.js';
import { isSettleError } from '../domain/errors.js';
import type { RunCounts } from './job-runs.js';

/** Creates the reattempts that are due to exist; counts: picked (failures seen), succeeded (created), skipped. */
export async function createReattempts(deps: Deps, ctx: RequestContext, limit = 1000): Promise<RunCounts> {
  const counts: RunCounts = { picked: 0, succeeded: 0, failed: 0, skipped: 0, errors: [] };
  const settings = await deps.settings.get();
  if (!settings.reattempts_enabled) return counts;
  const since = await reattemptsEnabledSince(deps.db);
  if (since === null) return counts;
  const failures = await findReattemptable(deps.db, {
    since,
    nonAutoProcess: settings.reattempts_non_auto_process,
    maxAttempts: settings.reattempt_day_gaps.length,
    limit,
  });
  for (const source of failures) {
    counts.picked += 1;
    // The use case decides, under the failed row's lock, with the same rules as a reattempt by hand plus the schedule.
    try {
      await reattemptTransaction(deps, ctx, source.id, { scheduled: true, since });
      counts.succeeded += 1;
    } catch (error) {
      if (isSettleError(error) && NO_REATTEMPT_CODES.includes(error.code)) {
        counts.skipped += 1; // not due, or reattempted meanwhile (by a person or another worker)
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
