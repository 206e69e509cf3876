// Totals (R2): what the records transactions belong to show of them. The database keeps them (migration 0020: a
// statement-level trigger on transactions adds each change's difference to `totals`, per owner and currency, in the
// statement that makes it); this module names the kinds of owner and presents their entries.
//
// A new kind of parent is one table and one registration: its transactions column in OWNER_KINDS here, and the same
// column in the trigger's settle_totals_entries (a migration that replaces the function and adds the column's
// last-payment and next-due indexes).
import type { Db, TotalsRow, Tx } from '../store/schema.js';
import { TOTALS_AMOUNT_FIELDS, totalsOf } from '../store/totals-repo.js';

/** The kinds of owner whose totals the trigger keeps: the id prefix and the transactions column that names one. */
export const OWNER_KINDS = [
  { kind: 'account', prefix: 'acc', column: 'account_id' },
  { kind: 'contact', prefix: 'con', column: 'contact_id' },
  { kind: 'parent', prefix: 'par', column: 'parent_id' },
  { kind: 'invoice', prefix: 'inv', column: 'invoice_id' },
  { kind: 'order', prefix: 'ord', column: 'order_id' },
] as const;

export type OwnerKind = (typeof OWNER_KINDS)[number]['kind'];

/** One currency's entry of an owner's totals, as the API shows it: the stored row without its owner, times as text. */
export type TotalsEntryView = Omit<TotalsRow, 'owner_id' | 'last_payment_at'> & { last_payment_at: string | null };

export function presentTotalsEntry(row: TotalsRow): TotalsEntryView {
  const { owner_id: _owner, last_payment_at, ...figures } = row;
  const view = {
    ...figures,
    last_payment_at: last_payment_at === null ? null : new Date(last_payment_at).toISOString(),
  };
  // int8 columns arrive as numbers (store/database.ts); Number() keeps them so whatever the driver gives.
  for (const field of TOTALS_AMOUNT_FIELDS) view[field] = Number(view[field]);
  return view;
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

/** A record made in this database transaction has no transactions yet: its totals are the empty list. */
export const noTotalsYet = <T extends object>(fields: T): T & { totals: TotalsEntryView[] } => ({
  ...fields,
  totals: [],
});

/** Adds one record's totals (one query). */
export async function oneWithTotals<T extends { id: string }>(db: Db | Tx, fields: T) {
  const [view] = await withTotals(db, [fields]);
  return view!;
}
