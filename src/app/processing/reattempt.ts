// P8, S2: the one place that decides whether a failed transaction may be reattempted, and builds the reattempt. A
// failed transaction is never retried in place (the gateway keeps its ids and its decline); a reattempt is a new
// open transaction cloned from it, linked by reattempt_of_id and numbered. Both ways in follow the same rules:
// - by hand (POST /v1/transactions/{id}/reattempt): any failed transaction except a hard decline (S2: never);
// - by the reattempts job (jobs/reattempts.ts, which only selects candidates): also only a soft decline of a gateway
//   charge with gaps left (domain/reattempts.ts scheduledReattempt), as an auto-process charge due on the gap's day.
// One reattempt per failed transaction: a second would be a second charge for the same debt.
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { hardDeclineRefusal, scheduledReattempt } from '../../domain/reattempts.js';
import { isViolationOf } from '../../store/constraint-errors.js';
import { findReattemptOf, insertTransaction, lockTransaction } from '../../store/transactions-repo.js';
import { dateInZone } from '../clock.js';
import type { Deps, RequestContext } from '../deps.js';
import { buildNewTransaction, cloneInput } from '../transactions/create-transaction.js';
import { presentTransaction, type TransactionView } from '../transactions/present.js';
import { requireState } from './run-action.js';

/** The reattempts job's call: the schedule of the settings applies (gaps, non-auto-process failures). */
export interface ScheduledCall {
  scheduled: true;
  /** When reattempts were last switched on: failures before it are not reattempted on a schedule. */
  since: Date;
}

/** Error codes of a refusal that only says this transaction gets no reattempt now (the job counts them as skipped). */
export const NO_REATTEMPT_CODES: readonly string[] = Object.freeze([
  'already_reattempted',
  'hard_decline',
  'not_scheduled',
  'unexpected_state',
  'resource_missing',
]);

export async function reattemptTransaction(deps: Deps, ctx: RequestContext, id: string, call?: ScheduledCall) {
  const settings = await deps.settings.get();
  const day = dateInZone(deps.clock.now(), settings.timezone);
  return deps.commands.run<TransactionView>(ctx.idempotency, async (trx) => {
    // The failed transaction's row lock first, whichever way the reattempt comes: two of them then follow each other,
    // and the second sees the first's reattempt. (Without it, each could hold what the other's insert waits for: the
    // row's key lock for the foreign key, and the unique index entry.)
    const source = await lockTransaction(trx, id);
    if (!source) throw new NotFoundError('transaction', id);
    requireState(source, 'reattempt', ['failed']);
    const existing = await findReattemptOf(trx, id);
    if (existing !== undefined) {
      throw new ConflictError(
        'already_reattempted',
        `Transaction ${id} was already reattempted by ${existing}; reattempt that one if it fails too.`,
      );
    }
    const hard = hardDeclineRefusal(source);
    if (hard !== null) throw new ConflictError('hard_decline', hard);
    let input = cloneInput(source);
    let note = `reattempt of ${source.id}`;
    if (call?.scheduled) {
      if (source.processed_at === null)
        throw new ConflictError('not_scheduled', `Transaction ${id} has no failure time to count the gap from.`);
      const failedAt = new Date(source.processed_at);
      const plan = scheduledReattempt(source, {
        gaps: settings.reattempt_day_gaps,
        nonAutoProcess: settings.reattempts_non_auto_process,
        failedAt,
        since: call.since,
        failedOn: dateInZone(failedAt, settings.timezone),
        today: day,
      });
      if ('skip' in plan) throw new ConflictError('not_scheduled', plan.skip);
      input = { ...input, auto_process: true, date_to_process: plan.due };
      const failed = source.decline_code ?? source.error_code ?? 'declined';
      note = `reattempt ${source.reattempt_number + 1} of ${source.id} (failed: ${failed}), due ${plan.due}`;
    }
    const { row, paymentMethod } = await buildNewTransaction(deps, trx, input);
    let inserted;
    try {
      inserted = await insertTransaction(
        trx,
        {
          ...row,
          gateway_id: source.gateway_id,
          reattempt_of_id: source.id,
          // A reattempt pays what its original was for: the same invoice (a new allocation) and schedule.
          invoice_id: source.invoice_id,
          schedule_id: source.schedule_id,
          reattempt_number: source.reattempt_number + 1,
        },
        ctx.actor,
        note,
      );
    } catch (error) {
      // Another reattempt of it committed between our read and our insert (the unique index, by name).
      if (isViolationOf(error, ['transactions_one_reattempt'])) {
        throw new ConflictError(
          'already_reattempted',
          `Transaction ${id} was just reattempted by another request or the reattempts job; see its reattempt (reattempt_of_id ${id}).`,
        );
      }
      throw error;
    }
    return { status: 201, body: presentTransaction(inserted, paymentMethod, day) };
  });
}
