// DELETE /v1/transactions/{id} (L9): only a transaction that never touched a gateway, unless the
// validations setting is off (data repair). An in-flight one and one that others point to never go.
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { TransactionRow } from '../../store/schema.js';
import { deleteTransactionRow, findTransaction, hasDependents } from '../../store/transactions-repo.js';
import type { Deps, RequestContext } from '../deps.js';

/** L9: it has a gateway id or a gateway error. */
export function touchedGateway(row: TransactionRow): boolean {
  return (
    row.gateway_id !== null ||
    row.gateway_payment_intent !== null ||
    row.gateway_charge !== null ||
    row.gateway_refund !== null ||
    row.gateway_balance_transaction !== null ||
    row.error_code !== null ||
    row.error_message !== null ||
    row.processing_mode === 'external'
  );
}

export async function deleteTransaction(deps: Deps, ctx: RequestContext, id: string) {
  const settings = await deps.settings.get();
  return deps.commands.run(ctx.idempotency, async (trx) => {
    const row = await findTransaction(trx, id);
    if (!row) throw new NotFoundError('transaction', id);
    if (row.status === 'process') {
      throw new ConflictError(
        'transaction_in_flight',
        'This transaction is being processed by the gateway and cannot be deleted.',
      );
    }
    if (settings.validations_enabled && touchedGateway(row)) {
      throw new ConflictError(
        'transaction_protected',
        'This transaction has touched the gateway and is kept as a mirror of it; cancel it instead if it is open. (An admin can turn validations_enabled off for data repair.)',
      );
    }
    if (await hasDependents(trx, id)) {
      throw new ConflictError(
        'transaction_has_dependents',
        'Refunds or reattempts point to this transaction; it cannot be deleted.',
      );
    }
    if (!(await deleteTransactionRow(trx, row, ctx.actor))) {
      throw new ConflictError(
        'concurrent_update',
        'The transaction changed while it was being deleted; retry the request.',
      );
    }
    return { status: 200, body: { id, object: 'transaction', deleted: true } };
  });
}
