// Totals (R2) and invoice balances (R3), as the database keeps them (migration 0020: the triggers on transactions and
// allocations apply each change as a delta in the statement that makes it). This file reads them, and recomputes them
// from the transactions for the auditor's check (totals_check): the recomputation sums every transaction again, which
// the triggers never do, so a delta that was lost, doubled or applied without its lock shows up as a difference.
import { sql } from 'kysely';
import type { Db, Tx } from './schema.js';
import type { TotalsRow } from './schema.js';

/** The additive fields of a totals entry, in the order api.md lists them. */
export const TOTALS_AMOUNT_FIELDS = [
  'open_amount',
  'authorized_amount',
  'captured_amount',
  'refunded_amount',
  'retained_amount',
  'non_gateway_amount',
  'written_off_amount',
  'gateway_fee',
  'net_amount',
  'disputed_amount',
  'count_open',
  'count_completed',
  'count_failed',
] as const;

/** Every owner's totals entries, by owner id, currencies in order (only the owners asked for). */
export async function totalsOf(db: Db | Tx, ownerIds: readonly string[]): Promise<Map<string, TotalsRow[]>> {
  const byOwner = new Map<string, TotalsRow[]>();
  if (ownerIds.length === 0) return byOwner;
  const rows = await db
    .selectFrom('totals')
    .selectAll()
    .where('owner_id', 'in', [...new Set(ownerIds)])
    .orderBy('owner_id')
    .orderBy('currency')
    .execute();
  for (const row of rows) {
    const list = byOwner.get(row.owner_id) ?? [];
    list.push(row);
    byOwner.set(row.owner_id, list);
  }
  return byOwner;
}

/** One field of one stored figure that differs from what the transactions say. */
export interface TotalsDifference {
  /**
   * `totals` (an owner's entry) or `invoice` (an invoice's allocated sums) or `allocation` (an applied amount), or
   * (migration 0022) `order_record` (a payment record against what its transaction and attempts say) or
   * `order_summary` (a summary's amounts against the sums of its records).
   */
  table: 'totals' | 'invoice' | 'allocation' | 'order_record' | 'order_summary';
  id: string;
  currency: string | null;
  field: string;
  stored: number | string | null;
  expected: number | string | null;
}

type Figure = number | string | null;

function normalise(value: unknown): Figure {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  const text = String(value);
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

/**
 * Recomputes every total, every invoice's allocated sums and every allocation's applied amount from the transactions,
 * and returns each field that differs from what is stored (empty when all agree). Read in one snapshot: run it inside
 * a REPEATABLE READ transaction (totalsCheck does) so that writes committing meanwhile cannot show as differences.
 */
export async function totalsDifferences(trx: Tx): Promise<TotalsDifference[]> {
  const differences: TotalsDifference[] = [];
  const fields = TOTALS_AMOUNT_FIELDS.map((f) => `coalesce(s.${f}, 0) as s_${f}, coalesce(e.${f}, 0) as e_${f}`).join(
    ', ',
  );
  const totals = await sql<Record<string, unknown>>`
    with expected as (
      select x.owner_id, x.currency,
        ${sql.raw(TOTALS_AMOUNT_FIELDS.map((f) => `sum(x.${f})::int8 as ${f}`).join(', '))},
        max(case when t.status = 'completed' and t.record_type = 'charge' and t.transaction_type = 'normal'
          and t.captured_amount > 0 and x.currency = t.currency then t.processed_at end) as last_payment_at,
        min(case when t.status = 'open' and t.record_type = 'charge' and t.transaction_type = 'normal'
          and x.currency = t.currency then t.due_date end) as next_due_date
      from transactions t cross join lateral settle_totals_entries(t) x
      group by x.owner_id, x.currency
    )
    select coalesce(s.owner_id, e.owner_id) as owner_id, coalesce(s.currency, e.currency) as currency, ${sql.raw(fields)},
      s.last_payment_at as s_last_payment_at, e.last_payment_at as e_last_payment_at,
      s.next_due_date::text as s_next_due_date, e.next_due_date::text as e_next_due_date
    from totals s full outer join expected e on e.owner_id = s.owner_id and e.currency = s.currency
    order by 1, 2`.execute(trx);
  for (const row of totals.rows) {
    for (const field of [...TOTALS_AMOUNT_FIELDS, 'last_payment_at', 'next_due_date']) {
      const stored = normalise(row[`s_${field}`]);
      const expected = normalise(row[`e_${field}`]);
      if (stored !== expected) {
        differences.push({
          table: 'totals',
          id: String(row.owner_id),
          currency: String(row.currency),
          field,
          stored,
          expected,
        });
      }
    }
  }
  const applied = await sql<{ id: string; stored: number; expected: number }>`
    select a.id, a.applied_amount as stored,
      greatest(0, least(a.amount, settle_allocatable(t)
        - (sum(a.amount) over (partition by a.transaction_id order by a.created_at, a.id) - a.amount)))::int8 as expected
    from allocations a join transactions t on t.id = a.transaction_id
    order by a.id`.execute(trx);
  for (const row of applied.rows) {
    if (Number(row.stored) !== Number(row.expected)) {
      differences.push({
        table: 'allocation',
        id: row.id,
        currency: null,
        field: 'applied_amount',
        stored: Number(row.stored),
        expected: Number(row.expected),
      });
    }
  }
  const kinds = {
    allocated_payments: 'payment',
    allocated_refunds: 'refund',
    allocated_write_offs: 'write_off',
    allocated_write_off_reversals: 'write_off_reversal',
  } as const;
  const invoices = await sql<Record<string, unknown>>`
    select i.id, i.currency, i.allocations_count as s_allocations_count,
      (select count(*) from allocations a where a.invoice_id = i.id)::int8 as e_allocations_count,
      ${sql.raw(
        Object.entries(kinds)
          .map(
            ([column, kind]) =>
              `i.${column} as s_${column}, (select coalesce(sum(a.applied_amount), 0) from allocations a
                where a.invoice_id = i.id and a.kind = '${kind}')::int8 as e_${column}`,
          )
          .join(', '),
      )}
    from invoices i order by i.id`.execute(trx);
  for (const row of invoices.rows) {
    for (const field of ['allocations_count', ...Object.keys(kinds)]) {
      const stored = normalise(row[`s_${field}`]);
      const expected = normalise(row[`e_${field}`]);
      if (stored !== expected) {
        differences.push({
          table: 'invoice',
          id: String(row.id),
          currency: String(row.currency),
          field,
          stored,
          expected,
        });
      }
    }
  }
  differences.push(...(await orderDifferences(trx)));
  return differences;
}

/** The record fields compared with what settle_order_records_of derives now. */
const RECORD_FIELDS = [
  'summary_id',
  'transaction_id',
  'kind',
  'amount',
  'status',
  'processing_mode',
  'gateway_ref_number',
  'payment_intent',
  'capturable',
] as const;
/** The summary fields that are sums over its records (migration 0022, SUMMARY_FIELDS). */
const SUMMARY_SUMS = {
  authorized_amount: `sum(r.amount) filter (where r.kind = 'authorization' and r.status = 'processed')`,
  captured_amount: `sum(r.amount) filter (where r.kind = 'payment' and r.status = 'processed')`,
  refunded_amount: `sum(r.amount) filter (where r.kind = 'refund' and r.status = 'processed')`,
  pending_amount: `sum(r.amount) filter (where r.status = 'pending')`,
  available_to_capture: `sum(r.capturable)`,
  refunding_amount: `sum(r.amount) filter (where r.kind = 'refund' and r.status = 'pending')`,
} as const;

/**
 * Migration 0022: every order payment record re-derived from its transaction and attempts (a record missing or one
 * too many shows as `exists`), and every summary's amounts recomputed from its records.
 */
async function orderDifferences(trx: Tx): Promise<TotalsDifference[]> {
  const differences: TotalsDifference[] = [];
  const columns = RECORD_FIELDS.map((f) => `s.${f} as s_${f}, e.${f} as e_${f}`).join(', ');
  const records = await sql<Record<string, unknown>>`
    with expected as (
      select r.* from transactions t cross join lateral settle_order_records_of(t) r where t.order_id is not null
    )
    select coalesce(s.id, e.id) as id, (s.id is not null) as s_exists, (e.id is not null) as e_exists, ${sql.raw(columns)}
    from order_payment_records s full outer join expected e on e.id = s.id
    order by 1`.execute(trx);
  for (const row of records.rows) {
    for (const field of ['exists', ...RECORD_FIELDS]) {
      const stored = normalise(row[`s_${field}`]);
      const expected = normalise(row[`e_${field}`]);
      if (stored !== expected && (field === 'exists' || (row.s_exists === true && row.e_exists === true))) {
        differences.push({ table: 'order_record', id: String(row.id), currency: null, field, stored, expected });
      }
    }
  }
  const sums = Object.entries(SUMMARY_SUMS)
    .map(
      ([field, sum]) => `s.${field} as s_${field}, coalesce((select ${sum} from order_payment_records r
      where r.summary_id = s.id), 0)::int8 as e_${field}`,
    )
    .join(', ');
  const summaries = await sql<Record<string, unknown>>`
    select s.id, s.currency, ${sql.raw(sums)} from order_payment_summaries s order by s.id`.execute(trx);
  for (const row of summaries.rows) {
    for (const field of Object.keys(SUMMARY_SUMS)) {
      const stored = normalise(row[`s_${field}`]);
      const expected = normalise(row[`e_${field}`]);
      if (stored !== expected) {
        differences.push({
          table: 'order_summary',
          id: String(row.id),
          currency: String(row.currency),
          field,
          stored,
          expected,
        });
      }
    }
  }
  return differences;
}
