// Totals (R2): what the records transactions belong to show of them. The database keeps them (migration 0020: a
// statement-level trigger on transactions adds each change's difference to `totals`, per owner and currency, in the
// statement that makes it); this module names the kinds of owner and presents their entries.
//
// A new kind of parent is one table and one registration: its transactions column in OWNER_KINDS here, and the same
// column in the trigger's settle_totals_entries (a migration that replaces the function and adds the column's
// last-payment and next-due indexes).
import type { Db, TotalsRow, Tx } from '../store/schema.js';
import { totalsOf } from '../store/totals-repo.js';

/** The kinds of owner whose totals the trigger keeps: the id prefix and the transactions column that names one. */
export const OWNER_KINDS = [
  { kind: 'account', prefix: 'acc', column: 'account_id' },
  { kind: 'contact', prefix: 'con', column: 'contact_id' },
  { kind: 'parent', prefix: 'par', column: 'parent_id' },
  { kind: 'invoice', prefix: 'inv', column: 'invoice_id' },
] as const;

export type OwnerKind = (typeof OWNER_KINDS)[number]['kind'];

/** One currency's entry of an owner's totals, as the API shows it. */
export interface TotalsEntryView {
  currency: string;
  open_amount: number;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  retained_amount: number;
  non_gateway_amount: number;
  written_off_amount: number;
  gateway_fee: number;
  net_amount: number;
  disputed_amount: number;
  count_open: number;
  count_completed: number;
  count_failed: number;
  last_payment_at: string | null;
  next_due_date: string | null;
}

export function presentTotalsEntry(row: TotalsRow): TotalsEntryView {
  return {
    currency: row.currency,
    open_amount: Number(row.open_amount),
    authorized_amount: Number(row.authorized_amount),
    captured_amount: Number(row.captured_amount),
    refunded_amount: Number(row.refunded_amount),
    retained_amount: Number(row.retained_amount),
    non_gateway_amount: Number(row.non_gateway_amount),
    written_off_amount: Number(row.written_off_amount),
    gateway_fee: Number(row.gateway_fee),
    net_amount: Number(row.net_amount),
    disputed_amount: Number(row.disputed_amount),
    count_open: Number(row.count_open),
    count_completed: Number(row.count_completed),
    count_failed: Number(row.count_failed),
    last_payment_at: row.last_payment_at === null ? null : new Date(row.last_payment_at).toISOString(),
    next_due_date: row.next_due_date,
  };
}

/** The totals of each owner asked for (an owner with no transactions has an empty list), in one query. */
export async function totalsByOwner(db: Db | Tx, ownerIds: readonly string[]): Promise<Map<string, TotalsEntryView[]>> {
  const rows = await totalsOf(db, ownerIds);
  const views = new Map<string, TotalsEntryView[]>();
  for (const id of ownerIds) views.set(id, (rows.get(id) ?? []).map(presentTotalsEntry));
  return views;
}

/** Adds `totals` to each record of a page (or a single record) in one query. */
export async function withTotals<T extends { id: string }>(
  db: Db | Tx,
  records: readonly T[],
): Promise<(T & { totals: TotalsEntryView[] })[]> {
  const totals = await totalsByOwner(
    db,
    records.map((r) => r.id),
  );
  return records.map((r) => ({ ...r, totals: totals.get(r.id) ?? [] }));
}
