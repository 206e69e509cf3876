// P10: capture up to 200 chosen transactions in one request, with a result per id. Each capture is the ordinary
// exactly-once action (so a batch sent twice never captures anything twice: the second finds them captured); a
// few run at once, within the gateway's rate limit, which the adapter enforces.
import { isSettleError, type SettleError, ValidationError } from '../../domain/errors.js';
import type { CommandResult } from '../command-runner.js';
import type { Deps, RequestContext } from '../deps.js';
import type { TransactionView } from '../transactions/present.js';
import { captureTransaction } from './actions.js';

export const MAX_BATCH_IDS = 200;
const CONCURRENCY = 4;

export type BatchItemResult =
  { id: string; result: CommandResult<TransactionView> } | { id: string; error: SettleError };

export function parseBatchIds(ids: unknown): string[] {
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BATCH_IDS) {
    throw new ValidationError('invalid_ids', `'ids' must list 1 to ${MAX_BATCH_IDS} transaction ids.`, 'ids');
  }
  const seen = new Set<string>();
  for (const [index, id] of ids.entries()) {
    if (typeof id !== 'string' || id === '')
      throw new ValidationError('invalid_ids', `'ids[${index}]' must be a transaction id.`, `ids.${index}`);
    if (seen.has(id)) throw new ValidationError('duplicate_ids', `'ids' lists ${id} more than once.`, `ids.${index}`);
    seen.add(id);
  }
  return ids as string[];
}

/** Captures each id (full amount) and reports each result in the order given. Never throws for one item. */
export async function captureBatch(deps: Deps, ctx: RequestContext, ids: string[]): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ids.length; i = next++) {
      const id = ids[i]!;
      try {
        const outcome = await captureTransaction(deps, { actor: ctx.actor }, id, {});
        results[i] = { id, result: { status: outcome.status, body: outcome.body } };
      } catch (error) {
        if (!isSettleError(error)) throw error;
        results[i] = { id, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
  return results;
}

/** The batch request: ids parsed, captures run, `present` shapes the per-id results; Idempotency-Key honoured. */
export function runBatchCapture<T>(
  deps: Deps,
  ctx: RequestContext,
  input: { ids?: unknown },
  present: (items: BatchItemResult[]) => T,
) {
  const ids = parseBatchIds(input.ids);
  return deps.commands.runAction<T, null>(
    ctx.idempotency,
    () => Promise.resolve({ continuation: null }),
    async (_nothing, store) => {
      const result = { status: 200, body: present(await captureBatch(deps, ctx, ids)) };
      if (store) await deps.db.transaction().execute((trx) => store(trx, result));
      return result;
    },
  );
}
