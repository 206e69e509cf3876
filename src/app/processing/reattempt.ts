// P8: a failed transaction is never retried in place (the gateway keeps its ids and its decline); a reattempt is a
// new open transaction cloned from it, linked by reattempt_of_id and numbered. One reattempt per failed
// transaction: a second would be a second charge for the same debt.
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { insertTransaction, lockTransaction } from '../../store/transactions-repo.js';
import { type Deps, type RequestContext, today } from '../deps.js';
import { buildNewTransaction, cloneInput } from '../transactions/create-transaction.js';
import { presentTransaction, type TransactionView } from '../transactions/present.js';
import { requireState } from './run-action.js';

export async function reattemptTransaction(deps: Deps, ctx: RequestContext, id: string) {
  const day = await today(deps);
  return deps.commands.run<TransactionView>(ctx.idempotency, async (trx) => {
    const source = await lockTransaction(trx, id);
    if (!source) throw new NotFoundError('transaction', id);
    requireState(source, 'reattempt', ['failed']);
    const existing = await trx.selectFrom('transactions').select('id').where('reattempt_of_id', '=', id).executeTakeFirst();
    if (existing) {
      throw new ConflictError('already_reattempted', `Transaction ${id} was already reattempted by ${existing.id}; reattempt that one if it fails too.`);
    }
    const { row, paymentMethod } = await buildNewTransaction(deps, trx, cloneInput(source));
    let inserted;
    try {
      inserted = await insertTransaction(
        trx,
        { ...row, gateway_id: source.gateway_id, reattempt_of_id: source.id, reattempt_number: source.reattempt_number + 1 },
        ctx.actor,
        `reattempt of ${source.id}`,
      );
    } catch (error) {
      // The reattempts job (which reads without this lock) created it a moment ago: one reattempt per failure.
      if ((error as { code?: unknown }).code === '23505') {
        throw new ConflictError('already_reattempted', `Transaction ${id} was just reattempted by the reattempts job; see its reattempt (reattempt_of_id ${id}).`);
      }
      throw error;
    }
    return { status: 201, body: presentTransaction(inserted, paymentMethod, day) };
  });
}
