// The Idempotency-Key for writes that cannot run inside one database transaction of the command runner because
// they start background work or call a gateway (running a job now, replaying webhook events). The key is claimed
// and left `running` while the work runs; its response is stored after it, so a repeat with the key replays the
// first response (Idempotency-Replayed: true) instead of doing the work again, a duplicate that arrives meanwhile
// is refused as in use, and a failure releases the key. This is the runner's runAction without a gateway attempt
// of its own, as the batch capture uses it: a process that dies during the work leaves the key `running`, and a
// retry with it is refused until the claim counts as abandoned.
import type { CommandResult, RunOutcome } from '../app/command-runner.js';
import type { Deps, RequestContext } from '../app/deps.js';

export async function runKeyed<T>(
  deps: Deps,
  ctx: RequestContext,
  work: () => Promise<CommandResult<T>>,
): Promise<RunOutcome<T>> {
  if (!ctx.idempotency) return { ...(await work()), replayed: false };
  return deps.commands.runAction<T, null>(
    ctx.idempotency,
    async () => ({ continuation: null }),
    async (_nothing, store) => {
      const result = await work();
      if (store) await deps.db.transaction().execute((trx) => store(trx, result));
      return result;
    },
  );
}
