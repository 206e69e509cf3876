// Payouts and their reconciliation (M2), as the API shows them: GET /v1/payouts (payout transactions with their
// reconciliation), GET /v1/payouts/{id}, GET /v1/payouts/{id}/items (the balance transactions the payout settled,
// each linked to its Settle transaction). Lists page as every list does (pagination.ts): payouts newest first,
// items in the gateway's order.
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { stateLabel, stateOf } from '../../domain/transaction-state.js';
import {
  findPayoutRow,
  listItemsPage,
  listPayoutsPage,
  type PayoutFilters,
  type PayoutListRow,
} from '../../store/payout-items-repo.js';
import type { PayoutItemRow, ReconciliationStatus } from '../../store/schema.js';
import type { Deps } from '../deps.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from '../pagination.js';

export const RECONCILIATION_STATUSES: readonly ReconciliationStatus[] = [
  'pending',
  'reconciled',
  'mismatch',
  'not_applicable',
];

const iso = (value: Date | null): string | null => (value === null ? null : new Date(value).toISOString());

export interface PayoutView {
  id: string;
  object: 'payout';
  gateway_id: string | null;
  gateway_payout: string | null;
  amount: number;
  currency: string;
  /** The payout's status at the gateway as Settle holds it: in_transit, paid, failed or canceled. */
  status: string;
  arrival_date: string | null;
  automatic: boolean | null;
  method: string | null;
  reconciliation_status: ReconciliationStatus;
  gateway_reconciliation_status: string | null;
  items_count: number;
  items_total: number;
  unmatched_count: number;
  missing_count: number;
  mismatch_reason: string | null;
  reconciled_at: string | null;
  failure_code: string | null;
  failure_message: string | null;
  /** A failed payout's funds come back inside a later payout: that payout's transaction id. */
  payout_id: string | null;
  created_at: string;
  updated_at: string;
}

function payoutStatus(row: PayoutListRow): string {
  const label = stateLabel(stateOf(row));
  if (row.status === 'failed') return 'failed';
  if (row.status === 'canceled') return 'canceled';
  if (label === 'completed/paid') return 'paid';
  if (label === 'completed/in_transit') return 'in_transit';
  return row.status;
}

export function presentPayout(row: PayoutListRow): PayoutView {
  const r = row.reconciliation;
  return {
    id: row.id,
    object: 'payout',
    gateway_id: row.gateway_id,
    gateway_payout: row.gateway_payout,
    amount: row.amount,
    currency: row.currency,
    status: payoutStatus(row),
    arrival_date: row.available_on,
    automatic: r?.automatic ?? null,
    method: r?.method ?? null,
    // A payout recorded before reconciliation existed has no row yet: pending until it is read again.
    reconciliation_status: r?.reconciliation_status ?? 'pending',
    gateway_reconciliation_status: r?.gateway_reconciliation_status ?? null,
    items_count: r?.items_count ?? 0,
    items_total: r?.items_total ?? 0,
    unmatched_count: r?.unmatched_count ?? 0,
    missing_count: r?.missing_count ?? 0,
    mismatch_reason: r?.mismatch_reason ?? null,
    reconciled_at: iso(r?.reconciled_at ?? null),
    failure_code: row.error_code,
    failure_message: row.error_message,
    payout_id: row.payout_id,
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
  };
}

export interface PayoutItemView {
  id: string;
  object: 'payout_item';
  payout_id: string;
  gateway_balance_transaction: string;
  type: string;
  reporting_category: string;
  source: string | null;
  amount: number;
  fee: number;
  net: number;
  currency: string;
  recorded_kind: boolean;
  transaction_id: string | null;
  fee_transaction_id: string | null;
  unmatched_reason: string | null;
  gateway_created_at: string;
}

export function presentItem(row: PayoutItemRow): PayoutItemView {
  return {
    id: row.id,
    object: 'payout_item',
    payout_id: row.payout_transaction_id,
    gateway_balance_transaction: row.gateway_balance_transaction,
    type: row.type,
    reporting_category: row.reporting_category,
    source: row.source,
    amount: row.amount,
    fee: row.fee,
    net: row.net,
    currency: row.currency,
    recorded_kind: row.recorded_kind,
    transaction_id: row.transaction_id,
    fee_transaction_id: row.fee_transaction_id,
    unmatched_reason: row.unmatched_reason,
    gateway_created_at: iso(row.gateway_created_at) as string,
  };
}

export interface ListPayoutsQuery {
  reconciliation_status?: string;
  limit?: number;
  starting_after?: string;
}

export async function listPayouts(deps: Pick<Deps, 'db'>, query: ListPayoutsQuery): Promise<Page<PayoutView>> {
  const limit = parseLimit(query.limit);
  const filters: PayoutFilters = {};
  if (query.reconciliation_status !== undefined) {
    const status = RECONCILIATION_STATUSES.find((s) => s === query.reconciliation_status);
    if (status === undefined)
      throw new ValidationError(
        'invalid_status',
        `reconciliation_status must be one of ${RECONCILIATION_STATUSES.join(', ')}.`,
        'reconciliation_status',
      );
    filters.reconciliationStatus = status;
  }
  const after = cursorAfter(query.starting_after, 'transaction');
  if (after !== undefined) filters.idBefore = after;
  return pageOf(await listPayoutsPage(deps.db, filters, limit), limit, presentPayout, byId);
}

/** The payout transaction `id`: 404 when there is none, 400 not_a_payout for another kind of transaction. */
export async function requirePayout(deps: Pick<Deps, 'db'>, id: string): Promise<PayoutListRow> {
  const row = await findPayoutRow(deps.db, id);
  if (!row) throw new NotFoundError('payout', id, 'id');
  if (row.record_type !== 'payout')
    throw new ValidationError('not_a_payout', `Transaction ${id} is a ${row.record_type}, not a payout.`, 'id');
  return row;
}

export async function getPayout(deps: Pick<Deps, 'db'>, id: string): Promise<PayoutView> {
  return presentPayout(await requirePayout(deps, id));
}

export async function listPayoutItems(
  deps: Pick<Deps, 'db'>,
  id: string,
  query: { limit?: number; starting_after?: string },
): Promise<Page<PayoutItemView>> {
  await requirePayout(deps, id);
  const limit = parseLimit(query.limit);
  const after = cursorAfter(query.starting_after, 'payout_item');
  return pageOf(await listItemsPage(deps.db, id, limit, after), limit, presentItem, byId);
}
