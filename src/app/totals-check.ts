// The auditor's check (issue 19 item 6): every total, every invoice's allocated sums and every allocation's applied
// amount recomputed from the transactions (store/totals-repo.ts totalsDifferences) and compared with what the
// triggers of migration 0020 keep, in one REPEATABLE READ read-only snapshot, so writes committing meanwhile never show
// as differences. It should always find none. The totals_check job (jobs/definitions.ts) and `settle check` run it.
import { inReadOnlySnapshot } from '../store/read-snapshot.js';
import type { Db } from '../store/schema.js';
import { countTotalsChecked, type TotalsCheckedCounts } from '../store/totals-check-repo.js';
import { type TotalsDifference, totalsDifferences } from '../store/totals-repo.js';

export interface TotalsCheckReport extends TotalsCheckedCounts {
  differences: TotalsDifference[];
}

export function checkTotals(db: Db): Promise<TotalsCheckReport> {
  return inReadOnlySnapshot(db, async (trx) => {
    const differences = await totalsDifferences(trx);
    return { ...(await countTotalsChecked(trx)), differences };
  });
}

/** One difference on one line, e.g. `totals acc_... USD captured_amount: stored 1001, expected 1000`. */
export function describeDifference(d: TotalsDifference): string {
  const what = [d.table, d.id, d.currency].filter((part) => part !== null).join(' ');
  return `${what} ${d.field}: stored ${String(d.stored)}, expected ${String(d.expected)}`;
}

/** How many records (an owner's entry in one currency, an invoice, an allocation) have at least one difference. */
export function recordsDiffering(report: TotalsCheckReport): number {
  return new Set(report.differences.map((d) => `${d.table} ${d.id} ${d.currency ?? ''}`)).size;
}

export function totalsCheckSummary(report: TotalsCheckReport): string {
  const checked = `${report.owners} owners, ${report.invoices} invoices, ${report.allocations} allocations, ${report.order_summaries} order payment summaries checked`;
  if (report.differences.length === 0) return `totals agree: ${checked}`;
  return `totals differ: ${report.differences.length} difference(s) in ${recordsDiffering(report)} record(s); ${checked}`;
}
