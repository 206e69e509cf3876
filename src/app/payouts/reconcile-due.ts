// The payout_reconciliation job (M2): reconciles every payout whose reconciliation is due (its webhook or a read
// found Stripe's own reconciliation completed, or the payout failed), oldest first. One payout's failure (the gateway
// unreachable, ...) is counted and reported; the payout stays due and the next run tries it again.
import { isSettleError } from '../../domain/errors.js';
import { dueReconciliations } from '../../store/payout-items-repo.js';
import type { JobRunError } from '../../store/schema.js';
import type { Deps } from '../deps.js';
import { reconcilePayout } from './reconcile-payout.js';

/** Payouts taken per run (each may be 100,000 items; the next run takes the rest). */
const PER_RUN = 50;

export async function runPayoutReconciliation(
  deps: Deps,
  actor: string,
): Promise<{
  picked: number;
  succeeded: number;
  failed: number;
  skipped: number;
  errors: JobRunError[];
  summary: string;
}> {
  const due = await dueReconciliations(deps.db, PER_RUN);
  const errors: JobRunError[] = [];
  const verdicts: Record<string, number> = {};
  let succeeded = 0;
  for (const id of due) {
    try {
      const report = await reconcilePayout(deps, actor, id);
      verdicts[report.reconciliation_status] = (verdicts[report.reconciliation_status] ?? 0) + 1;
      succeeded += 1;
    } catch (error) {
      errors.push({
        transaction_id: id,
        code: isSettleError(error) ? error.code : 'internal_error',
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
  const counts = Object.entries(verdicts)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  return {
    picked: due.length,
    succeeded,
    failed: errors.length,
    skipped: 0,
    errors,
    summary: `${due.length} payout(s) due: ${counts || 'none reconciled'}${errors.length > 0 ? `; ${errors.length} failed` : ''}.`,
  };
}
