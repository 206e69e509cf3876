// Dispute records (M7), kept by the webhook processor (webhooks/sync-dispute.ts): read-only through the API.
import { DISPUTE_STATUSES } from '../domain/disputes.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { type DisputeFilters, findDispute, listDisputesPage } from '../store/disputes-repo.js';
import type { DisputeRow } from '../store/schema.js';
import type { Deps } from './deps.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';

export interface DisputeView {
  id: string;
  object: 'dispute';
  gateway_id: string;
  gateway_dispute: string;
  transaction_id: string;
  status: DisputeRow['status'];
  reason: string;
  amount: number;
  currency: string;
  amount_withdrawn: number;
  amount_reinstated: number;
  fee: number;
  fee_reinstated: number;
  evidence_due_by: string | null;
  is_charge_refundable: boolean;
  gateway_created_at: string;
  closed_at: string | null;
  created_at: string;
  updated_at: string;
}

const iso = (value: Date | null): string | null => (value === null ? null : new Date(value).toISOString());

export function presentDispute(row: DisputeRow): DisputeView {
  return {
    id: row.id,
    object: 'dispute',
    gateway_id: row.gateway_id,
    gateway_dispute: row.gateway_dispute,
    transaction_id: row.transaction_id,
    status: row.status,
    reason: row.reason,
    amount: row.amount,
    currency: row.currency,
    amount_withdrawn: row.amount_withdrawn,
    amount_reinstated: row.amount_reinstated,
    fee: row.fee,
    fee_reinstated: row.fee_reinstated,
    evidence_due_by: iso(row.evidence_due_by),
    is_charge_refundable: row.is_charge_refundable,
    gateway_created_at: iso(row.gateway_created_at) as string,
    closed_at: iso(row.closed_at),
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
  };
}

export { DISPUTE_STATUSES };

export interface ListDisputesQuery {
  transaction_id?: string;
  gateway_dispute?: string;
  status?: string;
  limit?: number;
  starting_after?: string;
}

export async function listDisputes(deps: Pick<Deps, 'db'>, query: ListDisputesQuery): Promise<Page<DisputeView>> {
  const limit = parseLimit(query.limit);
  if (query.status !== undefined && !(DISPUTE_STATUSES as readonly string[]).includes(query.status)) {
    throw new ValidationError('invalid_status', `status must be one of ${DISPUTE_STATUSES.join(', ')}.`, 'status');
  }
  const filters: DisputeFilters = {};
  if (query.transaction_id !== undefined) filters.transactionId = query.transaction_id;
  if (query.gateway_dispute !== undefined) filters.gatewayDispute = query.gateway_dispute;
  if (query.status !== undefined) filters.status = query.status as DisputeRow['status'];
  const after = cursorAfter(query.starting_after, 'dispute');
  if (after !== undefined) filters.idBefore = after;
  return pageOf(await listDisputesPage(deps.db, filters, limit), limit, presentDispute, byId);
}

export async function getDispute(deps: Pick<Deps, 'db'>, id: string): Promise<DisputeView> {
  const row = await findDispute(deps.db, id);
  if (!row) throw new NotFoundError('dispute', id);
  return presentDispute(row);
}
