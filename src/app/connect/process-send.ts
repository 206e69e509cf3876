// Connect (M6): `POST /v1/transactions/{id}/process` sends an open transfer (transfers.ts) or an open payout on a
// connected account (payouts-send.ts). The record type never changes, so it is read without a lock to choose the use
// case; each use case locks the row and checks everything again in its own tx1. Any other record type gets the
// transfer's answer (400 not_a_transfer), as before payouts could be sent.
import { NotFoundError } from '../../domain/errors.js';
import { findTransaction } from '../../store/transactions-repo.js';
import type { Deps, RequestContext } from '../deps.js';
import type { TransactionView } from '../transactions/present.js';
import { processPayout } from './payouts-send.js';
import { processTransfer } from './transfers.js';

export async function processSend(
  deps: Deps,
  ctx: RequestContext,
  id: string,
): Promise<{ status: number; body: TransactionView }> {
  const row = await findTransaction(deps.db, id);
  if (!row) throw new NotFoundError('transaction', id, 'id');
  return row.record_type === 'payout' ? processPayout(deps, ctx, id) : processTransfer(deps, ctx, id);
}
