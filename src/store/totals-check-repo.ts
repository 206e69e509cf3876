// What the auditor's totals check (app/totals-check.ts) went through, for its report: the owners with totals, the
// invoices, the allocations and the order payment summaries. Read in the check's own snapshot (read-snapshot.ts).
import { sql } from 'kysely';
import type { Tx } from './schema.js';

export interface TotalsCheckedCounts {
  owners: number;
  invoices: number;
  allocations: number;
  /** Migration 0022: order payment summaries (their records are checked with them). */
  order_summaries: number;
}

export async function countTotalsChecked(trx: Tx): Promise<TotalsCheckedCounts> {
  const { rows } = await sql<TotalsCheckedCounts>`
    select (select count(distinct owner_id) from totals)::int8 as owners,
      (select count(*) from invoices)::int8 as invoices,
      (select count(*) from allocations)::int8 as allocations,
      (select count(*) from order_payment_summaries)::int8 as order_summaries`.execute(trx);
  const row = rows[0]!;
  return {
    owners: Number(row.owners),
    invoices: Number(row.invoices),
    allocations: Number(row.allocations),
    order_summaries: Number(row.order_summaries),
  };
}
